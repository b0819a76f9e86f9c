-- lease.lua: take up to `need` tasks from the partitions' streams, visiting
-- them in the order given, and stop as soon as enough were taken, so a
-- worker never holds more entries than it asked for.
--
-- KEYS: the streams to visit (one partition on Redis Cluster, all of them
-- on a single Redis, where keys of different slots may share a script).
-- ARGV[1] consumer group, [2] consumer, [3] need, [4] min idle ms for
-- reclaiming, [5] "1" to return wake-up ids when nothing was taken, then
-- one XAUTOCLAIM cursor per key ("" = do not reclaim there this time).
--
-- The script touches only the streams in KEYS. It does not look at the
-- runs the entries belong to: their headers are not declared keys (the
-- driver cannot know which runs it will read). The driver reads the
-- headers next (lease.go, liveRuns), drops the entries of runs that ended
-- or are gone, and moves the bad ones to the dead stream.
--
-- Each entry also comes with how many times the group has delivered it. An
-- entry read with XREADGROUP ">" is new (1); a reclaimed one was counted up
-- by XAUTOCLAIM, and XPENDING reads the count back, so only the rare reclaim
-- path pays for it.
--
-- A stream that is not a stream (WRONGTYPE) is skipped and reported, and the
-- call goes on with the others: an error raised half way would lose the
-- entries already read, which would sit unseen in this consumer's PEL until
-- their lease ran out.
--
-- Returns { visited, {cursor per visited key},
-- {k, id, json, deliveries, ...}, {wake id per key, "" for a skipped
-- key}, {k, error, ...} }.

local G, C = ARGV[1], ARGV[2]
local need = tonumber(ARGV[3])
local IDLE = ARGV[4]
local WAKE = ARGV[5] == '1'

local out, cursors, wake, failed = {}, {}, {}, {}
local skip = {}

-- call runs a group command on stream q; a stream whose group is gone (the
-- key was deleted, or Redis lost it) gets its group back, and the command
-- runs again.
local function call(q, ...)
  local r = redis.pcall(...)
  if type(r) == 'table' and r.err then
    if not string.find(r.err, 'NOGROUP', 1, true) then error({ bad = r.err }) end
    local c = redis.pcall('XGROUP', 'CREATE', q, G, '0', 'MKSTREAM')
    if type(c) == 'table' and c.err then error({ bad = c.err }) end
    r = redis.pcall(...)
    if type(r) == 'table' and r.err then error({ bad = r.err }) end
  end
  return r
end

local visited = 0
for k = 1, #KEYS do
  if need <= 0 then break end
  visited = k
  local q = KEYS[k]
  local okv, verr = pcall(function()

  local function take(entries, reclaimed)
    local n = 0
    for _, e in ipairs(entries) do
      n = n + 1
      local id, f = e[1], e[2]
      local json
      if type(f) == 'table' then
        for j = 1, #f, 2 do
          if f[j] == 't' then json = f[j + 1] end
        end
      end
      out[#out + 1] = k
      out[#out + 1] = id
      out[#out + 1] = json or ''
      local d = 1
      if reclaimed then
        local p = redis.call('XPENDING', q, G, id, id, 1)
        if p[1] then d = p[1][4] end
      end
      out[#out + 1] = d
      need = need - 1
    end
    return n
  end

  local cur = ARGV[5 + k]
  if cur and cur ~= '' then
    local r = call(q, 'XAUTOCLAIM', q, G, C, IDLE, cur, 'COUNT', need)
    cursors[k] = r[1]
    take(r[2], true)
  else
    cursors[k] = ''
  end
  if need > 0 then
    local r = call(q, 'XREADGROUP', 'GROUP', G, C, 'COUNT', need, 'STREAMS', q, '>')
    if r then take(r[1][2], false) end
  end
  end)
  if not okv then
    local why = type(verr) == 'table' and (verr.bad or verr.err)
    if not why or not string.find(why, 'WRONGTYPE', 1, true) and not verr.bad then error(verr) end
    verr = { bad = why }
    cursors[k] = ''
    skip[k] = true
    failed[#failed + 1] = k
    failed[#failed + 1] = verr.bad
  end
end

-- Nothing came: tell the driver where each stream ends, so it can block on
-- XREAD for anything newer without missing an entry added since.
if WAKE and #out == 0 then
  for k = 1, #KEYS do
    local last = (not skip[k]) and redis.pcall('XREVRANGE', KEYS[k], '+', '-', 'COUNT', 1)
    if type(last) ~= 'table' or last.err then
      wake[k] = ''
    else
      wake[k] = last[1] and last[1][1] or '0-0'
    end
  end
end
return { visited, cursors, out, wake, failed }
