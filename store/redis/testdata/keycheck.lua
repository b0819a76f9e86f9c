-- keycheck.lua: prepended to every script by the package's tests. It
-- shadows `redis` with a table whose call and pcall first check that every
-- key the command names was declared in KEYS, and raise an error naming
-- the command and the key otherwise. Redis itself checks only declared keys
-- (and only on a Cluster, only for the slot), so a script that builds a key
-- from ARGV works on one server and breaks while a Cluster reshards; this
-- makes the whole test suite fail on it instead.
--
-- A command this table does not know is an error too, so that a new
-- command in a script cannot slip past unchecked.
local redis = (function(real)
  local declared = {}
  for _, k in ipairs(KEYS) do declared[k] = true end
  local first = { -- commands whose only key is their first argument
    'GET', 'SET', 'INCR', 'TYPE', 'TTL', 'PTTL', 'PERSIST', 'EXPIRE', 'PEXPIRE', 'PEXPIREAT',
    'HGET', 'HMGET', 'HSET', 'HSETNX', 'HDEL', 'HKEYS', 'HVALS', 'HGETALL', 'HEXISTS', 'HLEN', 'HINCRBY',
    'SADD', 'SREM', 'SMEMBERS', 'SCARD', 'SISMEMBER',
    'ZADD', 'ZREM', 'ZRANGE', 'ZRANGEBYSCORE', 'ZREVRANGEBYSCORE', 'ZREMRANGEBYSCORE', 'ZSCORE',
    'ZMSCORE', 'ZCARD', 'ZCOUNT', 'ZINCRBY',
    'XADD', 'XACK', 'XDEL', 'XLEN', 'XTRIM', 'XRANGE', 'XREVRANGE', 'XPENDING', 'XCLAIM', 'XAUTOCLAIM', 'XSETID',
  }
  local pos = {}
  for _, c in ipairs(first) do pos[c] = 'first' end
  for _, c in ipairs({ 'DEL', 'UNLINK', 'EXISTS' }) do pos[c] = 'all' end
  for _, c in ipairs({ 'TIME', 'PUBLISH', 'SPUBLISH' }) do pos[c] = 'none' end
  pos.XREADGROUP, pos.XREAD, pos.XGROUP = 'streams', 'streams', 'second'

  local function check(...)
    local args = { ... }
    local cmd = string.upper(tostring(args[1]))
    local how = pos[cmd]
    local keys = {}
    if how == 'first' then
      keys = { args[2] }
    elseif how == 'second' then
      keys = { args[3] }
    elseif how == 'all' then
      for i = 2, #args do keys[#keys + 1] = args[i] end
    elseif how == 'streams' then
      for i = 2, #args do
        if string.upper(tostring(args[i])) == 'STREAMS' then
          local n = (#args - i) / 2
          for j = i + 1, i + n do keys[#keys + 1] = args[j] end
          break
        end
      end
    elseif how ~= 'none' then
      error('keycheck: command ' .. cmd .. ' is not in the key table of testdata/keycheck.lua')
    end
    for _, k in ipairs(keys) do
      if not declared[k] then
        error('keycheck: ' .. cmd .. ' on undeclared key ' .. tostring(k))
      end
    end
  end

  return setmetatable({
    call = function(...)
      check(...)
      local r = real.pcall(...)
      if type(r) == 'table' and r.err then error({ err = r.err .. ' [' .. table.concat({ ... }, ' ') .. ']' }) end
      return r
    end,
    pcall = function(...)
      check(...)
      return real.pcall(...)
    end,
  }, { __index = real })
end)(redis)
