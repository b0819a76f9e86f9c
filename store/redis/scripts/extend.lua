-- extend.lua: reset the idle time of leased entries (store.Store.Extend)
-- that this consumer still owns. XCLAIM alone would take an entry back from
-- a worker that reclaimed it after this one's lease ran out, and both would
-- then run the task; so each entry's owner is read from the PEL first, in
-- the same call, and only the entries listed under this consumer are
-- claimed (JUSTID, so the delivery count stays as it is).
--
-- KEYS[1] stream. ARGV[1] consumer group, [2] consumer, then entry ids.
--
-- Returns how many entries were extended.

local q, G, C = KEYS[1], ARGV[1], ARGV[2]
local mine = {}
for k = 3, #ARGV do
  local p = redis.call('XPENDING', q, G, ARGV[k], ARGV[k], 1)
  if p[1] and p[1][2] == C then mine[#mine + 1] = ARGV[k] end
end
-- unpack is bounded by Lua's stack (about 8,000 values): chunk it.
local n = 0
for i = 1, #mine, 1000 do
  local args = { 'XCLAIM', q, G, C, 0 }
  for j = i, math.min(i + 999, #mine) do args[#args + 1] = mine[j] end
  args[#args + 1] = 'JUSTID'
  n = n + #redis.call(unpack(args))
end
return n
