-- trim.lua: remove ended runs whose keys have expired from a partition's
-- run index (index.go, trim), each at most once: only a run still listed
-- in idx:exp is removed, so two processes trimming at once count nothing
-- twice.
--
-- KEYS[1] idx, [2..5] idx:s:running, succeeded, failed, cancelled, [6]
-- idx:exp, [7] idx:cnt, then the idx:w keys of the runs' workflows. ARGV:
-- per run, its idx:exp member (JSON [id, workflow, key hash, status]) and
-- the index in KEYS of its workflow's key.
--
-- Returns the ids of the runs removed that had an idempotency key, each
-- followed by the key's hash, for the driver to delete (another slot).

local out = {}
for i = 1, #ARGV, 2 do
  local m = ARGV[i]
  if redis.call('ZREM', KEYS[6], m) == 1 then
    local e = cjson.decode(m)
    local id = e[1]
    redis.call('ZREM', KEYS[1], id)
    for k = 2, 5 do redis.call('ZREM', KEYS[k], id) end
    redis.call('ZREM', KEYS[tonumber(ARGV[i + 1])], id)
    if e[4] then
      local f = e[4] .. '|' .. e[2]
      if redis.call('HINCRBY', KEYS[7], f, -1) <= 0 then redis.call('HDEL', KEYS[7], f) end
    end
    if e[3] and e[3] ~= '' then
      out[#out + 1] = id
      out[#out + 1] = e[3]
    end
  end
end
return out
