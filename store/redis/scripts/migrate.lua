-- migrate.lua: move a running run created by a version that kept a hash
-- per group (grp:ID:GID, listed in the header's grp:GID fields) to the
-- layout apply.lua declares: one groups hash (grp:ID, fields GID|name),
-- and the run index (migrate.go).
--
-- KEYS[1] the run's header, [2] its groups hash, [3] the partition's idx,
-- [4] idx:s:running, [5] idx:w:WORKFLOW, [6] idx:cnt, then the old group
-- hashes. ARGV[1] the run's created time (unix µs), [2] its workflow, [3]
-- its id, then the group ids, in the order of their keys.
--
-- Returns 1 when the run was moved, 0 when it needed nothing (another
-- worker moved it, or it is not running).

if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HEXISTS', KEYS[1], 'cr') == 1 then
  return 0
end
for k = 7, #KEYS do
  local gid = ARGV[k - 3]
  local all = redis.call('HGETALL', KEYS[k])
  for i = 1, #all, 2 do all[i] = gid .. '|' .. all[i] end
  for i = 1, #all, 1000 do redis.call('HSET', KEYS[2], unpack(all, i, math.min(i + 999, #all))) end
  redis.call('DEL', KEYS[k])
  redis.call('HDEL', KEYS[1], 'grp:' .. gid)
end
redis.call('HSET', KEYS[1], 'cr', ARGV[1], 'wf', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[6], 'running|' .. ARGV[2], 1)
return 1
