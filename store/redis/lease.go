package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
)

const (
	// promoteEvery throttles moving due delayed tasks to the streams: each
	// promotion costs a command per partition, and a timer that fires 50 ms
	// late is fine.
	promoteEvery = 50 * time.Millisecond
	promoteLimit = 100
	// idleWait bounds one blocking wait of an idle Lease, so it promotes
	// delayed tasks whose announcement it missed (see due.go) and reclaims
	// lost leases while it waits.
	idleWait = 250 * time.Millisecond
	// pollMax bounds the sleep between sweeps on a Cluster while the
	// doorbell's subscriptions are not up.
	pollMax = 50 * time.Millisecond
	// bellTrust is how long an idle Lease on a Cluster goes without a sweep
	// when the doorbell stays silent.
	bellTrust = time.Second
)

// Lease implements store.Store. It takes entries from the partitions'
// streams through the consumer group, starting at a different partition
// each time so that no partition starves. When none is ready it blocks (on
// a single Redis, XREAD BLOCK on all the streams from where they ended; on
// a Cluster, waiting for a partition's doorbell, see bell.go) until one
// comes or wait has passed.
func (s *Store) Lease(ctx context.Context, consumer string, limit int, wait time.Duration) ([]*store.Task, error) {
	if limit <= 0 {
		limit = 1
	}
	if consumer == "" {
		consumer = group
	}
	s.consumer.Store(&consumer)
	if !s.cluster {
		s.hub.ensure() // for the due times other processes announce
	}
	deadline := time.Now().Add(wait)
	backoff := time.Millisecond
	// quiet is set while nothing was added to the streams since the last
	// sweep: on a single Redis, XREAD from where each stream ended saw
	// nothing; on a Cluster, the doorbell did not ring.
	quiet := false
	var wake *wakeup
	var swept time.Time
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var rung <-chan struct{}
		bellOK := false
		if s.cluster {
			rung, bellOK = s.bell.wait() // before the sweep, so no ring after it is missed
		}
		moved, err := s.promote(ctx)
		if err != nil {
			return nil, err
		}
		// A sweep after a quiet wait would find nothing, unless delayed
		// tasks were just promoted or lost leases are due to be reclaimed.
		// A doorbell's silence is trusted for bellTrust only: a ring is lost
		// when a connection drops.
		if s.cluster && time.Since(swept) >= bellTrust {
			quiet = false
		}
		if !quiet || moved > 0 || s.reclaimDue() {
			swept = time.Now()
			var tasks []*store.Task
			var progressed bool
			tasks, wake, progressed, err = s.sweep(ctx, consumer, limit)
			if err != nil || len(tasks) > 0 {
				return tasks, err
			}
			if progressed {
				continue // entries were buried; others may be right behind them
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if quiet, err = s.wait(ctx, left, wake, rung, bellOK, &backoff); err != nil {
			return nil, err
		}
	}
}

// block waits until an entry newer than ids is added to one of the streams
// (single Redis only: the streams are in several slots), for d at most, or
// until wctx (a child of ctx) ends. It reports whether an entry came.
func (s *Store) block(ctx, wctx context.Context, w *wakeup, d time.Duration) (bool, error) {
	ms := max(d.Milliseconds(), 1)
	// UnblockOnCancel: when wctx ends first, rueidis ends the XREAD with
	// CLIENT UNBLOCK and keeps the connection, rather than closing it.
	cmd := s.c.B().Xread().Count(1).Block(ms).Streams().Key(w.keys...).Id(w.ids...).Build().UnblockOnCancel()
	err := s.c.Do(wctx, cmd).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if wctx.Err() != nil {
			// A delayed task is due, or one was noted: the wait was cut
			// short on purpose, which is not an error.
			return false, nil //nolint:nilerr // see above
		}
		return false, fmt.Errorf("redis store: lease: %w", err)
	}
	return true, nil
}

// wakeup is where each stream ended at the last sweep.
type wakeup struct {
	keys, ids []string
}

// leased is one entry the lease script returned.
type leased struct {
	part int
	id   string
	json string
	// deliveries is how many times the group has handed the entry out,
	// this time included.
	deliveries int64
}

// sweep runs the lease script over the partitions, in rotated order. On a
// single Redis one call visits them all; on a Cluster each partition is its
// own call (its own slot), and the calls stop once limit entries came.
func (s *Store) sweep(ctx context.Context, consumer string, limit int) ([]*store.Task, *wakeup, bool, error) {
	n := len(s.parts)
	start := int(s.rr.Add(1) % uint32(n))
	order := make([]int, n)
	for i := range order {
		order[i] = (start + i) % n
	}
	cursors := s.takeReclaim(order)
	visited := 0
	defer func() { s.putReclaim(order, cursors, visited) }()

	idle := strconv.FormatInt(s.opt.lease.Milliseconds(), 10)
	var got []leased
	var wake *wakeup
	single := !s.cluster
	if single {
		keys := make([]string, n)
		for i, p := range order {
			keys[i] = s.parts[p].q
		}
		args := append([]string{group, consumer, strconv.Itoa(limit), idle, "1"}, cursors...)
		res, err := s.leaseCall(ctx, keys, args)
		switch {
		case err == nil:
			visited = res.visited
			copy(cursors, res.cursors)
			for _, e := range res.entries {
				e.part = order[e.part]
				got = append(got, e)
			}
			for _, f := range res.failed {
				s.partFailed(order[f.k], f.err)
			}
			if res.wake != nil {
				// A skipped key is left out of the wait: XREAD on it
				// would fail.
				wake = &wakeup{}
				for i, id := range res.wake {
					if id != "" && i < len(keys) {
						wake.keys = append(wake.keys, keys[i])
						wake.ids = append(wake.ids, id)
					}
				}
				if len(wake.keys) == 0 {
					wake = nil
				}
			}
		case ctx.Err() != nil || !isKeyError(err):
			return nil, nil, false, err
		default:
			// One partition's key is bad (WRONGTYPE): visit them one by one,
			// so that only that partition stops.
			single = false
		}
	}
	if !single {
		var errs []error
		failed := 0
		for i, p := range order {
			need := limit - len(got)
			if need <= 0 {
				break
			}
			res, err := s.leaseCall(ctx, []string{s.parts[p].q}, []string{group, consumer, strconv.Itoa(need), idle, "0", cursors[i]})
			visited = i + 1
			if err != nil {
				// This partition's shard is down or its key is bad: the
				// others go on (see partFailed).
				if ctx.Err() != nil {
					return nil, nil, false, err
				}
				s.partFailed(p, err)
				errs = append(errs, err)
				failed++
				continue
			}
			if len(res.failed) > 0 {
				s.partFailed(p, res.failed[0].err)
				errs = append(errs, res.failed[0].err)
				failed++
			}
			if len(res.cursors) > 0 {
				cursors[i] = res.cursors[0]
			}
			for _, e := range res.entries {
				e.part = p
				got = append(got, e)
			}
		}
		if failed > 0 && failed == visited && len(got) == 0 {
			return nil, nil, false, errors.Join(errs...) // nothing works: let the worker back off
		}
	}
	tasks, bad := s.decode(got, consumer)
	tasks, gone, err := s.liveTasks(ctx, tasks)
	if err != nil {
		// The entries stay pending under this consumer and are reclaimed
		// after the lease, like those of a worker that died.
		return nil, nil, false, err
	}
	if len(bad) > 0 {
		if err := s.bury(ctx, bad); err != nil {
			return nil, nil, false, err
		}
	}
	if len(gone) > 0 {
		if err := s.ackOnly(ctx, gone); err != nil {
			return nil, nil, false, err
		}
	}
	s.touchLeased(ctx, tasks)
	return tasks, wake, len(bad)+len(gone) > 0, nil
}

type leaseResult struct {
	visited int
	cursors []string
	entries []leased // part is the index into the call's keys
	wake    []string
	// failed are the keys the script skipped (WRONGTYPE), by index.
	failed []keyFailure
}

// keyFailure is a key a script skipped, and why.
type keyFailure struct {
	k   int
	err error
}

func (s *Store) leaseCall(ctx context.Context, keys, args []string) (*leaseResult, error) {
	msg, err := leaseScript.Exec(ctx, s.c, keys, args).ToArray()
	if err != nil {
		return nil, classify(fmt.Errorf("redis store: lease: %w", err))
	}
	if len(msg) != 5 {
		return nil, fmt.Errorf("redis store: lease: unexpected reply of %d parts", len(msg))
	}
	r := &leaseResult{}
	v, err := msg[0].AsInt64()
	if err != nil {
		return nil, fmt.Errorf("redis store: lease: %w", err)
	}
	r.visited = int(v)
	if r.cursors, err = msg[1].AsStrSlice(); err != nil {
		return nil, fmt.Errorf("redis store: lease: %w", err)
	}
	flat, err := msg[2].ToArray()
	if err != nil {
		return nil, fmt.Errorf("redis store: lease: %w", err)
	}
	for i := 0; i+3 < len(flat); i += 4 {
		k, err1 := flat[i].AsInt64()
		id, err2 := flat[i+1].ToString()
		js, err3 := flat[i+2].ToString()
		n, err4 := flat[i+3].AsInt64()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("redis store: lease: %w", err)
		}
		r.entries = append(r.entries, leased{part: int(k) - 1, id: id, json: js, deliveries: n})
	}
	if r.wake, err = msg[3].AsStrSlice(); err != nil {
		return nil, fmt.Errorf("redis store: lease: %w", err)
	}
	bad, err := msg[4].ToArray()
	if err != nil {
		return nil, fmt.Errorf("redis store: lease: %w", err)
	}
	for i := 0; i+1 < len(bad); i += 2 {
		k, err1 := bad[i].AsInt64()
		why, err2 := bad[i+1].ToString()
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("redis store: lease: %w", err)
		}
		r.failed = append(r.failed, keyFailure{int(k) - 1, classify(fmt.Errorf("redis store: lease %s: %s", keys[k-1], why))})
	}
	if len(r.wake) == 0 {
		r.wake = nil
	}
	return r, nil
}

// decode turns leased entries into tasks. It also returns the entries that
// are not tasks of this deployment (bad, with the reason, by partition).
func (s *Store) decode(got []leased, consumer string) (tasks []*store.Task, bad map[int][][2]string) {
	for _, e := range got {
		t := &store.Task{}
		reason := ""
		if e.json == "" {
			reason = "no task field"
		} else if err := json.Unmarshal([]byte(e.json), t); err != nil {
			reason = "bad task JSON: " + err.Error()
		} else if t.Kind < store.Exec || t.Kind > store.Timer {
			reason = fmt.Sprintf("unknown task kind %d", t.Kind)
		} else if t.Run == "" {
			reason = "task without a run"
		} else if p := s.partOf(t.Run); p != e.part {
			reason = fmt.Sprintf("task of run %s belongs to partition %d", t.Run, p)
		}
		if reason != "" {
			if bad == nil {
				bad = map[int][][2]string{}
			}
			bad[e.part] = append(bad[e.part], [2]string{e.id, reason})
			continue
		}
		// The consumer is part of the handle so that Extend checks the
		// entry is still this lease's, whatever name the Store leased
		// under since.
		t.Lease = strconv.Itoa(e.part) + "/" + e.id + "/" + consumer
		t.Deliveries = int32(min(max(e.deliveries, 1), math.MaxInt32))
		t.MaxDeliveries = int32(s.opt.maxDeliveries)
		t.Worker = consumer
		t.Partition = int32(e.part)
		if t.Enqueued.IsZero() {
			// An entry id starts with the time Redis added it, in ms.
			ms, _, _ := strings.Cut(e.id, "-")
			if v, err := strconv.ParseInt(ms, 10, 64); err == nil {
				t.Enqueued = time.UnixMilli(v)
			}
		}
		tasks = append(tasks, t)
	}
	return tasks, bad
}

// liveTasks splits leased tasks into those of running runs and the others
// (gone: their run ended, or its keys expired, or it is not a run of this
// deployment; or the run is finishing and the task is not of its finally
// nodes), reading each run's status once. The lease script cannot
// read them itself: a script may touch only the keys it declares, and
// which runs' entries it will read is known only once it has read them.
// One pipeline of HGETs, whose commands go to their runs' slots.
func (s *Store) liveTasks(ctx context.Context, tasks []*store.Task) (live, gone []*store.Task, err error) {
	if len(tasks) == 0 {
		return tasks, nil, nil
	}
	idx := map[string]int{}
	var cmds rueidis.Commands
	for _, t := range tasks {
		if _, ok := idx[t.Run]; !ok {
			idx[t.Run] = len(cmds)
			cmds = append(cmds, s.c.B().Hmget().Key(s.runKey(t.Run)).Field("status", "fst").Build())
		}
	}
	res := s.c.DoMulti(ctx, cmds...)
	running := make([]bool, len(res))
	finishing := make([]bool, len(res))
	for i, r := range res {
		vals, err := r.ToArray()
		if err == nil && len(vals) != 2 {
			err = fmt.Errorf("HMGET returned %d values", len(vals))
		}
		switch {
		case err == nil:
			st, _ := vals[0].ToString() // nil for no header
			fst, _ := vals[1].ToString()
			running[i] = st == string(store.Running)
			finishing[i] = fst != ""
		case rueidis.IsRedisNil(err), isKeyError(err):
			// No header, or one of the wrong type: no run to run.
		default:
			return nil, nil, classify(fmt.Errorf("redis store: lease: read run headers: %w", err))
		}
	}
	live = tasks[:0:0]
	for _, t := range tasks {
		// A finishing run runs its finally nodes only.
		if i := idx[t.Run]; running[i] && (!finishing[i] || store.InFinally(t.Token)) {
			live = append(live, t)
		} else {
			gone = append(gone, t)
		}
	}
	return live, gone, nil
}

// bury moves unreadable entries to their partition's dead stream.
func (s *Store) bury(ctx context.Context, bad map[int][][2]string) error {
	for part, list := range bad {
		p := s.parts[part]
		args := []string{group}
		for _, e := range list {
			s.log.Error("skript: unreadable queue entry moved to the dead stream",
				"stream", p.q, "id", e[0], "dead", p.dead, "reason", e[1])
			args = append(args, e[0], e[1])
		}
		if err := buryScript.Exec(ctx, s.c, []string{p.q, p.dead}, args).Error(); err != nil {
			return fmt.Errorf("redis store: bury: %w", err)
		}
	}
	return nil
}

// takeReclaim returns, per partition in order, the XAUTOCLAIM cursor to
// reclaim from in this sweep ("" for none). Every lease/4 all partitions
// are due again; a partition stays due until a sweep visited it and its
// scan reached the end.
func (s *Store) takeReclaim(order []int) []string {
	now := time.Now().UnixMilli()
	s.reclaimMu.Lock()
	defer s.reclaimMu.Unlock()
	if now-s.lastReclaim.Load() >= (s.opt.lease / 4).Milliseconds() {
		s.lastReclaim.Store(now)
		for i, c := range s.reclaim {
			if c == "" {
				s.reclaim[i] = "0-0"
			}
		}
	}
	out := make([]string, len(order))
	for i, p := range order {
		out[i] = s.reclaim[p]
		s.reclaim[p] = ""
	}
	return out
}

// reclaimDue reports whether a sweep now would reclaim lost leases.
func (s *Store) reclaimDue() bool {
	s.reclaimMu.Lock()
	defer s.reclaimMu.Unlock()
	if time.Now().UnixMilli()-s.lastReclaim.Load() >= (s.opt.lease / 4).Milliseconds() {
		return true
	}
	for _, c := range s.reclaim {
		if c != "" {
			return true
		}
	}
	return false
}

// putReclaim records the cursors after a sweep: a visited partition whose
// scan is complete is done; the others keep theirs for the next sweep.
func (s *Store) putReclaim(order []int, cursors []string, visited int) {
	s.reclaimMu.Lock()
	defer s.reclaimMu.Unlock()
	for i, p := range order {
		c := cursors[i]
		if i < visited && c == "0-0" {
			c = ""
		}
		if c != "" && s.reclaim[p] == "" {
			s.reclaim[p] = c
		}
	}
}

// promote moves due delayed tasks to the streams, at most every
// promoteEvery unless a known delayed task is due, and returns how many it
// moved.
func (s *Store) promote(ctx context.Context) (int64, error) {
	now := s.redisNowMs()
	last := s.lastPromote.Load()
	due := s.nextDue.Load()
	if now-last < promoteEvery.Milliseconds() && (due == 0 || now < due) {
		return 0, nil
	}
	if !s.lastPromote.CompareAndSwap(last, now) {
		return 0, nil // another Lease of this process is at it
	}
	watch := s.watchDue()
	// A unit is one script call: one partition (part >= 0), or on a single
	// Redis all of them (part -1).
	type unit struct {
		part       int
		keys, args []string
	}
	nowArg, limitArg := strconv.FormatInt(now, 10), strconv.Itoa(promoteLimit)
	stampArg := timeString(time.UnixMilli(now)) // when the tasks moved became ready, near enough
	perPart := func() []unit {
		var units []unit
		for i, p := range s.parts {
			units = append(units, unit{i, []string{p.q, p.delayed}, []string{nowArg, limitArg, s.bellChannel(i), stampArg}})
		}
		return units
	}
	var units []unit
	if s.cluster {
		units = perPart()
	} else {
		keys := make([]string, 0, 2*len(s.parts))
		for _, p := range s.parts {
			keys = append(keys, p.q, p.delayed)
		}
		units = []unit{{-1, keys, []string{nowArg, limitArg, "", stampArg}}}
	}
	var mu sync.Mutex
	var errs []error
	failed := 0
	next, full, total := int64(0), false, int64(0)
	var wg sync.WaitGroup
	var run func(u unit)
	run = func(u unit) {
		wg.Go(func() {
			msg, err := promoteScript.Exec(ctx, s.c, u.keys, u.args).ToArray()
			var moved, nd, rnow int64
			if err == nil && len(msg) == 3 {
				moved, err = msg[0].AsInt64()
				if err == nil {
					var str string
					if str, err = msg[1].ToString(); err == nil {
						nd, err = strconv.ParseInt(str, 10, 64)
					}
				}
				if err == nil {
					var str string
					if str, err = msg[2].ToString(); err == nil {
						rnow, err = strconv.ParseInt(str, 10, 64)
					}
				}
			} else if err == nil {
				err = fmt.Errorf("unexpected reply of %d parts", len(msg))
			}
			if err != nil && u.part < 0 && ctx.Err() == nil && isKeyError(err) {
				// One partition's key is bad (WRONGTYPE): promote them one
				// by one, so that only that partition stops.
				mu.Lock()
				units = perPart()
				mu.Unlock()
				for _, pu := range perPart() {
					run(pu)
				}
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if u.part >= 0 && ctx.Err() == nil {
					s.partFailed(u.part, err)
				}
				errs = append(errs, err)
				failed++
				return
			}
			s.sawRedisTime(rnow)
			total += moved
			if moved >= promoteLimit {
				full = true
			}
			if nd > 0 && (next == 0 || nd < next) {
				next = nd
			}
		})
	}
	for _, u := range units {
		run(u)
	}
	wg.Wait()
	// A failed partition (its shard is down, or a key is bad) only stops
	// itself: the others' tasks were promoted and their next due times
	// count. It fails the call only when no partition worked.
	if failed > 0 && (failed >= len(units) || ctx.Err() != nil) {
		s.promoted(watch, 0, false)
		s.lastPromote.Store(0)
		return 0, classify(fmt.Errorf("redis store: promote: %w", errors.Join(errs...)))
	}
	s.promoted(watch, next, true)
	if full {
		s.lastPromote.Store(0) // more are due: go on at the next sweep
	}
	return total, nil
}

// Extend implements store.Store: XCLAIM resets an entry's idle time, so
// XAUTOCLAIM leaves it alone; JUSTID keeps the delivery count as it is.
// The script extends only the entries still listed under the consumer the
// task was leased for (kept in its lease handle), so a heartbeat that comes
// after another worker reclaimed an entry does not take it back
// (extend.lua).
func (s *Store) Extend(ctx context.Context, tasks []*store.Task) error {
	def := group
	if c := s.consumer.Load(); c != nil {
		def = *c
	}
	type unit struct {
		part     int
		consumer string
	}
	ids := map[unit][]string{}
	for _, t := range tasks {
		if part, id, ok := s.leaseOf(t); ok {
			u := unit{part, consumerOf(t, def)}
			ids[u] = append(ids[u], id)
		}
	}
	for u, list := range ids {
		args := append([]string{group, u.consumer}, list...)
		if err := extendScript.Exec(ctx, s.c, []string{s.parts[u.part].q}, args).Error(); err != nil {
			return fmt.Errorf("redis store: extend: %w", err)
		}
	}
	return nil
}

// Release implements store.Store: each task goes back to the tail of its
// run's stream and its old entry is acknowledged, in one script call per
// partition.
func (s *Store) Release(ctx context.Context, tasks []*store.Task) error {
	args := map[int][]string{}
	for _, t := range tasks {
		part := s.partOf(t.Run)
		id := ""
		if lp, lid, ok := s.leaseOf(t); ok && lp == part {
			id = lid
		}
		// Handed back, the task is ready again from now on.
		cp := *t
		cp.Enqueued = time.Now()
		b, err := json.Marshal(&cp)
		if err != nil {
			return fmt.Errorf("release %s/%s: %w", t.Run, t.Token, err)
		}
		if args[part] == nil {
			args[part] = []string{group, s.bellChannel(part)}
		}
		args[part] = append(args[part], id, string(b))
	}
	for part, a := range args {
		if err := releaseScript.Exec(ctx, s.c, []string{s.parts[part].q}, a).Error(); err != nil {
			return fmt.Errorf("redis store: release: %w", err)
		}
	}
	return nil
}
