package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;]*[mAJ]`)

// fold turns records into one state per node: a loop body's iterations
// are counted, the latest gives the status, internal records and records
// in a frame that is not the node's own are left out.
func TestFoldRecords(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	rec := func(frame, key string, st store.Status, started, finished int) *store.Record {
		r := &store.Record{RecordKey: store.RecordKey{Frame: frame, Key: key}, Status: st, Started: at(started)}
		if finished > 0 {
			r.Finished = at(finished)
		}
		return r
	}
	failed := rec("l[1]", "body", store.Failed, 20, 25)
	failed.Error = &store.ErrorInfo{Node: "body", Message: "boom"}
	v := newView(io.Discard, true)
	v.depth = map[string]int{"a": 0, "l": 0, "body": 1}
	states, looped := v.fold([]*store.Record{
		rec("", "a", store.Succeeded, 0, 10),
		rec("", "l", store.Running, 5, 0),
		{RecordKey: store.RecordKey{Frame: "l[0]", Key: "l#iter"}, Status: store.Succeeded},
		rec("l[0]", "body", store.Succeeded, 10, 18),
		failed,
		rec("l[2]", "body", store.Running, 30, 0),
		rec("l[0]", "a", store.Succeeded, 1, 2), // not a's own frame
		nil,
	})
	require.Len(t, states, 3)
	require.Equal(t, map[string]bool{"body": true}, looped)
	require.Equal(t, state{status: store.Succeeded, started: at(0), took: 10 * time.Millisecond, done: 1, asOf: at(10)}, *states["a"])
	require.Equal(t, state{status: store.Running, started: at(5), running: 1, asOf: at(5)}, *states["l"])
	require.Equal(t, state{status: store.Running, started: at(10), running: 1, done: 1, failed: 1, lastError: "boom", failedAt: "l[1]", asOf: at(30)}, *states["body"])
}

// A line shows the source with the later news; a loop body's counts are
// the larger of the two; once the run has ended, the final records, with
// nothing left running.
func TestShownMergesEventsAndRecords(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name   string
		looped bool
		final  bool
		local  state
		rec    *state
		want   state
	}{
		{
			name:  "records only",
			rec:   &state{status: store.Running, running: 1, started: at(0), asOf: at(0)},
			want:  state{status: store.Running, running: 1, started: at(0), asOf: at(0)},
			local: state{},
		},
		{
			name:  "events only",
			local: state{status: store.Succeeded, done: 1, took: time.Second, asOf: at(1000), started: at(0)},
			want:  state{status: store.Succeeded, done: 1, took: time.Second, asOf: at(1000), started: at(0)},
		},
		{
			name:  "this process saw it finish, the poll is behind",
			local: state{status: store.Failed, failed: 1, lastError: "x", asOf: at(50), started: at(10)},
			rec:   &state{status: store.Running, running: 1, started: at(10), asOf: at(10)},
			want:  state{status: store.Failed, failed: 1, lastError: "x", asOf: at(50), started: at(10)},
		},
		{
			name:  "the records are ahead",
			local: state{status: store.Running, running: 1, started: at(10), asOf: at(10)},
			rec:   &state{status: store.Succeeded, done: 1, took: 40 * time.Millisecond, started: at(10), asOf: at(50)},
			want:  state{status: store.Succeeded, done: 1, took: 40 * time.Millisecond, started: at(10), asOf: at(50)},
		},
		{
			name:  "same news: the records win",
			local: state{status: store.Succeeded, done: 1, took: time.Millisecond, asOf: at(50)},
			rec:   &state{status: store.Failed, failed: 1, lastError: "late", asOf: at(50)},
			want:  state{status: store.Failed, failed: 1, lastError: "late", asOf: at(50)},
		},
		{
			name:   "loop body: the larger counts",
			looped: true,
			local:  state{status: store.Succeeded, done: 5, running: 1, took: 3 * time.Millisecond, started: at(2), asOf: at(90)},
			rec:    &state{status: store.Running, done: 3, running: 2, started: at(1), asOf: at(60)},
			want:   state{status: store.Succeeded, done: 5, running: 2, took: 3 * time.Millisecond, started: at(1), asOf: at(60)},
		},
		{
			name:  "ended: still running here, no record",
			final: true,
			local: state{status: store.Running, running: 1, started: at(0), asOf: at(0)},
			want:  state{status: store.Cancelled, started: at(0), asOf: at(0)},
		},
		{
			name:  "ended: the final record, not this process's events",
			final: true,
			local: state{status: store.Running, running: 1, asOf: at(100)},
			rec:   &state{status: store.Cancelled, done: 1, took: 5 * time.Millisecond, asOf: at(20)},
			want:  state{status: store.Cancelled, done: 1, took: 5 * time.Millisecond, asOf: at(20)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newView(io.Discard, true)
			v.final = tc.final
			n := &nodeLine{id: "n", looped: tc.looped, local: tc.local, rec: tc.rec}
			require.Equal(t, tc.want, v.shown(n))
		})
	}
}

// The last frame is drawn from the final records: a node this process saw
// running, and that has no record, shows as cancelled; nodes only the
// records know are added in the order they started.
func TestFinishDrawsFinalRecords(t *testing.T) {
	var out bytes.Buffer
	v := newView(&out, true)
	t0 := time.Now()
	v.event(runtime.Event{Node: "p", Status: store.Running, Time: t0})
	v.event(runtime.Event{Node: "nap", Status: store.Running, Time: t0})
	v.finish([]*store.Record{
		{RecordKey: store.RecordKey{Key: "p"}, Status: store.Failed, Started: t0, Finished: t0.Add(time.Second),
			Error: &store.ErrorInfo{Node: "boom", Message: "nope"}},
		{RecordKey: store.RecordKey{Key: "boom"}, Status: store.Failed, Started: t0.Add(2 * time.Millisecond), Finished: t0.Add(3 * time.Millisecond),
			Error: &store.ErrorInfo{Node: "boom", Message: "nope"}},
		{RecordKey: store.RecordKey{Key: "pause"}, Status: store.Succeeded, Started: t0.Add(time.Millisecond), Finished: t0.Add(2 * time.Millisecond)},
	}, false)
	got := ansiRE.ReplaceAllString(out.String(), "")
	require.Regexp(t, `(?s)p\s+failed\s+1\.0s\s+nope\n.*nap\s+cancelled\s*\n.*pause\s+succeeded\s+1ms\n.*boom\s+failed\s+1ms\s+nope\n$`, got)
	v.event(runtime.Event{Node: "late", Status: store.Succeeded, Time: t0})
	require.NotContains(t, out.String(), "late", "no updates after the last frame")
}

// The view follows the run's journal: with no event from this process (no
// observer), it still shows each step of a fused chain as it starts and
// ends, and the last frame shows them all ended.
func TestFeedFollowsTheJournal(t *testing.T) {
	st := memory.New()
	bp, errs := compiler.Compile("flow.yaml", []byte(`name: fused
nodes:
  - {id: one, kind: Action, action: sleep, params: {duration: 200ms}}
  - {id: two, kind: Action, action: sleep, params: {duration: 600ms}}
`), compiler.Options{})
	require.Empty(t, errs)
	require.Len(t, bp.Code[0].Steps, 2, "one task runs both steps")
	eng := runtime.New(runtime.WithStore(st))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() { _ = eng.Work(ctx, runtime.WorkerOptions{}) }()
	run, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)

	var out syncBuffer
	v := newView(&out, true)
	v.depth = loopDepths(bp)
	lv := startLive(v, st, run.ID)
	shows := func(id string, want store.Status) bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		n := v.byID[id]
		return n != nil && v.shown(n).status == want
	}
	require.Eventually(t, func() bool { return shows("one", store.Running) }, 10*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return shows("one", store.Succeeded) && shows("two", store.Running) }, 10*time.Second, 5*time.Millisecond)
	_, err = run.Wait(ctx)
	require.NoError(t, err)
	lv.stop(false)
	final := ansiRE.ReplaceAllString(out.String(), "")
	require.Regexp(t, `one\s+succeeded\s+\d+ms\n\s*\S+\s+two\s+succeeded`, final)
}

// syncBuffer is a bytes.Buffer safe for the view's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
