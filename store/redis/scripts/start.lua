-- start.lua: record that a worker starts running a blocking step of a task
-- (store.Store.StartStep): write the task's records only while its token
-- is still at the task's sequence and the run is running, the fence
-- apply.lua checks for the task's completion.
--
-- KEYS[1] the run's header hash, [2] its tokens hash, [3] its records hash,
-- [4] its set of running records, [5] its journal (they share the
-- partition's hash tag, so one Cluster slot).
-- ARGV[1] token, [2] seq, [3] the worker, [4] the journal's limit on
-- events (-1: journal nothing), [5] now as the journal's fixed-width time, then
-- (field json hasStarted jrec)* as in apply.lua's BODY: a record written
-- without a Started ("0") keeps the stored one. Each record written is a
-- journal event, in one entry (see apply.lua for the format).
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

local h = redis.call('HMGET', KEYS[1], 'status', 'lv', 'js', 'jt', 'jtm')
if h[1] ~= 'running' then return 0 end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
local W, MAXEV, JNOW = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local js0 = tonumber(h[3]) or 0
local js, jt = js0, h[4] == '1'
local jl = {}
local set, add, rem = {}, {}, {}
for i = 6, #ARGV, 4 do
  local f, v, jv = ARGV[i], ARGV[i + 1], ARGV[i + 3]
  if ARGV[i + 2] ~= '1' then
    -- As in apply.lua: the times come first in a stored record.
    local old = redis.call('HGET', KEYS[3], f)
    local st = old and string.match(old, '^{"started":"([^"]*)"')
    if st then
      v = '{"started":"' .. st .. '",' .. string.sub(v, 2)
      if jv ~= '' then jv = '{"started":"' .. st .. '",' .. string.sub(jv, 2) end
    end
  end
  -- The journal: past MAXEV events, one truncated event, then nothing.
  if not jt and MAXEV >= 0 then
    local field, ev = 'r', v
    if jv ~= '' then field, ev = 'x', jv end
    if W ~= '' then field = field .. ':' .. W end
    if js >= MAXEV then
      jt = true
      field, ev = 'e', '{"type":"truncated","message":"the journal keeps ' .. MAXEV ..
        ' events: the run\'s later events up to its end are left out"}'
    end
    js = js + 1
    jl[#jl + 1] = field .. '\t' .. ev .. '\n'

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
if #jl > 0 then
  local tm = JNOW
  if h[5] and h[5] > tm then tm = h[5] end
  redis.call('XADD', KEYS[5], '0-' .. (js0 + 1), 't', tm, 'e', table.concat(jl))
  local hs = { 'js', js, 'jtm', tm }
  if jt then
    hs[#hs + 1] = 'jt'
    hs[#hs + 1] = '1'
  end
  redis.call('HSET', KEYS[1], unpack(hs))
end
return 1
