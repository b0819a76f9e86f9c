package main

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/store"
)

// pollEvery is how often the view reads a run's records once its journal
// was cut at its limit (or cannot be read): one read of the run's record
// hash, a few times a second.
const pollEvery = 200 * time.Millisecond

// Reading the run's journal: the events of one read at most, how long a
// read waits for the next event, and how long the view lets new events
// gather before it reads again (it redraws ten times a second anyway).
const (
	feedPage   = 1000
	feedWait   = 5 * time.Second
	feedGather = 100 * time.Millisecond
)

// live keeps a view up to date while a run goes on: it redraws the view
// and follows the run's journal, where every step's start and end is
// recorded whoever runs it, also the steps fused into one task; once a
// journal is cut at its limit, it polls the run's records.
type live struct {
	v      *view
	st     store.Store
	run    string
	cancel context.CancelFunc
	done   chan struct{}
}

// startLive starts the updates of v for run. Off a terminal it does
// nothing: the plain lines come from this process's events alone.
func startLive(v *view, st store.Store, run string) *live {
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{v: v, st: st, run: run, cancel: cancel, done: make(chan struct{})}
	if !v.tty {
		close(l.done)
		return l
	}
	var wg sync.WaitGroup
	wg.Go(func() { v.loop(ctx) })
	wg.Go(func() { feed(ctx, st, run, v) })
	go func() {
		wg.Wait()
		close(l.done)
	}()
	return l
}

// stop ends the updates once the run has ended and draws the last frame
// from the run's final records, so it agrees with `skript status`. With
// erase, the live block is cleared instead, for a caller that prints the
// nodes itself.
func (l *live) stop(erase bool) {
	l.cancel()
	<-l.done
	var recs []*store.Record
	if l.v.tty && !erase {
		// The run's own context may be cancelled already (Ctrl-C).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		recs, _ = l.st.AllRecords(ctx, l.run)
		cancel()
	}
	l.v.finish(recs, erase)
}

// feed follows the run's journal into v until ctx is done or the run has
// ended: it replays the record events into the run's records as they
// come, so the view reads only what is new, not every record again. A
// journal cut at its limit says nothing more of the records: the view
// then polls them.
func feed(ctx context.Context, st store.Store, run string, v *view) {
	recs := map[store.RecordKey]*store.Record{}
	var after int64
	for ctx.Err() == nil {
		evs, err := st.Events(ctx, run, after, feedPage, feedWait)
		if err != nil {
			if !sleep(ctx, pollEvery) {
				return
			}
			continue
		}
		ended := false
		for _, ev := range evs {
			after = ev.Seq
			switch {
			case ev.Record != nil:
				recs[ev.Record.RecordKey] = ev.Record
			case ev.Type == store.EventTruncated:
				follow(ctx, st, run, v)
				return
			case ev.Type == store.EventRunEnded || ev.Type == store.EventRunCancelled:
				ended = true
			}
		}
		gather := feedGather
		// A full page has more behind it: fold once caught up.
		if len(evs) > 0 && (len(evs) < feedPage || ended) {
			began := time.Now()
			v.records(slices.Collect(maps.Values(recs)))
			// A run with many records (a wide loop) takes longer to fold:
			// let more events gather between folds.
			gather = max(gather, 4*time.Since(began))
		}
		// The last frame is drawn from the final records (stop).
		if ended {
			return
		}
		if len(evs) < feedPage && !sleep(ctx, gather) {
			return
		}
	}
}

// sleep waits for d, or less when ctx is done first; it reports whether
// ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// follow reads the run's records into v until ctx is done.
func follow(ctx context.Context, st store.Store, run string, v *view) {
	for {
		began := time.Now()
		if recs, err := st.AllRecords(ctx, run); err == nil {
			v.records(recs)
		}
		// A run with many records (a wide loop) takes longer to read: poll
		// it less often rather than keep the store busy with it.
		if !sleep(ctx, max(pollEvery, 4*time.Since(began))) {
			return
		}
	}
}

// loopDepths says how many loops enclose each node of bp.
func loopDepths(bp *blueprint.Blueprint) map[string]int {
	m := make(map[string]int, len(bp.Nodes))
	for i, n := range bp.Nodes {
		m[n.ID] = bp.LoopDepth(i)
	}
	return m
}

// runDepths reads the loop depths of a stored run's Blueprint; nil when
// it cannot be read, and then a record counts as in a loop by its frame.
func runDepths(ctx context.Context, st store.Store, id string) map[string]int {
	hdr, err := st.GetRun(ctx, id)
	if err != nil {
		return nil
	}
	data, err := st.GetBlueprint(ctx, hdr.Hash)
	if err != nil {
		return nil
	}
	bp, err := blueprint.Decode(data)
	if err != nil {
		return nil
	}
	return loopDepths(bp)
}

// frameDepth is the number of loop iterations a record's frame names.
func frameDepth(frame string) int {
	if frame == "" {
		return 0
	}
	return strings.Count(frame, "/") + 1
}

// fold turns a run's records into one state per node, and says which
// nodes are inside a loop.
func (v *view) fold(recs []*store.Record) (map[string]*state, map[string]bool) {
	states := map[string]*state{}
	looped := map[string]bool{}
	latest := map[string]time.Time{}
	lastFailed := map[string]time.Time{}
	for _, r := range recs {
		if r == nil || r.Key == "" || store.InternalKey(r.Key) {
			continue // internal records: loop items, iteration values
		}
		d, known := v.depth[r.Key]
		if known && d != frameDepth(r.Frame) {
			continue
		}
		if (known && d > 0) || r.Frame != "" {
			looped[r.Key] = true
		}
		s := states[r.Key]
		if s == nil {
			s = &state{}
			states[r.Key] = s
		}
		switch r.Status {
		case store.Running:
			s.running++
		case store.Failed:
			s.failed++
		case store.Succeeded, store.Cancelled:
			s.done++
		}
		s.started = earliest(s.started, r.Started)
		news := r.Finished
		if news.IsZero() {
			news = r.Started
		}
		if news.After(s.asOf) {
			s.asOf = news
		}
		if r.Status == store.Failed && r.Error != nil {
			if t, ok := lastFailed[r.Key]; !ok || !news.Before(t) {
				lastFailed[r.Key] = news
				s.lastError = r.Error.Message
				s.failedAt = r.Frame
			}
		}
		if t, ok := latest[r.Key]; ok && news.Before(t) {
			continue
		}
		latest[r.Key] = news
		s.status = r.Status
		s.attempt = r.Attempts
		s.took = 0
		if !r.Started.IsZero() && !r.Finished.IsZero() {
			s.took = r.Finished.Sub(r.Started)
		}
	}
	return states, looped
}

// records takes a poll of the run's records.
func (v *view) records(recs []*store.Record) {
	states, looped := v.fold(recs)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.apply(states, looped)
	v.dirty = true
}

func (v *view) apply(states map[string]*state, looped map[string]bool) {
	var fresh []string
	for id, s := range states {
		if n := v.byID[id]; n != nil {
			n.rec = s
			n.looped = n.looped || looped[id]
			continue
		}
		fresh = append(fresh, id)
	}
	// Nodes first seen in this poll go below the others in the order they
	// started; those with no start time yet last.
	sort.Slice(fresh, func(i, j int) bool {
		a, b := states[fresh[i]].started, states[fresh[j]].started
		if a.IsZero() != b.IsZero() {
			return b.IsZero()
		}
		if !a.Equal(b) {
			return a.Before(b)
		}
		return fresh[i] < fresh[j]
	})
	for _, id := range fresh {
		n := v.line(id)
		n.rec = states[id]
		n.looped = looped[id]
	}
}

// shown is what n's line shows: the source with the later news, and once
// the run has ended, the final records.
func (v *view) shown(n *nodeLine) state {
	l, r := n.local, n.rec
	if v.final {
		s := l
		if r != nil {
			s = *r
		}
		// The run has ended: what was still running here was cancelled
		// with it, whether or not its record says so yet.
		if s.running > 0 || s.status == store.Running {
			s.running = 0
			s.status = store.Cancelled
		}
		return s
	}
	if r == nil {
		return l
	}
	s := *r
	if n.looped {
		// This process saw more iterations end than the last poll did.
		if l.done+l.failed > r.done+r.failed {
			s.status, s.took, s.attempt, s.lastError, s.failedAt = l.status, l.took, l.attempt, l.lastError, l.failedAt
		}
		s.done, s.failed, s.running = max(l.done, r.done), max(l.failed, r.failed), max(l.running, r.running)
	} else if l.asOf.After(r.asOf) {
		s = l
	}
	s.started = earliest(l.started, r.started)
	return s
}

// earliest returns the earlier of two times, a zero time meaning unknown.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// finish draws the last frame and stops updating. recs are the run's
// final records (nil when not read); lines still running here show as
// cancelled, since the run has ended. With erase, the live block is
// cleared instead of drawn.
func (v *view) finish(recs []*store.Record, erase bool) {
	var states map[string]*state
	var looped map[string]bool
	if recs != nil {
		states, looped = v.fold(recs)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.closed = true
	if erase {
		v.clear()
		return
	}
	if states != nil {
		v.apply(states, looped)
	}
	v.final = true
	v.dirty = true
	v.draw()
}
