-- apply.lua: create runs, apply transitions and cancel runs, a batch of items
-- of ONE partition, in order, atomically, with the journal's events and the
-- run index's entries they imply.
--
-- KEYS[1] the partition's stream, [2] its delayed set, [3] its run index
-- (idx: every run by created time), [4..7] the index by status (idx:s:running,
-- succeeded, failed, cancelled), [8] ended runs by end time (idx:exp, for
-- trimming the index once their keys expired, see index.go), [9] the
-- count of runs by status and workflow (idx:cnt, fields STATUS|WORKFLOW);
-- from [10], for
-- each run of the batch, in the order of the runs in ARGV, its KPR keys:
-- header (run:ID), records (rec:ID), tokens (tok:ID), running records
-- (live:ID), groups (grp:ID) and journal (ev:ID); after those, the index by
-- workflow (idx:w:NAME) of the runs the batch creates (C names its key's
-- index). The script touches no other key: all of them share the
-- partition's hash tag, so the whole call is in one Cluster slot, and since
-- they are declared, Redis checks them all (while a slot migrates, say).
--
-- ARGV[1] the journal's limit on events per run (-1: journal nothing), [2] consumer group,
-- [3] now (RFC 3339, UTC), [4] retention in seconds, [5] channel for ended
-- runs, [6] the partition's doorbell channel ("" for none, see bell.go),
-- [7] the channel that announces delayed tasks ("" for none: on a Cluster
-- the doorbell does, see due.go), [8] now in unix microseconds (the
-- index's score of an end), [9] the journal's limit on a value's bytes,
-- [10] now as fixed-width RFC 3339 (the journal's time, which compares as
-- text), [11] the number of runs in the batch, then per run what the batch
-- will read, so each hash is read once (HMGET):
--   run  nfence (token)*  nrec (record field)*
-- then the items, flat (see encode.go for the writer):
--   C run hdr wf wk cr ik cev fin blen BODY   create a run with its first transition
--   T run ack token seq worker blen BODY  complete a task: fenced transition
--   A run ack                             acknowledge a task only
--   X run error endev finev               cancel a run
-- where wf is the workflow, wk the index in KEYS of its idx:w key, cr the
-- created time in unix microseconds, ik the hash of the idempotency key
-- ("" for none), cev the run.created event, fin the run's Finally task
-- ("" for none), endev the run.cancelled event and finev the
-- run.finishing event it is instead when the run has a Finally task
-- (journal.go writes events). blen is the number of arguments of
-- BODY, so a stale item is skipped unread. BODY is
--   end ("0" | "1" status output error endev finev)
--   nev   (event)*             the transition's own events (journal.go)
--   nrec  (field json hasStarted jrec)*   jrec: the record as the journal
--                              keeps it when its output is over the limit
--                              on values, else ""
--   ntok  (id seq)*
--   ndrop (id)*
--   ntask (json due)*          due "0" = ready now, else a delay in ms from
--                              Redis's clock (TIME), which due times are on
--   ngrp  (15 fields, see new_group)*
--   narr  (group slot json)*
--   nstop (token)*             tokens whose running actions stop: a
--                              notice each on the ended channel
--
-- The journal of a run is a stream whose entries each hold the events of
-- one call, numbered on from the header's js: entry id 0-SEQ, SEQ the first
-- event's; fields t (the time) and e: one line per event, KIND TAB JSON,
-- KIND e for an event encoded by the driver, or for a record's write
-- r[:WORKER] with the record as stored (x[:WORKER] when its output was
-- cut). JSON holds no raw newline, and WORKER comes JSON-escaped, so the
-- lines split cleanly. See journal.go for the reader.
--
-- A run with a Finally task (header field fin) finishes at its first end
-- (see finish_run): the end is kept in fst, fout and ferr, the status stays
-- running, and the next end ends the run.
--
-- Returns one code per item: 1 applied, 0 stale (or ack only), -1 the run
-- already exists (C), -2 no such run (X); or, having changed nothing,
-- {"legacy", run...}: runs of an earlier layout to migrate first.
--
-- The script reads what it needs into Lua tables, applies the items to those
-- tables, and writes only at the end: a Lua error half way would otherwise
-- leave a half-applied batch (Redis does not roll scripts back). Writes are
-- batched per key (one HSET for all fields of a hash), which keeps the number
-- of Redis commands per task low. Items are applied straight from ARGV, in
-- one pass, because building Lua tables for them costs more than the rest.

local A = ARGV
local Q, D = KEYS[1], KEYS[2]
local GROUP, NOW, TTL, CHAN, BELL, DUE = A[2], A[3], tonumber(A[4]), A[5], A[6], A[7]
local MAXEV, NOWUS, MAXV, JNOW = tonumber(A[1]), A[8], tonumber(A[9]), A[10]
local IDX, EXP, CNT = KEYS[3], KEYS[8], KEYS[9]
local BYSTATUS = { running = KEYS[4], succeeded = KEYS[5], failed = KEYS[6], cancelled = KEYS[7] }
local CHUNK = 1000 -- stays below Lua's unpack limit

-- at turns a delay from ARGV ("0" = now) into a due time on Redis's clock,
-- read once per call and only when a task is delayed, so that no worker's
-- clock decides when a timer fires.
local TNOW
local function at(delay)
  if delay == '0' or delay == '' then return '0' end
  if not TNOW then
    local t = redis.call('TIME')
    TNOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return tostring(TNOW + tonumber(delay))
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

local function prefetch(key, fields, cache)
  for i = 1, #fields, CHUNK do
    local j = math.min(i + CHUNK - 1, #fields)
    local vals = redis.call('HMGET', key, unpack(fields, i, j))
    for k = i, j do cache[fields[k]] = vals[k - i + 1] end
  end
end

---------------------------------------------------------------- run state

local runs, order = {}, {}
local KPR = 6 -- keys per run

local function declare(id, k)
  local r = {
    id = id, hk = KEYS[k], rk = KEYS[k + 1], tk = KEYS[k + 2], lk = KEYS[k + 3], gk = KEYS[k + 4], ek = KEYS[k + 5],
    tok = {}, tokw = {}, rec = {}, recw = {}, grp = {}, hw = {}, jl = {},
  }
  runs[id] = r
  order[#order + 1] = r
  return r
end

-- run returns a run the batch declared: an item of another is a bug of the
-- driver, and touching its keys would break the rule above.
local function run(id)
  local r = runs[id]
  if not r then error('skript: run ' .. tostring(id) .. ' is not declared') end
  return r
end

local argi = 12
local legacy = {}
for n = 1, tonumber(A[11]) do
  local r = declare(A[argi], 10 + (n - 1) * KPR)
  local nf = tonumber(A[argi + 1])
  local fences, recs = {}, {}
  for k = 1, nf do fences[k] = A[argi + 1 + k] end
  argi = argi + 2 + nf
  local nr = tonumber(A[argi])
  for k = 1, nr do recs[k] = A[argi + k] end
  argi = argi + 1 + nr
  -- lv: the run keeps the set of its running records (live:ID). Runs
  -- created before it existed have none, and their end reads every record.
  -- js: the journal's last seq; jt: it was truncated; jtm: its last time;
  -- cr, wf, ik: what the run index and the idempotency key need at its end.
  local h = redis.call('HMGET', r.hk, 'status', 'lv', 'js', 'jt', 'jtm', 'cr', 'wf', 'ik')
  r.status, r.lv = h[1], h[2] == '1'
  r.js, r.jt, r.jtm, r.cr, r.wf, r.ik = tonumber(h[3]) or 0, h[4] == '1', h[5], h[6], h[7], h[8]
  r.js0 = r.js
  -- A running run without cr was created by a version that kept a hash
  -- per group (grp:ID:GID), keys this call cannot declare: the driver
  -- moves them first (migrate.lua) and calls again.
  if r.status == 'running' and not r.cr then legacy[#legacy + 1] = r.id end
  -- A run created by this call has nothing stored yet: its caches are
  -- complete, and reading would only cost commands.
  r.fresh = not r.status
  if r.status == 'running' then
    if nf > 0 then prefetch(r.tk, fences, r.tok) end
    if nr > 0 then prefetch(r.rk, recs, r.rec) end
  end
end

if #legacy > 0 then return { 'legacy', unpack(legacy) } end

local function tok_get(r, id)
  local v = r.tok[id]
  if v == nil then
    -- After finish_run the stored tokens are gone (flush deletes them).
    v = (not r.fresh and not r.tokreset) and redis.call('HGET', r.tk, id)
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

-- running_of splits a stored record that is running into its Started (or
-- nil) and what follows the status; it returns nothing for any other.
local function running_of(v)
  local st, rest = nil, string.sub(v, 2)
  st = string.match(rest, '^"started":"([^"]*)",')
  if st then rest = string.sub(rest, #st + 14) end
  local fi = string.match(rest, '^"finished":"([^"]*)",')
  if fi then rest = string.sub(rest, #fi + 15) end
  if string.sub(rest, 1, 19) == '"status":"running",' then
    return true, st, string.sub(rest, 20)
  end
  return false
end

local GFIELDS = { 'remaining', 'next', 'total', 'started', 'res', 'resk', 'parent', 'ptok', 'pseq',
  'pdue', 'head', 'tokesc', 'mode', 'pcs', 'body', 'frame' }

-- A run's groups share one hash (grp:ID), each group's fields prefixed
-- with its id, "GID|remaining", "GID|slot:3": so the run's end deletes one
-- key the call declared, whatever groups are live.
local function gfield(gid, f) return gid .. '|' .. f end

local function grp_get(r, gid)
  local g = r.grp[gid]
  if g ~= nil then return g end
  if r.fresh or r.grpreset then
    r.grp[gid] = false
    return false
  end
  local fields = {}
  for k, f in ipairs(GFIELDS) do fields[k] = gfield(gid, f) end
  local v = redis.call('HMGET', r.gk, unpack(fields))
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

---------------------------------------------------------------- journal

-- jadd appends one event (its kind and its JSON, see the top) to the
-- events this call adds to r's journal. Past MAXEV events the journal gets
-- one truncated event and then nothing but the run's end (final).
local function jadd(r, field, v, final)
  if MAXEV < 0 then return end -- the journal is off (journal.go)
  if not final then
    if r.jt then return end
    if r.js >= MAXEV then
      r.jt = true
      r.hw.jt = '1'
      field, v = 'e', '{"type":"truncated","message":"the journal keeps ' .. MAXEV ..
        ' events: the run\'s later events up to its end are left out"}'
    end
  end
  r.js = r.js + 1
  local jl, n = r.jl, #r.jl
  jl[n + 1] = field
  jl[n + 2] = '\t'
  jl[n + 3] = v
  jl[n + 4] = '\n'
end

-- wfield is the field of a record event written by worker w ("" for none).
local function wfield(c, w)
  if w == '' then return c end
  return c .. ':' .. w
end

-- with_started puts the Started st (or none) in front of a record's JSON.
local function with_started(v, st)
  if st then return '{"started":"' .. st .. '",' .. string.sub(v, 2) end
  return v
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
  return s .. ',"e":"' .. NOW .. '"}'
end

-- stamped adds the time a task becomes ready ("e", store.Task.Enqueued) to
-- a task's JSON that has none: a group's parent is encoded when the group
-- is created, but becomes ready only when the group completes.
local function stamped(json)
  if string.find(json, '"e":"', 1, true) then return json end
  return string.sub(json, 1, -2) .. ',"e":"' .. NOW .. '"}'
end

-- group_list concatenates the slots' raw JSON values: no decode, no encode.
local function group_list(r, g)
  local vals, missing = {}, {}
  for i = 0, g.total - 1 do
    local v = g.slots[i]
    if v then vals[i + 1] = v else missing[#missing + 1] = gfield(g.id, 'slot:' .. i) end
  end
  if #missing > 0 and not g.new then
    local got = {}
    prefetch(r.gk, missing, got)
    for i = 0, g.total - 1 do
      if not vals[i + 1] then vals[i + 1] = got[gfield(g.id, 'slot:' .. i)] end
    end
  end
  for i = 1, g.total do
    if not vals[i] then vals[i] = 'null' end
  end
  return '[' .. table.concat(vals, ',') .. ']'
end

---------------------------------------------------------------- apply

local ended = {}

-- cancel_running marks the run's running records cancelled, journaling
-- them.
local function cancel_running(r)
  -- Mark running records cancelled. The run's set of running records
  -- names the stored ones, so a run of thousands of finished records costs
  -- no more than a small one; the records in r.rec (read or written by this
  -- call) are looked at too. A run without the set has every record read.
  if not r.fresh then
    if r.lv then
      local missing = {}
      for _, f in ipairs(redis.call('SMEMBERS', r.lk)) do
        if r.rec[f] == nil then missing[#missing + 1] = f end
      end
      if #missing > 0 then prefetch(r.rk, missing, r.rec) end
    else
      local all = redis.call('HGETALL', r.rk)
      for i = 1, #all, 2 do
        if r.rec[all[i]] == nil then r.rec[all[i]] = all[i + 1] end
      end
    end
  end
  local cancel = {}
  for f, v in pairs(r.rec) do
    if v then
      local run, st, rest = running_of(v)
      if run then
        local s = '{'
        if st then s = s .. '"started":"' .. st .. '",' end
        cancel[f] = s .. '"finished":"' .. NOW .. '","status":"cancelled",' .. rest
      end
    end
  end
  local fields = {}
  for f, v in pairs(cancel) do
    rec_set(r, f, v)
    fields[#fields + 1] = f
  end
  table.sort(fields)
  for _, f in ipairs(fields) do jadd(r, 'r', cancel[f]) end
end

-- finally_of returns the Finally task of a run that has one and has not
-- finished yet, or nil.
local function finally_of(r)
  if r.fing then return nil end
  if r.fin == nil then
    if r.fresh then
      r.fin = false
    else
      local h = redis.call('HMGET', r.hk, 'fin', 'fst')
      r.fin, r.fing = h[1], h[2] ~= false
    end
  end
  if r.fing or not r.fin or r.fin == '' then return nil end
  return r.fin
end

-- finish_run starts the finally nodes of run r at its first end fin: its
-- work stops as at an end (running records cancelled; its tokens and groups
-- gone, see flush; tasks queued before are dropped when leased, lease.go),
-- the end is kept, the finally task is queued, and workers are told to stop
-- the run's other actions.
local function finish_run(r, fin, task)
  r.fing = true
  r.hw.fst = fin.status
  if fin.out ~= '' then r.hw.fout = fin.out end
  if fin.err ~= '' then r.hw.ferr = fin.err end
  cancel_running(r)
  jadd(r, 'e', fin.fev, true)
  r.tok, r.tokw, r.tokreset = {}, {}, true
  r.grp, r.grpreset = {}, true
  local seq = string.match(task, '"s":(%d+)') or '0'
  tok_set(r, 'finally', seq)
  enqueue(stamped(task), '0')
  ended[#ended + 1] = r.id .. '\tfinishing'
end

local function end_run(r, fin)
  local task = finally_of(r)
  if task then return finish_run(r, fin, task) end
  r.status = fin.status
  r.ended = true
  r.hw.status = fin.status
  r.hw.ended = NOW
  if fin.out ~= '' then r.hw.output = fin.out end
  if fin.err ~= '' then r.hw.error = fin.err end
  cancel_running(r)
  jadd(r, 'e', fin.ev, true)
  -- Every live group of the run goes (its one hash), and so do its tokens
  -- (see flush).
  ended[#ended + 1] = r.id
end

-- new_group reads a group's 15 fields at A[i].
local function new_group(i)
  return {
    id = A[i], total = tonumber(A[i + 1]), next = tonumber(A[i + 2]),
    res = A[i + 3], resk = A[i + 4],                     -- result record field, and its "frame","key" JSON
    parent = A[i + 5], ptok = A[i + 6], pseq = A[i + 7], pdue = at(A[i + 8]),
    head = A[i + 9], tokesc = A[i + 10],                 -- child task JSON head, group id JSON-escaped
    mode = A[i + 11], pcs = A[i + 12], body = A[i + 13], frame = A[i + 14],
    remaining = tonumber(A[i + 1]), started = NOW, slots = {}, new = true,
  }
end

-- apply applies the BODY at A[i] to run r, for a task leased by worker w
-- ("" for none), whom the journal names on the events.
local function apply(r, i, w)
  local fin
  if A[i] == '1' then
    fin = { status = A[i + 1], out = A[i + 2], err = A[i + 3], ev = A[i + 4], fev = A[i + 5] }
    i = i + 6
  else
    i = i + 1
  end
  local n = tonumber(A[i])
  i = i + 1
  for k = i, i + n - 1 do jadd(r, 'e', A[k]) end
  i = i + n
  n = tonumber(A[i])
  i = i + 1
  for _ = 1, n do
    local f, v, jv = A[i], A[i + 1], A[i + 3]
    if A[i + 2] ~= '1' then
      local st = started_of(rec_get(r, f))
      v = with_started(v, st)
      if jv ~= '' then jv = with_started(jv, st) end
    end
    rec_set(r, f, v)
    if jv == '' then jadd(r, wfield('r', w), v) else jadd(r, wfield('x', w), jv) end
    i = i + 4
  end
  n = tonumber(A[i])
  i = i + 1
  for _ = 1, n do
    tok_set(r, A[i], A[i + 1])
    i = i + 2
  end
  n = tonumber(A[i])
  i = i + 1
  for _ = 1, n do
    tok_set(r, A[i], false)
    i = i + 1
  end
  n = tonumber(A[i])
  i = i + 1
  if not fin then
    for k = i, i + 2 * n - 1, 2 do enqueue(A[k], at(A[k + 1])) end
  end
  i = i + 2 * n
  n = tonumber(A[i])
  i = i + 1
  for _ = 1, n do
    local g = new_group(i)
    r.grp[g.id] = g
    i = i + 15
  end
  n = tonumber(A[i])
  i = i + 1
  local more
  for _ = 1, n do
    local gid, slot, v = A[i], tonumber(A[i + 1]), A[i + 2]
    i = i + 3
    local g = grp_get(r, gid)
    if g and not g.dead and slot >= 0 and slot < g.total then
      g.slots[slot] = v
      g.remaining = g.remaining - 1
      g.dirty = true
      if g.next < g.total or g.remaining == 0 then more = more or {} end
      if g.next < g.total then
        more[#more + 1] = child(g, g.next)
        more[#more + 1] = '0'
        tok_set(r, gid .. '.' .. g.next, '0')
        g.next = g.next + 1
      end
      if g.remaining == 0 then
        g.dead = true
        local st = started_of(rec_get(r, g.res)) or g.started
        local head = '{"started":"' .. st .. '","finished":"' .. NOW .. '","status":"succeeded",' .. g.resk .. ',"output":'
        local list = group_list(r, g)
        rec_set(r, g.res, head .. list .. '}')
        if #list > MAXV then
          jadd(r, wfield('x', w), head .. '"[truncated: ' .. #list .. ' bytes]"}')
        else
          jadd(r, wfield('r', w), head .. list .. '}')
        end
        if g.parent ~= '' then
          tok_set(r, g.ptok, g.pseq)
          if g.pdue == '0' or g.pdue == '' then
            more[#more + 1] = stamped(g.parent)
          else
            more[#more + 1] = g.parent
          end
          more[#more + 1] = g.pdue
        end
      end
    end
  end
  n = tonumber(A[i])
  i = i + 1
  if not fin then
    for k = i, i + n - 1 do ended[#ended + 1] = r.id .. '\tstop\t' .. A[k] end
  end
  i = i + n
  if fin then
    end_run(r, fin)
  elseif more then
    for k = 1, #more, 2 do enqueue(more[k], more[k + 1]) end
  end
end

local codes = {}
while argi <= #A do
  local op, r = A[argi], run(A[argi + 1])
  local code = 0
  if op == 'C' or op == 'T' then
    local hdr, ack, fenced, body, w
    if op == 'C' then
      hdr, body, w = A[argi + 2], argi + 10, ''
      fenced = not r.status
    else
      ack, body, w = A[argi + 2], argi + 7, A[argi + 5]
      fenced = r.status == 'running' and tok_get(r, A[argi + 3]) == A[argi + 4]
    end
    if fenced then
      if hdr then
        r.status, r.created, r.lv = 'running', true, true
        r.wf, r.wk, r.cr, r.ik = A[argi + 3], KEYS[tonumber(A[argi + 4])], A[argi + 5], A[argi + 6]
        r.hw.hdr, r.hw.status, r.hw.lv = hdr, 'running', '1'
        r.hw.wf, r.hw.cr = r.wf, r.cr
        if r.ik ~= '' then r.hw.ik = r.ik end
        r.fin = A[argi + 8]
        if r.fin ~= '' then r.hw.fin = r.fin end
        jadd(r, 'e', A[argi + 7])
      end
      apply(r, body, w)
      code = 1
    elseif hdr then
      code = -1
    end
    if ack and ack ~= '' then acks[#acks + 1] = ack end
    argi = body + tonumber(A[body - 1])
  elseif op == 'A' then
    if A[argi + 2] ~= '' then acks[#acks + 1] = A[argi + 2] end
    argi = argi + 3
  elseif op == 'X' then
    if not r.status then
      code = -2
    elseif r.status == 'running' then
      end_run(r, { status = 'cancelled', out = '', err = A[argi + 2], ev = A[argi + 3], fev = A[argi + 4] })
      code = 1
    end
    argi = argi + 5
  else
    return redis.error_reply('skript: bad item ' .. tostring(op))
  end
  codes[#codes + 1] = code
end

---------------------------------------------------------------- flush

local zadds, zorder, zrem = {}, {}, {}
local counts, corder = {}, {}
local function count(status, wf, d)
  local f = status .. '|' .. (wf or '')
  if not counts[f] then corder[#corder + 1] = f end
  counts[f] = (counts[f] or 0) + d
end
local function zadd(key, score, member)
  local l = zadds[key]
  if not l then
    l = {}
    zadds[key] = l
    zorder[#zorder + 1] = key
  end
  l[#l + 1] = score
  l[#l + 1] = member
end

for _, r in ipairs(order) do
  local set, del = {}, {}
  for f, v in pairs(r.recw) do
    set[#set + 1] = f
    set[#set + 1] = v
  end
  if #set > 0 then chunked('HSET', r.rk, set) end

  -- The set of running records follows the records written (see end_run).
  if r.ended then
    if r.lv and not r.fresh then redis.call('DEL', r.lk) end
  elseif r.lv then
    local add, rem = {}, {}
    for f, v in pairs(r.recw) do
      if running_of(v) then
        add[#add + 1] = f
      elseif not r.fresh then
        rem[#rem + 1] = f
      end
    end
    if #add > 0 then chunked('SADD', r.lk, add) end
    if #rem > 0 then chunked('SREM', r.lk, rem) end
  end

  if r.ended then
    redis.call('DEL', r.tk)
  else
    if r.tokreset and not r.fresh then redis.call('DEL', r.tk) end
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

  if r.ended then
    if not r.fresh then redis.call('DEL', r.gk) end
  else
    if r.grpreset and not r.fresh then redis.call('DEL', r.gk) end
    local gset, gdel = {}, {}
    for gid, g in pairs(r.grp) do
      if g and g.dead then
        if not g.new then
          for _, f in ipairs(GFIELDS) do gdel[#gdel + 1] = gfield(gid, f) end
          for i = 0, g.total - 1 do gdel[#gdel + 1] = gfield(gid, 'slot:' .. i) end
        end
      elseif g and (g.new or g.dirty) then
        -- A new group writes every field (a group id may be reused once its
        -- earlier group completed: this overwrites what is left of it; its
        -- slots are all written again before the group completes).
        for _, f in ipairs(g.new and GFIELDS or { 'remaining', 'next' }) do
          gset[#gset + 1] = gfield(gid, f)
          gset[#gset + 1] = g[f]
        end
        for i, v in pairs(g.slots) do
          gset[#gset + 1] = gfield(gid, 'slot:' .. i)
          gset[#gset + 1] = v
        end
      end
    end
    if #gdel > 0 then chunked('HDEL', r.gk, gdel) end
    if #gset > 0 then chunked('HSET', r.gk, gset) end
  end

  -- The journal: one entry per call, id 0-SEQ of its first event, its
  -- time never before the journal's last.
  if #r.jl > 0 then
    local tm = JNOW
    if r.jtm and r.jtm > tm then tm = r.jtm end
    redis.call('XADD', r.ek, '0-' .. (r.js0 + 1), 't', tm, 'e', table.concat(r.jl))
    r.hw.js, r.hw.jtm = r.js, tm
  end

  -- The run index: a created run joins it; an ended one moves to its
  -- status and is listed for trimming once it expired (index.go).
  if r.created then
    zadd(IDX, r.cr, r.id)
    zadd(r.wk, r.cr, r.id)
    if not r.ended then
      zadd(BYSTATUS.running, r.cr, r.id)
      count('running', r.wf, 1)
    end
  end
  if r.ended and r.cr then
    if not r.created then
      zrem[#zrem + 1] = r.id
      count('running', r.wf, -1)
    end
    if BYSTATUS[r.status] then
      zadd(BYSTATUS[r.status], r.cr, r.id)
      count(r.status, r.wf, 1)
    end
    zadd(EXP, NOWUS, cjson.encode({ r.id, r.wf or '', r.ik or '', r.status }))
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
    if #r.jl > 0 or r.js0 > 0 then redis.call('EXPIRE', r.ek, TTL) end
  end
end
for _, key in ipairs(zorder) do chunked('ZADD', key, zadds[key]) end
if #zrem > 0 then chunked('ZREM', BYSTATUS.running, zrem) end
for _, f in ipairs(corder) do
  if counts[f] ~= 0 then redis.call('HINCRBY', CNT, f, counts[f]) end
end

for _, json in ipairs(adds) do
  redis.call('XADD', Q, '*', 't', json)
end
if #adds > 0 and BELL ~= '' then redis.call('SPUBLISH', BELL, '') end
if #delayed > 0 then
  chunked('ZADD', D, delayed)
  -- Announce the earliest, so that idle workers wake up for it (due.go).
  local first = 1
  for k = 3, #delayed, 2 do
    if tonumber(delayed[k]) < tonumber(delayed[first]) then first = k end
  end
  if BELL ~= '' then
    redis.call('SPUBLISH', BELL, delayed[first])
  elseif DUE ~= '' then
    redis.call('PUBLISH', DUE, delayed[first])
  end
end
if #acks > 0 then
  chunked('XACK', Q, acks, GROUP)
  chunked('XDEL', Q, acks)
end
-- Ended runs' ids, and the notices of finishing runs and stopped tokens
-- (store/notice.go).
for _, id in ipairs(ended) do
  redis.call('PUBLISH', CHAN, id)
end
return codes
