-- apply.lua: create runs, apply transitions and cancel runs, a batch of items
-- of ONE partition, in order, atomically.
--
-- KEYS[1] the partition's stream, KEYS[2] its delayed set. Every other key
-- is built from ARGV[1] (the partition prefix "skript:{p7}:") and shares the
-- partition's hash tag, so the whole call touches one Cluster slot.
--
-- ARGV[1] prefix, [2] consumer group, [3] now (RFC 3339, UTC),
-- [4] retention in seconds, [5] channel for ended runs, then the items,
-- flat (see encode.go for the writer):
--   C run hdr BODY            create a run with its first transition
--   T run ack token seq BODY  complete a task: fenced transition
--   A run ack                 acknowledge a task only
--   X run error               cancel a run
-- BODY is
--   nrec  (field json hasStarted)*
--   ntok  (id seq)*
--   ndrop (id)*
--   ntask (json due)*          due "0" = ready now, else ms
--   ngrp  (15 fields, see parse_body)*
--   narr  (group slot json)*
--   end ("0" | "1" status output error)
--
-- Returns one code per item: 1 applied, 0 stale (or ack only), -1 the run
-- already exists (C), -2 no such run (X).
--
-- The script first reads what it needs into Lua tables, applies the items to
-- those tables, and only then writes: a Lua error half way would otherwise
-- leave a half-applied batch (Redis does not roll scripts back). Writes are
-- batched per key (one HSET for all fields of a hash), which keeps the number
-- of Redis commands per task low.

local Q, D = KEYS[1], KEYS[2]
local P, GROUP, NOW, TTL, CHAN = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local CHUNK = 1000 -- stays below Lua's unpack limit

local argi = 6
local function nxt()
  local v = ARGV[argi]
  argi = argi + 1
  return v
end

-- call runs cmd key list... in chunks (list is flat; CHUNK is even, so
-- field/value pairs are never split).
local function chunked(cmd, key, list, extra)
  for i = 1, #list, CHUNK do
    local j = math.min(i + CHUNK - 1, #list)
    if extra then
      redis.call(cmd, key, extra, unpack(list, i, j))
    else
      redis.call(cmd, key, unpack(list, i, j))
    end
  end
end

---------------------------------------------------------------- parsing

local function parse_body()
  local b = { rec = {}, tok = {}, drop = {}, tasks = {}, grp = {}, arr = {} }
  for k = 1, tonumber(nxt()) do b.rec[k] = { f = nxt(), v = nxt(), s = nxt() == '1' } end
  for k = 1, tonumber(nxt()) do b.tok[k] = { id = nxt(), seq = nxt() } end
  for k = 1, tonumber(nxt()) do b.drop[k] = nxt() end
  for k = 1, tonumber(nxt()) do b.tasks[k] = { nxt(), nxt() } end
  for k = 1, tonumber(nxt()) do
    b.grp[k] = {
      id = nxt(), total = tonumber(nxt()), next = tonumber(nxt()),
      res = nxt(), resk = nxt(),                 -- result record field, and its "frame","key" JSON
      parent = nxt(), ptok = nxt(), pseq = nxt(), pdue = nxt(),
      head = nxt(), tokesc = nxt(),              -- child task JSON head, group id JSON-escaped
      mode = nxt(), pcs = nxt(), body = nxt(), frame = nxt(),
    }
  end
  for k = 1, tonumber(nxt()) do b.arr[k] = { g = nxt(), slot = tonumber(nxt()), v = nxt() } end
  if nxt() == '1' then b.fin = { status = nxt(), out = nxt(), err = nxt() } end
  return b
end

local items = {}
while argi <= #ARGV do
  local it = { op = nxt(), run = nxt() }
  if it.op == 'C' then
    it.hdr = nxt(); it.body = parse_body()
  elseif it.op == 'T' then
    it.ack = nxt(); it.tok = nxt(); it.seq = nxt(); it.body = parse_body()
  elseif it.op == 'A' then
    it.ack = nxt()
  elseif it.op == 'X' then
    it.err = nxt()
  else
    return redis.error_reply('skript: bad item ' .. tostring(it.op))
  end
  items[#items + 1] = it
end

---------------------------------------------------------------- run state

local runs, order = {}, {}

local function run(id)
  local r = runs[id]
  if r then return r end
  r = {
    id = id, hk = P .. 'run:' .. id, rk = P .. 'rec:' .. id, tk = P .. 'tok:' .. id,
    gk = P .. 'grp:' .. id .. ':',
    tok = {}, tokw = {}, rec = {}, recw = {}, grp = {}, hw = {},
    ftok = {}, frec = {}, -- fields to prefetch
  }
  runs[id] = r
  order[#order + 1] = r
  return r
end

-- Collect what the batch will read, so each hash is read once (HMGET).
for _, it in ipairs(items) do
  local r = run(it.run)
  if it.op == 'T' then r.ftok[#r.ftok + 1] = it.tok end
  if it.body then
    for _, rec in ipairs(it.body.rec) do
      if not rec.s then r.frec[#r.frec + 1] = rec.f end
    end
  end
end

local function prefetch(key, fields, cache)
  for i = 1, #fields, CHUNK do
    local j = math.min(i + CHUNK - 1, #fields)
    local vals = redis.call('HMGET', key, unpack(fields, i, j))
    for k = i, j do cache[fields[k]] = vals[k - i + 1] end
  end
end

for _, r in ipairs(order) do
  r.status = redis.call('HGET', r.hk, 'status')
  -- A run created by this call has nothing stored yet: its caches are
  -- complete, and reading would only cost commands.
  r.fresh = not r.status
  if r.status == 'running' then
    if #r.ftok > 0 then prefetch(r.tk, r.ftok, r.tok) end
    if #r.frec > 0 then prefetch(r.rk, r.frec, r.rec) end
  end
end

local function tok_get(r, id)
  local v = r.tok[id]
  if v == nil then
    v = (not r.fresh) and redis.call('HGET', r.tk, id)
    r.tok[id] = v
  end
  return v
end

local function tok_set(r, id, v) -- v false deletes
  r.tok[id] = v
  r.tokw[id] = v
end

local function rec_get(r, f)
  local v = r.rec[f]
  if v == nil then
    v = (not r.fresh) and redis.call('HGET', r.rk, f)
    r.rec[f] = v
  end
  return v
end

local function rec_set(r, f, v)
  r.rec[f] = v
  r.recw[f] = v
end

-- A stored record starts {"started":"T","finished":"T","status":...} with
-- the two times optional (encode.go writes them first), so the times and the
-- status are found at fixed places without decoding the record.
local function started_of(v)
  return v and string.match(v, '^{"started":"([^"]*)"')
end

local GFIELDS = { 'remaining', 'next', 'total', 'started', 'res', 'resk', 'parent', 'ptok', 'pseq',
  'pdue', 'head', 'tokesc', 'mode', 'pcs', 'body', 'frame' }

local function grp_get(r, gid)
  local g = r.grp[gid]
  if g ~= nil then return g end
  if r.fresh then
    r.grp[gid] = false
    return false
  end
  local v = redis.call('HMGET', r.gk .. gid, unpack(GFIELDS))
  if not v[1] then
    r.grp[gid] = false
    return false
  end
  g = { id = gid, slots = {} }
  for k, f in ipairs(GFIELDS) do g[f] = v[k] end
  g.remaining, g.next, g.total = tonumber(g.remaining), tonumber(g.next), tonumber(g.total)
  r.grp[gid] = g
  return g
end

---------------------------------------------------------------- queue

local adds, delayed, acks = {}, {}, {}

local function enqueue(json, due)
  if due == '0' or due == '' then
    adds[#adds + 1] = json
  else
    delayed[#delayed + 1] = due
    delayed[#delayed + 1] = json
  end
end

-- child builds the Resume task that starts slot of group g, as
-- store.ChildTask does: a Fork child starts at pcs[slot] in the group's
-- frame, a Map child at body in frame base[slot].
local function child(g, slot)
  local pc, frame
  if g.mode == 'm' then
    pc, frame = g.body, g.frame .. '[' .. slot .. ']'
  else
    if not g.pcl then
      g.pcl = {}
      for pcv in string.gmatch(g.pcs, '[^,]+') do g.pcl[#g.pcl + 1] = pcv end
    end
    pc, frame = g.pcl[slot + 1], g.frame
  end
  local s = g.head .. ',"t":"' .. g.tokesc .. '.' .. slot .. '","s":0,"p":' .. pc
  if frame ~= '' then s = s .. ',"f":"' .. frame .. '"' end
  if slot ~= 0 then s = s .. ',"sl":' .. slot end
  return s .. '}'
end

-- group_list concatenates the slots' raw JSON values: no decode, no encode.
local function group_list(r, g)
  local vals, missing = {}, {}
  for i = 0, g.total - 1 do
    local v = g.slots[i]
    if v then vals[i + 1] = v else missing[#missing + 1] = 'slot:' .. i end
  end
  if #missing > 0 and not g.new then
    local got = {}
    prefetch(r.gk .. g.id, missing, got)
    for i = 0, g.total - 1 do
      if not vals[i + 1] then vals[i + 1] = got['slot:' .. i] end
    end
  end
  for i = 1, g.total do
    if not vals[i] then vals[i] = 'null' end
  end
  return '[' .. table.concat(vals, ',') .. ']'
end

---------------------------------------------------------------- apply

local ended = {}

local function end_run(r, fin)
  r.status = fin.status
  r.ended = true
  r.hw.status = fin.status
  r.hw.ended = NOW
  if fin.out ~= '' then r.hw.output = fin.out end
  if fin.err ~= '' then r.hw.error = fin.err end
  -- Mark running records cancelled: every record has to be looked at once.
  if not r.fresh then
    local all = redis.call('HGETALL', r.rk)
    for i = 1, #all, 2 do
      if r.rec[all[i]] == nil then r.rec[all[i]] = all[i + 1] end
    end
  end
  for f, v in pairs(r.rec) do
    if v then
      local st, rest = nil, string.sub(v, 2)
      st = string.match(rest, '^"started":"([^"]*)",')
      if st then rest = string.sub(rest, #st + 14) end
      local fi = string.match(rest, '^"finished":"([^"]*)",')
      if fi then rest = string.sub(rest, #fi + 15) end
      if string.sub(rest, 1, 19) == '"status":"running",' then
        local s = '{'
        if st then s = s .. '"started":"' .. st .. '",' end
        rec_set(r, f, s .. '"finished":"' .. NOW .. '","status":"cancelled",' .. string.sub(rest, 20))
      end
    end
  end
  -- Every live group of the run goes; so do its tokens (see flush).
  if not r.fresh then
    for _, f in ipairs(redis.call('HKEYS', r.hk)) do
      if string.sub(f, 1, 4) == 'grp:' then
        local gid = string.sub(f, 5)
        if not r.grp[gid] then r.grp[gid] = { id = gid } end
      end
    end
  end
  ended[#ended + 1] = r.id
end

local function apply(r, b)
  for _, rec in ipairs(b.rec) do
    local v = rec.v
    if not rec.s then
      local st = started_of(rec_get(r, rec.f))
      if st then v = '{"started":"' .. st .. '",' .. string.sub(v, 2) end
    end
    rec_set(r, rec.f, v)
  end
  for _, t in ipairs(b.tok) do tok_set(r, t.id, t.seq) end
  for _, id in ipairs(b.drop) do tok_set(r, id, false) end
  if not b.fin then
    for _, t in ipairs(b.tasks) do enqueue(t[1], t[2]) end
  end
  for _, g in ipairs(b.grp) do
    g.remaining, g.started, g.slots, g.new = g.total, NOW, {}, true
    r.grp[g.id] = g
  end
  local more = {}
  for _, a in ipairs(b.arr) do
    local g = grp_get(r, a.g)
    if g and not g.dead and a.slot >= 0 and a.slot < g.total then
      g.slots[a.slot] = a.v
      g.remaining = g.remaining - 1
      g.dirty = true
      if g.next < g.total then
        more[#more + 1] = { child(g, g.next), '0' }
        tok_set(r, a.g .. '.' .. g.next, '0')
        g.next = g.next + 1
      end
      if g.remaining == 0 then
        g.dead = true
        local st = started_of(rec_get(r, g.res)) or g.started
        rec_set(r, g.res, '{"started":"' .. st .. '","finished":"' .. NOW .. '","status":"succeeded",' ..
          g.resk .. ',"output":' .. group_list(r, g) .. '}')
        if g.parent ~= '' then
          tok_set(r, g.ptok, g.pseq)
          more[#more + 1] = { g.parent, g.pdue }
        end
      end
    end
  end
  if b.fin then
    end_run(r, b.fin)
  else
    for _, t in ipairs(more) do enqueue(t[1], t[2]) end
  end
end

local codes = {}
for n, it in ipairs(items) do
  local r = runs[it.run]
  local code = 0
  if it.op == 'C' then
    if r.status then
      code = -1
    else
      r.status, r.created = 'running', true
      r.hw.hdr, r.hw.status = it.hdr, 'running'
      apply(r, it.body)
      code = 1
    end
  elseif it.op == 'T' then
    if r.status == 'running' and tok_get(r, it.tok) == it.seq then
      apply(r, it.body)
      code = 1
    end
  elseif it.op == 'X' then
    if not r.status then
      code = -2
    elseif r.status == 'running' then
      end_run(r, { status = 'cancelled', out = '', err = it.err })
      code = 1
    end
  end
  if it.ack and it.ack ~= '' then acks[#acks + 1] = it.ack end
  codes[n] = code
end

---------------------------------------------------------------- flush

for _, r in ipairs(order) do
  local set, del = {}, {}
  for f, v in pairs(r.recw) do
    set[#set + 1] = f
    set[#set + 1] = v
  end
  if #set > 0 then chunked('HSET', r.rk, set) end

  if r.ended then
    redis.call('DEL', r.tk)
  else
    set = {}
    for id, v in pairs(r.tokw) do
      if v then
        set[#set + 1] = id
        set[#set + 1] = v
      else
        del[#del + 1] = id
      end
    end
    if #set > 0 then chunked('HSET', r.tk, set) end
    if #del > 0 then chunked('HDEL', r.tk, del) end
  end

  for gid, g in pairs(r.grp) do
    if g then
      local key = r.gk .. gid
      if r.ended or g.dead then
        if not r.fresh then
          redis.call('DEL', key)
          r.hw['grp:' .. gid] = false
        end
      elseif g.new then
        -- A group id may be reused once its earlier group completed: start clean.
        redis.call('DEL', key)
        set = { 'remaining', g.remaining, 'next', g.next, 'total', g.total }
        for _, f in ipairs(GFIELDS) do
          if f ~= 'remaining' and f ~= 'next' and f ~= 'total' then
            set[#set + 1] = f
            set[#set + 1] = g[f]
          end
        end
        for i, v in pairs(g.slots) do
          set[#set + 1] = 'slot:' .. i
          set[#set + 1] = v
        end
        chunked('HSET', key, set)
        r.hw['grp:' .. gid] = '1'
      elseif g.dirty then
        set = { 'remaining', g.remaining, 'next', g.next }
        for i, v in pairs(g.slots) do
          set[#set + 1] = 'slot:' .. i
          set[#set + 1] = v
        end
        chunked('HSET', key, set)
      end
    end
  end

  set, del = {}, {}
  for f, v in pairs(r.hw) do
    if v then
      set[#set + 1] = f
      set[#set + 1] = v
    else
      del[#del + 1] = f
    end
  end
  if #set > 0 then chunked('HSET', r.hk, set) end
  if #del > 0 then chunked('HDEL', r.hk, del) end
  if r.ended then
    redis.call('EXPIRE', r.hk, TTL)
    redis.call('EXPIRE', r.rk, TTL)
  end
end

for _, json in ipairs(adds) do
  redis.call('XADD', Q, '*', 't', json)
end
if #delayed > 0 then chunked('ZADD', D, delayed) end
if #acks > 0 then
  chunked('XACK', Q, acks, GROUP)
  chunked('XDEL', Q, acks)
end
for _, id in ipairs(ended) do
  redis.call('PUBLISH', CHAN, id)
end
return codes
