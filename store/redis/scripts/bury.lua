-- bury.lua: move entries the driver cannot run (bad JSON, unknown kind) from
-- a partition's stream to its dead stream, so they are kept for a human to
-- look at and never delivered again.
--
-- KEYS[1] stream, KEYS[2] dead stream. ARGV[1] consumer group, then pairs
-- of (entry id, reason).

local q, dead, G = KEYS[1], KEYS[2], ARGV[1]
local ids = {}
for k = 2, #ARGV, 2 do
  local id, why = ARGV[k], ARGV[k + 1]
  local fields = { 'src', id, 'err', why }
  local e = redis.call('XRANGE', q, id, id)
  if e[1] and type(e[1][2]) == 'table' then
    for _, v in ipairs(e[1][2]) do fields[#fields + 1] = v end
  end
  redis.call('XADD', dead, 'MAXLEN', '~', 10000, '*', unpack(fields))
  ids[#ids + 1] = id
end
-- unpack is bounded by Lua's stack (about 8,000 values): chunk it.
for i = 1, #ids, 1000 do
  local j = math.min(i + 999, #ids)
  redis.call('XACK', q, G, unpack(ids, i, j))
  redis.call('XDEL', q, unpack(ids, i, j))
end
return #ids
