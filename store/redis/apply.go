package redis

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

//go:embed scripts/*.lua
var scriptFS embed.FS

func loadScript(name string) *rueidis.Lua {
	b, err := scriptFS.ReadFile("scripts/" + name)
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return rueidis.NewLuaScript(string(b))
}

var (
	applyScript   = loadScript("apply.lua")
	leaseScript   = loadScript("lease.lua")
	promoteScript = loadScript("promote.lua")
	buryScript    = loadScript("bury.lua")
	releaseScript = loadScript("release.lua")
	startScript   = loadScript("start.lua")
	extendScript  = loadScript("extend.lua")
)

// Item results of the apply script.
const (
	codeApplied  = 1
	codeExists   = -1
	codeNotFound = -2
)

// maxItems bounds the items of one apply call: Redis runs nothing else
// while a script runs, so a huge batch is split to keep latency fair.
const maxItems = 512

// exec runs one apply batch and returns its item codes.
func (s *Store) exec(ctx context.Context, b *batch) ([]int64, error) {
	p := s.parts[b.part]
	keys, args := b.keys(p), b.args()
	var codes []int64
	for try := 0; ; try++ {
		msg, err := applyScript.Exec(ctx, s.c, keys, args).ToArray()
		if err != nil {
			return nil, classify(fmt.Errorf("redis store: apply: %w", err))
		}
		if len(msg) > 0 {
			if tag, err := msg[0].ToString(); err == nil && tag == "legacy" && try < 2 {
				// Runs of an earlier layout: move them, then apply (migrate.go).
				ids := make([]string, 0, len(msg)-1)
				for _, m := range msg[1:] {
					id, err := m.ToString()
					if err != nil {
						return nil, fmt.Errorf("redis store: apply: %w", err)
					}
					ids = append(ids, id)
				}
				if err := s.migrate(ctx, b.part, ids); err != nil {
					return nil, err
				}
				continue
			}
		}
		codes = make([]int64, len(msg))
		for i, m := range msg {
			if codes[i], err = m.AsInt64(); err != nil {
				return nil, fmt.Errorf("redis store: apply: %w", err)
			}
		}
		break
	}
	if len(codes) != len(b.idx) {
		return nil, fmt.Errorf("redis store: apply returned %d results for %d items", len(codes), len(b.idx))
	}
	if b.due > 0 {
		// The script counted the delay from Redis's clock; this is the
		// Store's estimate of it.
		s.noteDueAt(s.redisNowMs() + b.due)
	}
	return codes, nil
}

// runHeader is the part of a run's header written once, at creation; the
// fields that change (status, output, error, ended) are hash fields of
// their own.
func runHeader(r *store.Run) (string, error) {
	h := *r
	h.Status, h.Output, h.Error, h.Ended, h.Finishing = "", nil, nil, time.Time{}, nil
	if len(h.Inputs) > 0 {
		h.Inputs = value.Tagged(h.Inputs).(map[string]any)
	}
	b, err := json.Marshal(&h)
	return string(b), err
}

// CreateRun implements store.Store.
func (s *Store) CreateRun(ctx context.Context, run *store.Run, first *store.Transition) error {
	now := s.now()
	hdr := *run
	if hdr.Created.IsZero() {
		hdr.Created = now
	}
	hj, err := runHeader(&hdr)
	if err != nil {
		return fmt.Errorf("run %s: %w", run.ID, err)
	}
	cev, err := s.createdEvent(&hdr)
	if err != nil {
		return fmt.Errorf("run %s: %w", run.ID, err)
	}
	part := s.partOf(run.ID)
	b := s.newBatch(part, now)
	if first == nil {
		first = &store.Transition{}
	}
	ik := ""
	if run.Key != "" {
		ik = keyHash(run.Key)
	}
	fin := ""
	if run.Finally != nil {
		// Queued when the run finishes: the script stamps its Enqueued then.
		ft := *run.Finally
		ft.Enqueued, ft.At = time.Time{}, time.Time{}
		fb, err := json.Marshal(&ft)
		if err != nil {
			return fmt.Errorf("run %s: finally task: %w", run.ID, err)
		}
		fin = string(fb)
	}
	wk := b.wfKey(s.parts[part], hdr.Workflow)
	b.wkAt = append(b.wkAt, [2]int{len(b.items) + 4, wk})
	if err := s.addBody(b, 0, first, run.ID, run.Hash, "", now, "C", run.ID, hj, hdr.Workflow, "",
		strconv.FormatInt(hdr.Created.UnixMicro(), 10), ik, cev, fin); err != nil {
		return fmt.Errorf("run %s: %w", run.ID, err)
	}
	if ik != "" {
		if err := s.reserveKey(ctx, run, ik); err != nil {
			return err
		}
	}
	codes, err := s.exec(ctx, b)
	if err != nil {
		// The run may or may not exist: a reservation stays, and lapses
		// after reserveTTL.
		return err
	}
	if codes[0] == codeExists {
		if ik != "" {
			_ = s.settleKey(ctx, run, ik, false)
		}
		return fmt.Errorf("run %s already exists", run.ID)
	}
	if ik != "" {
		if err := s.settleKey(ctx, run, ik, true); err != nil {
			// The run exists; its key is reserved for reserveTTL only.
			s.log.Warn("skript: keeping a run's idempotency key", "run", run.ID, "error", err)
		}
	}
	s.keepBlueprints(ctx, delayedUntil(map[string]time.Time{run.Hash: now}, first.Tasks, now))
	return nil
}

// Cancel implements store.Store.
func (s *Store) Cancel(ctx context.Context, id string, reason string) error {
	if reason == "" {
		reason = "cancelled"
	}
	ej, err := json.Marshal(&store.ErrorInfo{Type: "cancelled", Message: reason})
	if err != nil {
		return err
	}
	endev, err := s.endEvent(store.EventRunCancelled, &store.RunEnd{Status: store.Cancelled, Error: &store.ErrorInfo{Type: "cancelled", Message: reason}})
	if err != nil {
		return err
	}
	finev, err := s.endEvent(store.EventRunFinishing, &store.RunEnd{Status: store.Cancelled, Error: &store.ErrorInfo{Type: "cancelled", Message: reason}})
	if err != nil {
		return err
	}
	part := s.partOf(id)
	b := s.newBatch(part, s.now())
	b.add(0, "X", id, string(ej), endev, finev)
	codes, err := s.exec(ctx, b)
	if err != nil {
		return err
	}
	if codes[0] == codeNotFound {
		return fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	s.trimIndex(ctx, part)
	return nil
}

// StartStep implements store.Store, in one call of scripts/start.lua.
func (s *Store) StartStep(ctx context.Context, task *store.Task, recs []*store.Record) (bool, error) {
	args := make([]string, 0, 5+4*len(recs))
	args = append(args, task.Token, strconv.FormatUint(uint64(task.Seq), 10), jsonEscaped(task.Worker), s.maxEventsArg(),
		journalTime(s.now()))
	for _, rec := range recs {
		js, err := encodeRecord(rec)
		if err != nil {
			return false, fmt.Errorf("start %s/%s: %w", task.Run, task.Token, err)
		}
		jr, err := s.journalRecord(rec)
		if err != nil {
			return false, fmt.Errorf("start %s/%s: %w", task.Run, task.Token, err)
		}
		hasStarted := "1"
		if rec.Started.IsZero() {
			hasStarted = "0"
		}
		args = append(args, recordField(rec.RecordKey), js, hasStarted, jr)
	}
	p := s.parts[s.partOf(task.Run)].prefix
	keys := []string{p + "run:" + task.Run, p + "tok:" + task.Run, p + "rec:" + task.Run, p + "live:" + task.Run, p + "ev:" + task.Run}
	n, err := startScript.Exec(ctx, s.c, keys, args).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redis store: start %s/%s: %w", task.Run, task.Token, err)
	}
	return n == 1, nil
}

// leaseOf splits a lease handle "partition/entryID[/consumer]" into the
// partition and the entry id.
func (s *Store) leaseOf(t *store.Task) (int, string, bool) {
	p, id, ok := strings.Cut(t.Lease, "/")
	id, _, _ = strings.Cut(id, "/")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n >= len(s.parts) {
		return 0, "", false
	}
	return n, id, true
}

// Complete implements store.Store. Completions are grouped by partition;
// each group is one script call that also acknowledges and deletes the
// tasks' stream entries, so a task is never acknowledged without its
// transition or the other way round. Calls for different partitions run
// concurrently (and on one connection, rueidis pipelines them).
func (s *Store) Complete(ctx context.Context, done []store.Completion) ([]bool, error) {
	applied := make([]bool, len(done))
	now := s.now()
	batches := map[int]*batch{}
	var list []*batch
	var stray []*store.Task // leased in another partition than their run's
	var ends []int          // partitions where a run ends
	for i, c := range done {
		if c.Task == nil {
			continue
		}
		part := s.partOf(c.Task.Run)
		b := batches[part]
		if b == nil || len(b.idx) >= maxItems {
			b = s.newBatch(part, now)
			batches[part] = b
			list = append(list, b)
		}
		ack := ""
		if lp, id, ok := s.leaseOf(c.Task); ok {
			if lp == part {
				ack = id
			} else {
				stray = append(stray, c.Task)
			}
		}
		if c.Transition == nil {
			b.add(i, "A", c.Task.Run, ack)
			continue
		}
		tr := c.Transition
		b.run(c.Task.Run).fences = append(b.run(c.Task.Run).fences, tr.Token)
		if tr.End != nil {
			ends = append(ends, part)
		}
		if err := s.addBody(b, i, tr, c.Task.Run, c.Task.Hash, c.Task.Worker, now,
			"T", c.Task.Run, ack, tr.Token, strconv.FormatUint(uint64(tr.Seq), 10), jsonEscaped(c.Task.Worker)); err != nil {
			return applied, fmt.Errorf("complete %s/%s: %w", c.Task.Run, c.Task.Token, err)
		}
	}
	// One goroutine per partition: a partition's batches run in order,
	// since a later transition may depend on an earlier one of its run.
	byPart := map[int][]*batch{}
	var parts []int
	for _, b := range list {
		if byPart[b.part] == nil {
			parts = append(parts, b.part)
		}
		byPart[b.part] = append(byPart[b.part], b)
	}
	errs := make([]error, len(parts))
	run := func(k int) {
		for _, b := range byPart[parts[k]] {
			codes, err := s.exec(ctx, b)
			if err != nil {
				errs[k] = err
				return
			}
			for j, code := range codes {
				applied[b.idx[j]] = code == codeApplied
			}
		}
	}
	if len(parts) == 1 {
		run(0)
	} else {
		var wg sync.WaitGroup
		for k := range parts {
			wg.Go(func() { run(k) })
		}
		wg.Wait()
	}
	if len(stray) > 0 {
		errs = append(errs, s.ackOnly(ctx, stray))
	}
	var until map[string]time.Time
	for _, c := range done {
		if c.Transition != nil {
			until = delayedUntil(until, c.Transition.Tasks, now)
		}
	}
	s.keepBlueprints(ctx, until)
	for _, part := range ends {
		s.trimIndex(ctx, part)
	}
	return applied, errors.Join(errs...)
}

// ackOnly acknowledges and deletes entries outside of a transition.
func (s *Store) ackOnly(ctx context.Context, tasks []*store.Task) error {
	var cmds rueidis.Commands
	for part, ids := range s.byLease(tasks) {
		q := s.parts[part].q
		cmds = append(cmds, s.c.B().Xack().Key(q).Group(group).Id(ids...).Build(), s.c.B().Xdel().Key(q).Id(ids...).Build())
	}
	for _, r := range s.c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return fmt.Errorf("redis store: ack: %w", err)
		}
	}
	return nil
}

// byLease groups the entry ids of leased tasks by partition.
func (s *Store) byLease(tasks []*store.Task) map[int][]string {
	m := map[int][]string{}
	for _, t := range tasks {
		if part, id, ok := s.leaseOf(t); ok {
			m[part] = append(m[part], id)
		}
	}
	return m
}

// consumerOf is the consumer a task was leased for, the last part of its
// lease handle, or def for a handle without one.
func consumerOf(t *store.Task, def string) string {
	parts := strings.SplitN(t.Lease, "/", 3)
	if len(parts) == 3 && parts[2] != "" {
		return parts[2]
	}
	return def
}
