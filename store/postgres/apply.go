package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skript-dev/skript/store"
)

// item is one change a batch applies under its run's lock: a transition
// (fenced by its token, except a run's first), a step's start, a run's
// creation or its cancellation.
type item struct {
	run     string
	worker  string
	tr      *store.Transition
	fenced  bool
	created *store.Run    // CreateRun: journal the header first
	cancel  *store.RunEnd // Cancel
}

// newGroup is a group a transition of run creates.
type newGroup struct {
	run string
	g   *store.Group
}

type recKey struct{ run, frame, key string }
type tokKey struct{ run, id string }
type grpKey struct{ run, id string }

// runState is a run locked by a batch.
type runState struct {
	id, hash string
	ended    bool // at lock time, or by an item of the batch
	endedNow bool // by an item of the batch
	events   int64
	cut      bool
	touched  bool // events, cut or the end to write
	end      *store.RunEnd
	endAt    time.Time
}

// groupState is a group an arrival of the batch updated: its counters as
// they were before the batch (advanced as the batch's arrivals are
// walked in order) and its definition.
type groupState struct {
	g         *store.Group
	remaining int
	next      int
	started   time.Time
	values    map[int32]any // this batch's arrivals
	complete  bool
}

// batch accumulates what one transaction writes.
type batch struct {
	s    *Store
	tx   pgx.Tx
	now  time.Time
	runs map[string]*runState

	tokens     map[tokKey]int64 // read or set; -1: dropped
	tokenDirty map[tokKey]bool
	recs       map[recKey]*store.Record
	recOrder   []recKey
	started    map[recKey]time.Time // stored Started of records the batch writes
	running    map[string][]*store.Record
	tasks      []*store.Task
	newGroups  []newGroup
	groups     map[grpKey]*groupState
	stored     map[grpKey]map[int32][]byte // slots of completed groups in the database
	evRuns     []string
	evSeqs     []int64
	evAts      []int64
	evData     [][]byte
	// notices are the Ended feed's notices of the tokens the batch's
	// transitions stop (store.StopNotice).
	notices []string
}

func newBatch(s *Store, tx pgx.Tx) *batch {
	return &batch{s: s, tx: tx, runs: map[string]*runState{}, tokens: map[tokKey]int64{}, tokenDirty: map[tokKey]bool{},
		recs: map[recKey]*store.Record{}, started: map[recKey]time.Time{}, running: map[string][]*store.Record{},
		groups: map[grpKey]*groupState{}, stored: map[grpKey]map[int32][]byte{}}
}

// apply applies items in order and reports which applied.
func (b *batch) apply(ctx context.Context, items []item) ([]bool, error) {
	applied := make([]bool, len(items))
	if err := b.lockRuns(ctx, items); err != nil {
		return nil, err
	}
	// The batch's time is taken under the runs' locks: a run's events
	// are then numbered and timed in the same order.
	b.now = time.Now()
	if err := b.readFences(ctx, items); err != nil {
		return nil, err
	}
	// Phase 1: which items apply (the fences, with the tokens earlier
	// items of the batch set or dropped).
	ended := map[string]bool{}
	for i, it := range items {
		rs := b.runs[it.run]
		if rs == nil || rs.ended || ended[it.run] {
			continue
		}
		if it.fenced {
			seq, ok := b.tokens[tokKey{it.run, it.tr.Token}]
			if !ok || seq != int64(it.tr.Seq) {
				continue
			}
		}
		applied[i] = true
		if tr := it.tr; tr != nil {
			for _, ts := range tr.Tokens {
				b.setToken(it.run, ts.ID, int64(ts.Seq))
			}
			for _, id := range tr.Drop {
				b.setToken(it.run, id, -1)
			}
			if tr.End != nil {
				ended[it.run] = true
			}
		}
		if it.cancel != nil {
			ended[it.run] = true
		}
	}
	// Phase 2: what the applied items need to read.
	if err := b.readStarted(ctx, items, applied); err != nil {
		return nil, err
	}
	if err := b.updateGroups(ctx, items, applied); err != nil {
		return nil, err
	}
	if err := b.readRunning(ctx, ended); err != nil {
		return nil, err
	}
	// Phase 3: the changes, in order.
	for i, it := range items {
		if applied[i] {
			if err := b.applyItem(b.runs[it.run], it); err != nil {
				return nil, err
			}
		}
	}
	return applied, b.write(ctx)
}

func (b *batch) setToken(run, id string, seq int64) {
	k := tokKey{run, id}
	b.tokens[k] = seq
	b.tokenDirty[k] = true
}

func (b *batch) lockRuns(ctx context.Context, items []item) error {
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.run] {
			seen[it.run] = true
			ids = append(ids, it.run)
		}
	}
	// In id order, so that two batches never wait on each other.
	slices.Sort(ids)
	rows, err := b.tx.Query(ctx, `SELECT id, hash, status, events, cut FROM skript_runs WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		rs := &runState{}
		var status string
		if err := rows.Scan(&rs.id, &rs.hash, &status, &rs.events, &rs.cut); err != nil {
			return err
		}
		rs.ended = store.Status(status) != store.Running
		b.runs[rs.id] = rs
	}
	return rows.Err()
}

func (b *batch) readFences(ctx context.Context, items []item) error {
	var runs, ids []string
	for _, it := range items {
		if rs := b.runs[it.run]; it.fenced && rs != nil && !rs.ended {
			runs, ids = append(runs, it.run), append(ids, it.tr.Token)
		}
	}
	if len(runs) == 0 {
		return nil
	}
	rows, err := b.tx.Query(ctx, `SELECT t.run, t.id, t.seq FROM skript_tokens t
		JOIN unnest($1::text[], $2::text[]) AS k(run, id) ON t.run = k.run AND t.id = k.id`, runs, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k tokKey
		var seq int64
		if err := rows.Scan(&k.run, &k.id, &seq); err != nil {
			return err
		}
		b.tokens[k] = seq
	}
	return rows.Err()
}

// readStarted reads the stored Started of the records the applied items
// write without one (and of their groups' results).
func (b *batch) readStarted(ctx context.Context, items []item, applied []bool) error {
	var runs, frames, keys []string
	seen := map[recKey]bool{}
	add := func(run string, k store.RecordKey) {
		rk := recKey{run, k.Frame, k.Key}
		if !seen[rk] {
			seen[rk] = true
			runs, frames, keys = append(runs, run), append(frames, k.Frame), append(keys, k.Key)
		}
	}
	for i, it := range items {
		if !applied[i] || it.tr == nil {
			continue
		}
		for _, rec := range it.tr.Records {
			if rec.Started.IsZero() {
				add(it.run, rec.RecordKey)
			}
		}
	}
	if len(runs) == 0 {
		return nil
	}
	return b.readStartedOf(ctx, runs, frames, keys)
}

func (b *batch) readStartedOf(ctx context.Context, runs, frames, keys []string) error {
	rows, err := b.tx.Query(ctx, `SELECT r.run, r.frame, r.key, r.data FROM skript_records r
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(run, frame, key) ON r.run = k.run AND r.frame = k.frame AND r.key = k.key`,
		runs, frames, keys)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k recKey
		var data []byte
		if err := rows.Scan(&k.run, &k.frame, &k.key, &data); err != nil {
			return err
		}
		var st struct {
			Started time.Time `json:"started"`
		}
		if json.Unmarshal(data, &st) == nil && !st.Started.IsZero() {
			b.started[k] = st.Started
		}
	}
	return rows.Err()
}

// updateGroups counts the applied arrivals off their groups with one
// UPDATE ... RETURNING, which also returns the counters as they were, and
// reads the slots of the groups the batch completes.
func (b *batch) updateGroups(ctx context.Context, items []item, applied []bool) error {
	n := map[grpKey]int{}
	var order []grpKey
	for i, it := range items {
		if !applied[i] || it.tr == nil {
			continue
		}
		for _, a := range it.tr.Arrivals {
			k := grpKey{it.run, a.Group}
			if n[k] == 0 {
				order = append(order, k)
			}
			n[k]++
		}
	}
	if len(order) == 0 {
		return nil
	}
	runs, ids, counts := make([]string, len(order)), make([]string, len(order)), make([]int32, len(order))
	for i, k := range order {
		runs[i], ids[i], counts[i] = k.run, k.id, int32(n[k])
	}
	rows, err := b.tx.Query(ctx, `UPDATE skript_groups g
		SET remaining = g.remaining - d.n, next = LEAST(g.next + d.n, g.total)
		FROM skript_groups o, unnest($1::text[], $2::text[], $3::int[]) AS d(run, id, n)
		WHERE g.run = d.run AND g.id = d.id AND o.run = g.run AND o.id = g.id
		RETURNING g.run, g.id, o.remaining, o.next, g.started, g.def`, runs, ids, counts)
	if err != nil {
		return err
	}
	var done []grpKey
	for rows.Next() {
		var k grpKey
		gs := &groupState{values: map[int32]any{}}
		var def []byte
		if err := rows.Scan(&k.run, &k.id, &gs.remaining, &gs.next, &gs.started, &def); err != nil {
			rows.Close()
			return err
		}
		if gs.g, err = decodeGroup(def); err != nil {
			rows.Close()
			return err
		}
		b.groups[k] = gs
		if gs.remaining <= n[k] {
			done = append(done, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(done) == 0 {
		return nil
	}
	runs, ids = runs[:0], ids[:0]
	for _, k := range done {
		runs, ids = append(runs, k.run), append(ids, k.id)
	}
	rows, err = b.tx.Query(ctx, `SELECT s.run, s.grp, s.slot, s.value FROM skript_slots s
		JOIN unnest($1::text[], $2::text[]) AS d(run, grp) ON s.run = d.run AND s.grp = d.grp`, runs, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k grpKey
		var slot int32
		var v []byte
		if err := rows.Scan(&k.run, &k.id, &slot, &v); err != nil {
			return err
		}
		if b.stored[k] == nil {
			b.stored[k] = map[int32][]byte{}
		}
		b.stored[k][slot] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// The results' stored Started (a composite node entered earlier).
	var frames, keys []string
	runs = runs[:0]
	for _, k := range done {
		res := b.groups[k].g.Result
		runs, frames, keys = append(runs, k.run), append(frames, res.Frame), append(keys, res.Key)
	}
	return b.readStartedOf(ctx, runs, frames, keys)
}

// readRunning reads the running records of the runs the batch ends.
func (b *batch) readRunning(ctx context.Context, ended map[string]bool) error {
	if len(ended) == 0 {
		return nil
	}
	ids := make([]string, 0, len(ended))
	for id := range ended {
		ids = append(ids, id)
	}
	rows, err := b.tx.Query(ctx, `SELECT run, data FROM skript_records WHERE run = ANY($1) AND status = 'running'`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var run string
		var data []byte
		if err := rows.Scan(&run, &data); err != nil {
			return err
		}
		rec, err := decodeRecord(data)
		if err != nil {
			return err
		}
		b.running[run] = append(b.running[run], rec)
	}
	return rows.Err()
}

// applyItem makes an applied item's changes, journaling them.
func (b *batch) applyItem(rs *runState, it item) error {
	if it.created != nil {
		b.emitCreated(rs, it.created)
	}
	if it.cancel != nil {
		return b.end(rs, it.cancel, store.EventRunCancelled)
	}
	tr := it.tr
	b.emitEvents(rs, tr.Events, it.worker)
	for _, rec := range tr.Records {
		b.emitRecord(rs, b.writeRecord(rs.id, rec), it.worker)
	}
	if tr.End == nil {
		b.tasks = append(b.tasks, tr.Tasks...)
	}
	for _, g := range tr.Groups {
		b.newGroups = append(b.newGroups, newGroup{rs.id, g})
	}
	for _, a := range tr.Arrivals {
		if err := b.arrive(rs, a, tr.End == nil, it.worker); err != nil {
			return err
		}
	}
	if tr.End != nil {
		return b.end(rs, tr.End, store.EventRunEnded)
	}
	for _, tok := range tr.Stop {
		b.notices = append(b.notices, store.StopNotice(rs.id, tok))
	}
	return nil
}

// writeRecord stores rec, keeping the stored Started when rec has none,
// and returns it as stored.
func (b *batch) writeRecord(run string, rec *store.Record) *store.Record {
	k := recKey{run, rec.Frame, rec.Key}
	if rec.Started.IsZero() {
		if st, ok := b.started[k]; ok {
			cp := *rec
			cp.Started = st
			rec = &cp
		}
	}
	if !rec.Started.IsZero() {
		b.started[k] = rec.Started
	}
	if _, ok := b.recs[k]; !ok {
		b.recOrder = append(b.recOrder, k)
	}
	b.recs[k] = rec
	return rec
}

func (b *batch) arrive(rs *runState, a *store.Arrival, enqueue bool, worker string) error {
	k := grpKey{rs.id, a.Group}
	gs := b.groups[k]
	if gs == nil || gs.complete || a.Slot < 0 || int(a.Slot) >= gs.g.Total {
		return nil
	}
	gs.values[a.Slot] = a.Value
	gs.remaining--
	if gs.next < gs.g.Total {
		t := store.ChildTask(rs.id, rs.hash, gs.g, gs.next)
		b.setToken(rs.id, t.Token, 0)
		if enqueue {
			b.tasks = append(b.tasks, t)
		}
		gs.next++
	}
	if gs.remaining > 0 {
		return nil
	}
	gs.complete = true
	list := make([]any, gs.g.Total)
	for slot, raw := range b.stored[k] {
		if int(slot) < len(list) {
			v, err := decodeValue(raw)
			if err != nil {
				return err
			}
			list[slot] = v
		}
	}
	for slot, v := range gs.values {
		list[slot] = v
	}
	started := gs.started
	if st, ok := b.started[recKey{rs.id, gs.g.Result.Frame, gs.g.Result.Key}]; ok {
		started = st
	}
	res := &store.Record{RecordKey: gs.g.Result, Status: store.Succeeded, Output: list, Started: started, Finished: b.now}
	b.emitRecord(rs, b.writeRecord(rs.id, res), worker)
	if p := gs.g.Parent; p != nil {
		b.setToken(rs.id, p.Token, int64(p.Seq))
		if enqueue {
			b.tasks = append(b.tasks, p)
		}
	}
	return nil
}

// end ends a run: its running records (stored, or written by the batch)
// become cancelled, then the end is journaled.
func (b *batch) end(rs *runState, e *store.RunEnd, typ store.EventType) error {
	rs.ended, rs.endedNow, rs.touched = true, true, true
	rs.end, rs.endAt = e, b.now
	running := map[recKey]*store.Record{}
	for _, rec := range b.running[rs.id] {
		running[recKey{rs.id, rec.Frame, rec.Key}] = rec
	}
	for _, k := range b.recOrder {
		if k.run != rs.id {
			continue
		}
		if rec := b.recs[k]; rec.Status == store.Running {
			running[k] = rec
		} else {
			delete(running, k)
		}
	}
	cancelled := make([]*store.Record, 0, len(running))
	for _, rec := range running {
		cp := *rec
		cp.Status = store.Cancelled
		cp.Finished = b.now
		cancelled = append(cancelled, b.writeRecord(rs.id, &cp))
	}
	slices.SortFunc(cancelled, func(x, y *store.Record) int {
		if x.Frame != y.Frame {
			if x.Frame < y.Frame {
				return -1
			}
			return 1
		}
		if x.Key < y.Key {
			return -1
		}
		if x.Key > y.Key {
			return 1
		}
		return 0
	})
	for _, rec := range cancelled {
		b.emitRecord(rs, rec, "")
	}
	end := *e
	ev := &store.Event{Type: typ, End: &end}
	var cut bool
	if end.Output, cut = store.LimitValue(end.Output, b.s.limits.MaxValueBytes); cut {
		ev.Truncated = true
	}
	b.add(rs, ev)
	return nil
}

// write sends the batch's changes in one round trip.
func (b *batch) write(ctx context.Context) error {
	pb := &pgx.Batch{}
	var ended []string
	for _, rs := range b.runs {
		if rs.endedNow {
			ended = append(ended, rs.id)
		}
	}
	live := func(run string) bool { rs := b.runs[run]; return rs != nil && !rs.endedNow }

	if len(b.recOrder) > 0 {
		n := len(b.recOrder)
		runs, frames, keys, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		data := make([][]byte, n)
		for i, k := range b.recOrder {
			rec := b.recs[k]
			enc, err := encodeRecord(rec)
			if err != nil {
				return err
			}
			runs[i], frames[i], keys[i], statuses[i], data[i] = k.run, k.frame, k.key, string(rec.Status), enc
		}
		pb.Queue(`INSERT INTO skript_records (run, frame, key, status, data)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[])
			ON CONFLICT (run, frame, key) DO UPDATE SET status = excluded.status, data = excluded.data`,
			runs, frames, keys, statuses, data)
	}

	var setRuns, setIDs, dropRuns, dropIDs []string
	var setSeqs []int64
	for k := range b.tokenDirty {
		if !live(k.run) {
			continue
		}
		if seq := b.tokens[k]; seq >= 0 {
			setRuns, setIDs, setSeqs = append(setRuns, k.run), append(setIDs, k.id), append(setSeqs, seq)
		} else {
			dropRuns, dropIDs = append(dropRuns, k.run), append(dropIDs, k.id)
		}
	}
	if len(dropRuns) > 0 {
		pb.Queue(`DELETE FROM skript_tokens t USING unnest($1::text[], $2::text[]) AS d(run, id) WHERE t.run = d.run AND t.id = d.id`,
			dropRuns, dropIDs)
	}
	if len(setRuns) > 0 {
		pb.Queue(`INSERT INTO skript_tokens (run, id, seq) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
			ON CONFLICT (run, id) DO UPDATE SET seq = excluded.seq`, setRuns, setIDs, setSeqs)
	}

	// Groups the batch completed go, with their slots; then the batch's
	// new groups (which may reuse a completed group's id) and slots.
	var doneRuns, doneIDs, slotRuns, slotGrps []string
	var slotNums []int32
	var slotVals [][]byte
	for k, gs := range b.groups {
		if !live(k.run) {
			continue
		}
		if gs.complete {
			doneRuns, doneIDs = append(doneRuns, k.run), append(doneIDs, k.id)
			continue
		}
		for slot, v := range gs.values {
			enc, err := encodeValue(v)
			if err != nil {
				return fmt.Errorf("arrival %s[%d]: %w", k.id, slot, err)
			}
			slotRuns, slotGrps, slotNums, slotVals = append(slotRuns, k.run), append(slotGrps, k.id), append(slotNums, slot), append(slotVals, enc)
		}
	}
	if len(doneRuns) > 0 {
		pb.Queue(`DELETE FROM skript_groups g USING unnest($1::text[], $2::text[]) AS d(run, id) WHERE g.run = d.run AND g.id = d.id`,
			doneRuns, doneIDs)
		pb.Queue(`DELETE FROM skript_slots s USING unnest($1::text[], $2::text[]) AS d(run, id) WHERE s.run = d.run AND s.grp = d.id`,
			doneRuns, doneIDs)
	}
	if len(slotRuns) > 0 {
		pb.Queue(`INSERT INTO skript_slots (run, grp, slot, value) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bytea[])
			ON CONFLICT (run, grp, slot) DO UPDATE SET value = excluded.value`, slotRuns, slotGrps, slotNums, slotVals)
	}
	var gRuns, gIDs []string
	var gTotals, gRemaining, gNext []int32
	var gDefs [][]byte
	for _, ng := range b.newGroups {
		if !live(ng.run) {
			continue
		}
		g := ng.g
		def, err := encodeGroup(g)
		if err != nil {
			return err
		}
		gRuns, gIDs, gDefs = append(gRuns, ng.run), append(gIDs, g.ID), append(gDefs, def)
		gTotals, gRemaining, gNext = append(gTotals, int32(g.Total)), append(gRemaining, int32(g.Total)), append(gNext, int32(g.Started))
	}
	if len(gRuns) > 0 {
		pb.Queue(`INSERT INTO skript_groups (run, id, total, remaining, next, started, def)
			SELECT d.run, d.id, d.total, d.remaining, d.next, $6, d.def
			FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $7::bytea[]) AS d(run, id, total, remaining, next, def)
			ON CONFLICT (run, id) DO UPDATE SET total = excluded.total, remaining = excluded.remaining, next = excluded.next,
				started = excluded.started, def = excluded.def`,
			gRuns, gIDs, gTotals, gRemaining, gNext, b.now, gDefs)
	}

	if err := b.queueTasks(pb, live); err != nil {
		return err
	}

	if len(ended) > 0 {
		pb.Queue(`DELETE FROM skript_tasks WHERE run = ANY($1)`, ended)
		pb.Queue(`DELETE FROM skript_tokens WHERE run = ANY($1)`, ended)
		pb.Queue(`DELETE FROM skript_groups WHERE run = ANY($1)`, ended)
		pb.Queue(`DELETE FROM skript_slots WHERE run = ANY($1)`, ended)
	}

	if len(b.evRuns) > 0 {
		pb.Queue(`INSERT INTO skript_events (run, seq, at, data) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[])`,
			b.evRuns, b.evSeqs, b.evAts, b.evData)
	}
	var chans, payloads []string
	for _, rs := range b.runs {
		if !rs.touched {
			continue
		}
		if rs.end != nil {
			out, err := encodeValue(rs.end.Output)
			if err != nil {
				return fmt.Errorf("run output: %w", err)
			}
			pb.Queue(`UPDATE skript_runs SET events = $2, cut = $3, status = $4, output = $5, error = $6, ended = $7 WHERE id = $1`,
				rs.id, rs.events, rs.cut, string(rs.end.Status), out, encodeError(rs.end.Error), rs.endAt.UnixNano())
			chans, payloads = append(chans, chanEnded), append(payloads, rs.id)
		} else {
			pb.Queue(`UPDATE skript_runs SET events = $2, cut = $3 WHERE id = $1`, rs.id, rs.events, rs.cut)
		}
		chans, payloads = append(chans, chanEvents), append(payloads, rs.id)
	}
	if len(b.tasks) > 0 {
		chans, payloads = append(chans, chanTasks), append(payloads, "")
	}
	for _, n := range b.notices {
		chans, payloads = append(chans, chanEnded), append(payloads, n)
	}
	if len(chans) > 0 {
		pb.Queue(`SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS n(c, p)`, chans, payloads)
	}
	if pb.Len() == 0 {
		return nil
	}
	return b.tx.SendBatch(ctx, pb).Close()
}

// queueTasks enqueues the batch's tasks of runs still running: visible
// when due, ready (enqueued) from then.
func (b *batch) queueTasks(pb *pgx.Batch, live func(string) bool) error {
	var runs []string
	var vis []time.Time
	var data [][]byte
	for _, t := range b.tasks {
		if !live(t.Run) {
			continue
		}
		at := b.now
		if !t.At.IsZero() && t.At.After(b.now) {
			at = t.At
		}
		cp := *t
		cp.Enqueued = time.Time{}
		enc, err := encodeTask(&cp)
		if err != nil {
			return err
		}
		runs, vis, data = append(runs, t.Run), append(vis, at), append(data, enc)
	}
	if len(runs) > 0 {
		pb.Queue(`INSERT INTO skript_tasks (run, visible, enqueued, data) SELECT r, v, v, d FROM unnest($1::text[], $2::timestamptz[], $3::bytea[]) AS t(r, v, d)`,
			runs, vis, data)
	}
	return nil
}
