-- start.lua: record that a worker starts running a blocking step of a task
-- (store.Store.StartStep): write the task's records only while its token
-- is still at the task's sequence and the run is running, the fence
-- apply.lua checks for the task's completion.
--
-- KEYS[1] the run's header hash, [2] its tokens hash, [3] its records hash
-- (they share the partition's hash tag, so one Cluster slot).
-- ARGV[1] token, [2] seq, then (field json hasStarted)* as in apply.lua's
-- BODY: a record written without a Started ("0") keeps the stored one.
--
-- Returns 1 when the records were written, 0 when the fence did not hold.
-- A running record written here needs no bookkeeping of its own: the end of
-- the run (apply.lua, end_run) looks at every record of the run.

if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
local set = {}
for i = 3, #ARGV, 3 do
  local f, v = ARGV[i], ARGV[i + 1]
  if ARGV[i + 2] ~= '1' then
    -- As in apply.lua: the times come first in a stored record.
    local old = redis.call('HGET', KEYS[3], f)
    local st = old and string.match(old, '^{"started":"([^"]*)"')
    if st then v = '{"started":"' .. st .. '",' .. string.sub(v, 2) end
  end
  set[#set + 1] = f
  set[#set + 1] = v
end
if #set > 0 then redis.call('HSET', KEYS[3], unpack(set)) end
return 1
