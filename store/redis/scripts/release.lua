-- release.lua: hand leased tasks back to their partition's stream: the old
-- entry is acknowledged and deleted and the task is added again, in one call,
-- so it is never both lost and pending.
--
-- KEYS[1] stream. ARGV[1] consumer group, [2] the doorbell channel ("" for
-- none), then pairs of (entry id, task JSON); the id is empty for a task that
-- was not leased from this stream.

local q, G = KEYS[1], ARGV[1]
local ids = {}
for k = 3, #ARGV, 2 do
  if ARGV[k] ~= '' then ids[#ids + 1] = ARGV[k] end
  redis.call('XADD', q, '*', 't', ARGV[k + 1])
end
-- unpack is bounded by Lua's stack (about 8,000 values): chunk it.
for i = 1, #ids, 1000 do
  local j = math.min(i + 999, #ids)
  redis.call('XACK', q, G, unpack(ids, i, j))
  redis.call('XDEL', q, unpack(ids, i, j))
end
if ARGV[2] ~= '' then redis.call('SPUBLISH', ARGV[2], '') end
return #ids
