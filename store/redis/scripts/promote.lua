-- promote.lua: move delayed tasks that are due onto their partition's stream.
--
-- KEYS: pairs of (stream, delayed set), one pair per partition.
-- ARGV[1] unused (due times are compared with Redis's clock, TIME, so a
-- worker whose clock is off fires nothing early or late), [2] how many to move per partition at most, [3] the
-- doorbell channel to ring when tasks were moved ("" for none; Cluster only,
-- where a call has one partition), [4] now as RFC 3339: a task moved is
-- stamped with it as the time it became ready ("e", store.Task.Enqueued),
-- unless it already has one.
--
-- Returns { moved, next, now } where next is the earliest due time (ms) left
-- in any of the sets, or -1, so the driver knows how long it may sleep, and
-- now is Redis's clock (ms), so it can tell how far off its own is.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[2])
local moved, nextdue = 0, -1
for k = 1, #KEYS, 2 do
  local q, d = KEYS[k], KEYS[k + 1]
  -- One ZRANGE tells both whether anything is due and when the next one is,
  -- which is all an idle partition costs.
  local first = redis.call('ZRANGE', d, 0, 0, 'WITHSCORES')
  if first[1] and tonumber(first[2]) <= now then
    local due = redis.call('ZRANGEBYSCORE', d, '-inf', now, 'LIMIT', 0, limit)
    for _, m in ipairs(due) do
      if ARGV[4] and not string.find(m, '"e":"', 1, true) then
        m = string.sub(m, 1, -2) .. ',"e":"' .. ARGV[4] .. '"}'
      end
      redis.call('XADD', q, '*', 't', m)
    end
    redis.call('ZREM', d, unpack(due))
    if ARGV[3] and ARGV[3] ~= '' then redis.call('SPUBLISH', ARGV[3], '') end
    moved = moved + #due
    first = redis.call('ZRANGE', d, 0, 0, 'WITHSCORES')
  end
  if first[1] then
    local at = tonumber(first[2])
    if nextdue < 0 or at < nextdue then nextdue = at end
  end
end
return { moved, tostring(nextdue), tostring(now) }
