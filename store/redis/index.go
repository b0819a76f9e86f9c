package redis

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// The run index is kept per partition, in sorted sets scored by a run's
// created time (unix µs) whose members are run ids, so that equal times
// sort by id as ListRuns wants:
//
//	idx           every kept run
//	idx:s:STATUS  the runs of one status (running, succeeded, failed, cancelled)
//	idx:w:NAME    the runs of one workflow
//	idx:exp       ended runs by end time, member ["id","workflow","key hash","status"]
//	idx:cnt       HASH: STATUS|WORKFLOW -> how many runs
//
// apply.lua writes them in the same call as the run's creation and end.
// An ended run's keys expire after the retention time; trimIndex then
// removes its entries (and its idempotency key), at most once a minute per
// partition and process, after a run ends or when the index is read.
// ListRuns merges the partitions' newest entries in Go.

// indexStatuses are the statuses the index keeps a set of.
var indexStatuses = []store.Status{store.Running, store.Succeeded, store.Failed, store.Cancelled}

func (p partition) statusKey(st store.Status) string { return p.idx + ":s:" + string(st) }
func (p partition) expKey() string                   { return p.idx + ":exp" }
func (p partition) countKey() string                 { return p.idx + ":cnt" }
func (p partition) workflowKey(wf string) string     { return p.idx + ":w:" + wf }

const (
	// trimEvery is how often a process trims a partition's index.
	trimEvery = time.Minute
	// trimMargin is how long after its keys expired an ended run leaves
	// the index: a little later, never before (clocks differ).
	trimMargin = time.Minute
	// trimBatch bounds the runs one trim removes.
	trimBatch = 500
	// maxPage bounds a page of ListRuns.
	maxPage = 1000
	// defaultPage is a page of ListRuns with no limit.
	defaultPage = 50
)

// indexEntry is one candidate of ListRuns.
type indexEntry struct {
	score int64 // created, unix µs
	id    string
	part  int
}

// newer orders entries as ListRuns lists them.
func (e indexEntry) newer(o indexEntry) bool {
	if e.score != o.score {
		return e.score > o.score
	}
	return e.id > o.id
}

// cursor is the cursor that resumes after e.
func (e indexEntry) cursor() string { return strconv.FormatInt(e.score, 10) + ":" + e.id }

func parseCursor(c string) (indexEntry, error) {
	sc, id, ok := strings.Cut(c, ":")
	n, err := strconv.ParseInt(sc, 10, 64)
	if !ok || err != nil || id == "" {
		return indexEntry{}, fmt.Errorf("redis store: bad run list cursor %q", c)
	}
	return indexEntry{score: n, id: id}, nil
}

// scan reads one partition's index newest first, a chunk at a time.
type scan struct {
	part   int
	key    string
	filter string // a second set the runs must be in ("" for none)
	max    string // ZREVRANGEBYSCORE bounds
	min    string
	after  *indexEntry // the cursor: skip it and what sorts before it
	off    int64
	buf    []indexEntry
	done   bool
}

// fetchScans reads each scan's next chunk of n entries.
func (s *Store) fetchScans(ctx context.Context, scans []*scan, n int64) error {
	cmds := make(rueidis.Commands, 0, len(scans))
	for _, sc := range scans {
		cmds = append(cmds, s.c.B().Zrevrangebyscore().Key(sc.key).Max(sc.max).Min(sc.min).Withscores().Limit(sc.off, n).Build())
	}
	for i, r := range s.c.DoMulti(ctx, cmds...) {
		sc := scans[i]
		zs, err := r.AsZScores()
		if err != nil {
			return fmt.Errorf("redis store: list runs: %w", err)
		}
		sc.off += int64(len(zs))
		if int64(len(zs)) < n {
			sc.done = true
		}
		for _, z := range zs {
			e := indexEntry{score: int64(z.Score), id: z.Member, part: sc.part}
			if sc.after != nil && !sc.after.newer(e) {
				continue
			}
			sc.buf = append(sc.buf, e)
		}
	}
	// A second filter (workflow and status): keep the members of both.
	var fcmds rueidis.Commands
	var fscans []*scan
	for _, sc := range scans {
		if sc.filter != "" && len(sc.buf) > 0 {
			ids := make([]string, len(sc.buf))
			for i, e := range sc.buf {
				ids[i] = e.id
			}
			fcmds = append(fcmds, s.c.B().Zmscore().Key(sc.filter).Member(ids...).Build())
			fscans = append(fscans, sc)
		}
	}
	for i, r := range s.c.DoMulti(ctx, fcmds...) {
		vals, err := r.ToArray()
		if err != nil {
			return fmt.Errorf("redis store: list runs: %w", err)
		}
		sc := fscans[i]
		kept := sc.buf[:0]
		for j, v := range vals {
			if !v.IsNil() && j < len(sc.buf) {
				kept = append(kept, sc.buf[j])
			}
		}
		sc.buf = kept
	}
	return nil
}

// scanHeap orders the scans by their newest buffered entry.
type scanHeap []*scan

func (h scanHeap) Len() int           { return len(h) }
func (h scanHeap) Less(i, j int) bool { return h[i].buf[0].newer(h[j].buf[0]) }
func (h scanHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *scanHeap) Push(x any)        { *h = append(*h, x.(*scan)) }
func (h *scanHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// bounds returns ZRANGEBYSCORE's max and min for f and the cursor.
func bounds(f store.RunFilter, after *indexEntry) (string, string) {
	maxs, mins := "+inf", "-inf"
	if !f.CreatedBefore.IsZero() {
		maxs = "(" + strconv.FormatInt(f.CreatedBefore.UnixMicro(), 10)
	}
	if after != nil && (f.CreatedBefore.IsZero() || after.score < f.CreatedBefore.UnixMicro()) {
		maxs = strconv.FormatInt(after.score, 10)
	}
	if !f.CreatedAfter.IsZero() {
		mins = "(" + strconv.FormatInt(f.CreatedAfter.UnixMicro(), 10)
	}
	return maxs, mins
}

// ListRuns implements store.RunIndex.
func (s *Store) ListRuns(ctx context.Context, f store.RunFilter, cursor string, limit int) (*store.RunPage, error) {
	if limit <= 0 {
		limit = defaultPage
	}
	limit = min(limit, maxPage)
	var after *indexEntry
	if cursor != "" {
		e, err := parseCursor(cursor)
		if err != nil {
			return nil, err
		}
		after = &e
	}
	page := &store.RunPage{}
	if f.Status != "" && !indexed(f.Status) {
		return page, nil
	}
	s.trimAll(ctx)
	maxs, mins := bounds(f, after)
	scans := make([]*scan, len(s.parts))
	for i, p := range s.parts {
		sc := &scan{part: i, key: p.idx, max: maxs, min: mins, after: after}
		switch {
		case f.Status != "" && f.Workflow != "":
			sc.key, sc.filter = p.statusKey(f.Status), p.workflowKey(f.Workflow)
		case f.Status != "":
			sc.key = p.statusKey(f.Status)
		case f.Workflow != "":
			sc.key = p.workflowKey(f.Workflow)
		}
		scans[i] = sc
	}
	// Take the newest limit+1 runs that still have a header: the last one
	// says whether there is a next page.
	chunk := int64(max(limit+1, 16))
	var h scanHeap
	pending := scans
	var runs []*store.Run
	var last []indexEntry
	for len(runs) <= limit {
		if len(pending) > 0 {
			if err := s.fetchScans(ctx, pending, chunk); err != nil {
				return nil, err
			}
			for _, sc := range pending {
				if len(sc.buf) > 0 {
					heap.Push(&h, sc)
				}
			}
			pending = nil
		}
		var picked []indexEntry
		for len(runs)+len(picked) <= limit && h.Len() > 0 {
			sc := h[0]
			picked = append(picked, sc.buf[0])
			sc.buf = sc.buf[1:]
			if len(sc.buf) > 0 {
				heap.Fix(&h, 0)
				continue
			}
			heap.Pop(&h)
			if !sc.done {
				// Its next entries may be newer than another's: read them
				// before going on.
				pending = append(pending, sc)
				break
			}
		}
		got, err := s.headers(ctx, picked)
		if err != nil {
			return nil, err
		}
		for i, r := range got {
			if r != nil {
				runs = append(runs, r)
				last = append(last, picked[i])
			}
		}
		if h.Len() == 0 && len(pending) == 0 {
			break
		}
	}
	if len(runs) > limit {
		runs = runs[:limit]
		page.Next = last[limit-1].cursor()
	}
	page.Runs = runs
	return page, nil
}

func indexed(st store.Status) bool {
	for _, s := range indexStatuses {
		if s == st {
			return true
		}
	}
	return false
}

// headers reads the headers of entries, without their inputs and output
// (nil where the run's keys have expired).
func (s *Store) headers(ctx context.Context, es []indexEntry) ([]*store.Run, error) {
	if len(es) == 0 {
		return nil, nil
	}
	cmds := make(rueidis.Commands, len(es))
	for i, e := range es {
		cmds[i] = s.c.B().Hmget().Key(s.parts[e.part].prefix+"run:"+e.id).Field("hdr", "status", "error", "ended").Build()
	}
	out := make([]*store.Run, len(es))
	for i, res := range s.c.DoMulti(ctx, cmds...) {
		vals, err := res.ToArray()
		if err != nil {
			return nil, fmt.Errorf("redis store: list runs: %w", err)
		}
		str := func(k int) string {
			if k >= len(vals) {
				return ""
			}
			v, _ := vals[k].ToString()
			return v
		}
		if str(0) == "" {
			continue // expired since it was listed
		}
		r := &store.Run{}
		if err := json.Unmarshal([]byte(str(0)), r); err != nil {
			return nil, fmt.Errorf("run %s: bad header: %w", es[i].id, store.Permanent(err))
		}
		r.Inputs = nil
		r.Status = store.Status(str(1))
		if v := str(2); v != "" {
			r.Error = &store.ErrorInfo{}
			if err := value.UnmarshalExact(strings.NewReader(v), r.Error); err != nil {
				return nil, fmt.Errorf("run %s: bad error: %w", es[i].id, store.Permanent(err))
			}
		}
		if v := str(3); v != "" {
			if r.Ended, err = time.Parse(time.RFC3339Nano, v); err != nil {
				return nil, fmt.Errorf("run %s: bad end time: %w", es[i].id, store.Permanent(err))
			}
		}
		out[i] = r
	}
	return out, nil
}

// CountRuns implements store.RunIndex: ZCOUNT on the status sets, or for
// a workflow its counters (idx:cnt; with created bounds, the workflow's
// runs in range checked against each status set).
func (s *Store) CountRuns(ctx context.Context, f store.RunFilter) (map[store.Status]int, error) {
	s.trimAll(ctx)
	maxs, mins := bounds(f, nil)
	counts := map[store.Status]int{}
	var cmds rueidis.Commands
	var sts []store.Status
	bounded := !f.CreatedAfter.IsZero() || !f.CreatedBefore.IsZero()
	if f.Workflow != "" && bounded {
		return s.countBounded(ctx, f.Workflow, maxs, mins)
	}
	if f.Workflow != "" {
		fields := make([]string, len(indexStatuses))
		for i, st := range indexStatuses {
			fields[i] = string(st) + "|" + f.Workflow
		}
		for _, p := range s.parts {
			cmds = append(cmds, s.c.B().Hmget().Key(p.countKey()).Field(fields...).Build())
		}
		for _, r := range s.c.DoMulti(ctx, cmds...) {
			vals, err := r.ToArray()
			if err != nil {
				return nil, fmt.Errorf("redis store: count runs: %w", err)
			}
			for i, v := range vals {
				if n, err := v.AsInt64(); err == nil && i < len(indexStatuses) && n > 0 {
					counts[indexStatuses[i]] += int(n)
				}
			}
		}
		return counts, nil
	}
	for _, p := range s.parts {
		for _, st := range indexStatuses {
			cmds = append(cmds, s.c.B().Zcount().Key(p.statusKey(st)).Min(mins).Max(maxs).Build())
			sts = append(sts, st)
		}
	}
	for i, r := range s.c.DoMulti(ctx, cmds...) {
		n, err := r.AsInt64()
		if err != nil {
			return nil, fmt.Errorf("redis store: count runs: %w", err)
		}
		counts[sts[i]] += int(n)
	}
	return counts, nil
}

// countBounded counts a workflow's runs created in a range, by status.
func (s *Store) countBounded(ctx context.Context, wf, maxs, mins string) (map[store.Status]int, error) {
	counts := map[store.Status]int{}
	cmds := make(rueidis.Commands, len(s.parts))
	for i, p := range s.parts {
		cmds[i] = s.c.B().Zrangebyscore().Key(p.workflowKey(wf)).Min(mins).Max(maxs).Build()
	}
	var scmds rueidis.Commands
	var sts []store.Status
	for i, r := range s.c.DoMulti(ctx, cmds...) {
		ids, err := r.AsStrSlice()
		if err != nil {
			return nil, fmt.Errorf("redis store: count runs: %w", err)
		}
		if len(ids) == 0 {
			continue
		}
		for _, st := range indexStatuses {
			scmds = append(scmds, s.c.B().Zmscore().Key(s.parts[i].statusKey(st)).Member(ids...).Build())
			sts = append(sts, st)
		}
	}
	for i, r := range s.c.DoMulti(ctx, scmds...) {
		vals, err := r.ToArray()
		if err != nil {
			return nil, fmt.Errorf("redis store: count runs: %w", err)
		}
		for _, v := range vals {
			if !v.IsNil() {
				counts[sts[i]]++
			}
		}
	}
	return counts, nil
}

// trimAll trims every partition's index that is due (see trimIndex).
func (s *Store) trimAll(ctx context.Context) {
	if s.opt.readOnly {
		return
	}
	for i := range s.parts {
		s.trimIndex(ctx, i)
	}
}

// trimIndex removes from a partition's index the runs whose keys have
// expired (ended longer than the retention time ago), and their
// idempotency keys, at most every trimEvery. Failures are logged: the
// next trim does it.
func (s *Store) trimIndex(ctx context.Context, part int) {
	now := time.Now()
	last := &s.trimmed[part]
	prev := last.Load()
	if now.UnixMilli()-prev < trimEvery.Milliseconds() || !last.CompareAndSwap(prev, now.UnixMilli()) {
		return
	}
	if err := s.trim(ctx, part, now.Add(-s.opt.retention-trimMargin)); err != nil {
		s.log.Warn("skript: trimming the run index", "partition", part, "error", err)
	}
}

// trim removes the runs that ended before t from a partition's index, in
// one call of scripts/trim.lua, then their idempotency keys (each in the
// slot its hash picks).
func (s *Store) trim(ctx context.Context, part int, t time.Time) error {
	p := s.parts[part]
	exp, err := s.c.Do(ctx, s.c.B().Zrangebyscore().Key(p.expKey()).Min("-inf").Max("("+strconv.FormatInt(t.UnixMicro(), 10)).
		Limit(0, trimBatch).Build()).AsStrSlice()
	if err != nil || len(exp) == 0 {
		return err
	}
	keys := []string{p.idx}
	for _, st := range indexStatuses {
		keys = append(keys, p.statusKey(st))
	}
	keys = append(keys, p.expKey(), p.countKey())
	wfAt := map[string]int{}
	args := make([]string, 0, 2*len(exp))
	for _, m := range exp {
		var e []string
		wf := ""
		if json.Unmarshal([]byte(m), &e) == nil && len(e) > 1 {
			wf = e[1]
		}
		k, ok := wfAt[wf]
		if !ok {
			keys = append(keys, p.workflowKey(wf))
			k = len(keys)
			wfAt[wf] = k
		}
		args = append(args, m, strconv.Itoa(k))
	}
	gone, err := trimScript.Exec(ctx, s.c, keys, args).AsStrSlice()
	if err != nil {
		return err
	}
	var dels []rueidis.LuaExec
	for i := 0; i+1 < len(gone); i += 2 {
		dels = append(dels, rueidis.LuaExec{Keys: []string{s.idemKey(gone[i+1])}, Args: []string{gone[i], "", ""}})
	}
	var errs []error
	for _, r := range idemScript.ExecMulti(ctx, s.c, dels...) {
		if err := r.Error(); err != nil && !rueidis.IsRedisNil(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var trimScript = loadScript("trim.lua")
