-- start.lua: record that a worker starts running a blocking step of a task
-- (store.Store.StartStep): write the task's records only while its token
-- is still at the task's sequence and the run is running, the fence
-- apply.lua checks for the task's completion.
--
-- KEYS[1] the run's header hash, [2] its tokens hash, [3] its records hash,
-- [4] its set of running records (they share the partition's hash tag, so
-- one Cluster slot).
-- ARGV[1] token, [2] seq, then (field json hasStarted)* as in apply.lua's
-- BODY: a record written without a Started ("0") keeps the stored one.
--
-- Returns 1 when the records were written, 0 when the fence did not hold.
-- The fields of the running records written here join the run's set of
-- running records, and the others leave it, so that the end of the run
-- (apply.lua, end_run) reads only those. A run whose header has no "lv" was
-- created without the set, and its end reads every record.

-- running tells a running record by its status, found at a fixed place
-- after the optional times (as in apply.lua).
local function running(v)
  local rest = string.gsub(v, '^{"started":"[^"]*",', '{', 1)
  rest = string.gsub(rest, '^{"finished":"[^"]*",', '{', 1)
  return string.sub(rest, 1, 20) == '{"status":"running",'
end

local h = redis.call('HMGET', KEYS[1], 'status', 'lv')
if h[1] ~= 'running' then return 0 end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
local set, add, rem = {}, {}, {}
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
  if h[2] == '1' then
    if running(v) then
      add[#add + 1] = f
    else
      rem[#rem + 1] = f
    end
  end
end
-- unpack is bounded by Lua's stack (about 8,000 values): chunk it.
for i = 1, #set, 1000 do redis.call('HSET', KEYS[3], unpack(set, i, math.min(i + 999, #set))) end
for i = 1, #add, 1000 do redis.call('SADD', KEYS[4], unpack(add, i, math.min(i + 999, #add))) end
for i = 1, #rem, 1000 do redis.call('SREM', KEYS[4], unpack(rem, i, math.min(i + 999, #rem))) end
return 1
