-- idem.lua: compare and set an idempotency key (idem.go).
--
-- KEYS[1] the key. ARGV[1] the value it must hold, [2] its new value (""
-- deletes it), [3] a TTL in ms for the new value ("" for none).
--
-- Returns 1 when the key held ARGV[1] and was changed, 0 otherwise.

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif ARGV[3] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
