// Package storetest is the conformance suite every store driver must pass,
// and a shared benchmark, so the memory and Redis drivers behave the same.
package storetest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// Factory returns a fresh, empty store for one test.
type Factory func(t testing.TB) store.Store

var runSeq atomic.Int64

// NewRunID returns a run id unique within the test binary.
func NewRunID() string {
	return fmt.Sprintf("run-%d-%d", time.Now().UnixNano(), runSeq.Add(1))
}

// Run runs the conformance suite against the driver. The journal and run
// index cases need the driver to implement store.Journal and
// store.RunIndex; RunLimits checks the journal's bounds.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Blueprints", testBlueprints},
		{"CreateAndLease", testCreateAndLease},
		{"CompleteIsFenced", testCompleteIsFenced},
		{"RecordsKeepStarted", testRecordsKeepStarted},
		{"JoinPassedOnce", testJoinPassedOnce},
		{"BoundedGroupStartsNext", testBoundedGroup},
		{"ConcurrentArrivals", testConcurrentArrivals},
		{"CounterGroups", testCounterGroups},
		{"DelayedTasks", testDelayed},
		{"RunEnd", testRunEnd},
		{"Cancel", testCancel},
		{"Release", testRelease},
		{"LeaseTimesOut", testLeaseTimesOut},
		{"NotFound", testNotFound},
		{"Enqueued", testEnqueued},
		{"StartStepIsFenced", testStartStepIsFenced},
		{"StartStepCancelledAtRunEnd", testStartStepCancelledAtRunEnd},
		{"StartStepThenComplete", testStartStepThenComplete},
		{"NumbersKeepTheirTypes", testNumbers},
		{"ValuesKeepTheirTypes", testValues},
		{"RetryRun", testRetryRun},
		{"QueueStats", testQueueStats},
		{"Journal", testJournal},
		{"JournalRunEnded", testJournalRunEnded},
		{"JournalSkipped", testJournalSkipped},
		{"Finishing", testFinishing},
		{"CancelFinishes", testCancelFinishes},
		{"StopNotice", testStopNotice},
		{"EventsCursor", testEventsCursor},
		{"EventsWait", testEventsWait},
		{"IdempotencyKey", testIdempotencyKey},
		{"ListRuns", testListRuns},
		{"ListRunsPagesWhileCreating", testListRunsPagesWhileCreating},
		{"Schedules", testSchedules},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.fn(t, s)
		})
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newRun creates a run whose root token "t" is at seq 1 with the given tasks.
func newRun(t testing.TB, s store.Store, tasks ...*store.Task) string {
	id := NewRunID()
	for _, tk := range tasks {
		tk.Run = id
		tk.Hash = "h"
	}
	err := s.CreateRun(ctxT(t), &store.Run{ID: id, Workflow: "wf", Version: "3", Hash: "h", Inputs: map[string]any{"x": 1}},
		&store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}}, Tasks: tasks})
	require.NoError(t, err)
	return id
}

// leaseN leases until n tasks have come or the deadline passes.
func leaseN(t testing.TB, s store.Store, n int) []*store.Task {
	var out []*store.Task
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		got, err := s.Lease(ctxT(t), "c1", n-len(out), 200*time.Millisecond)
		require.NoError(t, err)
		out = append(out, got...)
	}
	require.Len(t, out, n, "leased tasks")
	return out
}

func leaseNone(t testing.TB, s store.Store, wait time.Duration) {
	got, err := s.Lease(ctxT(t), "c1", 10, wait)
	require.NoError(t, err)
	require.Empty(t, got)
}

func complete(t testing.TB, s store.Store, task *store.Task, tr *store.Transition) bool {
	applied, err := s.Complete(ctxT(t), []store.Completion{{Task: task, Transition: tr}})
	require.NoError(t, err)
	require.Len(t, applied, 1)
	return applied[0]
}

func testBlueprints(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	require.NoError(t, s.PutBlueprint(ctx, "abc", []byte(`{"x":1}`)))
	require.NoError(t, s.PutBlueprint(ctx, "abc", []byte(`{"x":1}`)))
	got, err := s.GetBlueprint(ctx, "abc")
	require.NoError(t, err)
	require.JSONEq(t, `{"x":1}`, string(got))
	_, err = s.GetBlueprint(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testCreateAndLease(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1, PC: 3, Frame: "a[1]", Attempt: 1})
	r, err := s.GetRun(ctxT(t), id)
	require.NoError(t, err)
	require.Equal(t, store.Running, r.Status)
	require.Equal(t, "wf", r.Workflow)
	require.Equal(t, "3", r.Version)
	require.EqualValues(t, 1, r.Inputs["x"])
	tasks := leaseN(t, s, 1)
	tk := tasks[0]
	require.Equal(t, id, tk.Run)
	require.Equal(t, "h", tk.Hash)
	require.Equal(t, store.Exec, tk.Kind)
	require.Equal(t, "t", tk.Token)
	require.EqualValues(t, 1, tk.Seq)
	require.EqualValues(t, 3, tk.PC)
	require.Equal(t, "a[1]", tk.Frame)
	require.False(t, tk.Enqueued.IsZero(), "Enqueued is set")
	require.Equal(t, "c1", tk.Worker, "Worker is the consumer")
	leaseNone(t, s, 50*time.Millisecond)
}

func testCompleteIsFenced(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1, PC: 0})
	tk := leaseN(t, s, 1)[0]
	rec := &store.Record{RecordKey: store.RecordKey{Key: "a"}, Status: store.Succeeded, Output: map[string]any{"v": 1}, Attempts: 1}
	next := &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 2, PC: 1}
	tr := &store.Transition{Token: "t", Seq: 1, Records: []*store.Record{rec}, Tokens: []store.TokenSet{{ID: "t", Seq: 2}}, Tasks: []*store.Task{next}}
	require.True(t, complete(t, s, tk, tr))
	// The same completion again (a slow worker coming back) changes nothing.
	dup := &store.Transition{Token: "t", Seq: 1, Records: []*store.Record{{RecordKey: rec.RecordKey, Status: store.Failed}},
		Tokens: []store.TokenSet{{ID: "t", Seq: 2}}, Tasks: []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 2, PC: 1}}}
	require.False(t, complete(t, s, tk, dup))
	recs, err := s.Records(ctxT(t), id, []store.RecordKey{{Key: "a"}, {Key: "missing"}})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.Nil(t, recs[1])
	require.Equal(t, store.Succeeded, recs[0].Status)
	require.EqualValues(t, 1, recs[0].Output.(map[string]any)["v"])
	got := leaseN(t, s, 1)
	require.EqualValues(t, 1, got[0].PC)
	leaseNone(t, s, 50*time.Millisecond)
	// An unknown token is stale too.
	require.False(t, complete(t, s, got[0], &store.Transition{Token: "zz", Seq: 2}))
	// A nil transition only acknowledges.
	applied, err := s.Complete(ctxT(t), []store.Completion{{Task: got[0]}})
	require.NoError(t, err)
	require.Equal(t, []bool{false}, applied)
}

func testRecordsKeepStarted(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	start := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)
	key := store.RecordKey{Frame: "loop[2]", Key: "gate"}
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{{RecordKey: key, Status: store.Running, Started: start}},
		Tokens:  []store.TokenSet{{ID: "t", Seq: 2}}, Tasks: []*store.Task{{Run: id, Hash: "h", Kind: store.Resume, Token: "t", Seq: 2}}}))
	tk = leaseN(t, s, 1)[0]
	end := time.Now().UTC()
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 2,
		Records: []*store.Record{{RecordKey: key, Status: store.Succeeded, Output: []any{"x", 2.5}, Finished: end}}}))
	recs, err := s.Records(ctxT(t), id, []store.RecordKey{key})
	require.NoError(t, err)
	require.True(t, recs[0].Started.Equal(start), "started kept: %v vs %v", recs[0].Started, start)
	require.WithinDuration(t, end, recs[0].Finished, time.Millisecond)
	require.Equal(t, []any{"x", 2.5}, recs[0].Output)
	all, err := s.AllRecords(ctxT(t), id)
	require.NoError(t, err)
	require.Len(t, all, 1)
}

// fork creates a group of n children (started of them running) for run id.
func fork(t testing.TB, s store.Store, id string, n, started int) []*store.Task {
	tk := leaseN(t, s, 1)[0]
	g := &store.Group{ID: "t.1", Total: n, Started: started, Frame: "",
		ChildPCs: make([]int32, n),
		Result:   store.RecordKey{Key: "par"},
		Parent:   &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: "t", Seq: 2, PC: 99}}
	tr := &store.Transition{Token: "t", Seq: 1, Tokens: []store.TokenSet{{ID: "t", Seq: 2}}, Groups: []*store.Group{g}}
	for i := range n {
		g.ChildPCs[i] = int32(10 + i)
	}
	for i := range started {
		child := store.ChildToken(g.ID, i)
		tr.Tokens = append(tr.Tokens, store.TokenSet{ID: child, Seq: 1})
		tr.Tasks = append(tr.Tasks, &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: child, Seq: 1, PC: int32(10 + i), Group: g.ID, Slot: int32(i)})
	}
	require.True(t, complete(t, s, tk, tr))
	return leaseN(t, s, started)
}

// arrive completes a child task with an arrival of value v.
func arrive(t testing.TB, s store.Store, tk *store.Task, v any) bool {
	return complete(t, s, tk, &store.Transition{Token: tk.Token, Seq: tk.Seq, Drop: []string{tk.Token},
		Arrivals: []*store.Arrival{{Group: tk.Group, Slot: tk.Slot, Value: v}}})
}

func testJoinPassedOnce(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	kids := fork(t, s, id, 3, 3)
	sort.Slice(kids, func(i, j int) bool { return kids[i].Slot < kids[j].Slot })
	require.True(t, arrive(t, s, kids[2], "c"))
	require.True(t, arrive(t, s, kids[0], map[string]any{"a": 1}))
	require.False(t, arrive(t, s, kids[0], "again"), "a duplicate arrival is stale")
	leaseNone(t, s, 50*time.Millisecond)
	require.True(t, arrive(t, s, kids[1], nil))
	parent := leaseN(t, s, 1)[0]
	require.Equal(t, store.Resume, parent.Kind)
	require.Equal(t, "t", parent.Token)
	require.EqualValues(t, 2, parent.Seq)
	require.EqualValues(t, 99, parent.PC)
	recs, err := s.Records(ctxT(t), id, []store.RecordKey{{Key: "par"}})
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, recs[0].Status)
	require.Equal(t, []any{map[string]any{"a": 1}, nil, "c"}, recs[0].Output)
	leaseNone(t, s, 50*time.Millisecond)
	// The parent token continues.
	require.True(t, complete(t, s, parent, &store.Transition{Token: "t", Seq: 2, End: &store.RunEnd{Status: store.Succeeded}}))
}

func testBoundedGroup(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	kids := fork(t, s, id, 3, 1)
	require.EqualValues(t, 0, kids[0].Slot)
	require.True(t, arrive(t, s, kids[0], 0))
	next := leaseN(t, s, 1)[0]
	require.Equal(t, store.Resume, next.Kind)
	require.EqualValues(t, 1, next.Slot)
	require.EqualValues(t, 11, next.PC)
	require.Equal(t, "t.1", next.Group)
	require.Equal(t, store.ChildToken("t.1", 1), next.Token)
	require.EqualValues(t, 0, next.Seq)
	require.True(t, arrive(t, s, next, 1))
	next = leaseN(t, s, 1)[0]
	require.EqualValues(t, 2, next.Slot)
	require.True(t, arrive(t, s, next, 2))
	parent := leaseN(t, s, 1)[0]
	require.Equal(t, "t", parent.Token)
	recs, err := s.Records(ctxT(t), id, []store.RecordKey{{Key: "par"}})
	require.NoError(t, err)
	require.Equal(t, []any{0, 1, 2}, recs[0].Output)
}

func testConcurrentArrivals(t *testing.T, s store.Store) {
	const n = 64
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	kids := fork(t, s, id, n, n)
	var wg sync.WaitGroup
	for _, k := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arrive(t, s, k, int(k.Slot))
		}()
	}
	wg.Wait()
	parents := leaseN(t, s, 1)
	require.Equal(t, "t", parents[0].Token)
	leaseNone(t, s, 100*time.Millisecond)
	recs, err := s.Records(ctxT(t), id, []store.RecordKey{{Key: "par"}})
	require.NoError(t, err)
	list := recs[0].Output.([]any)
	require.Len(t, list, n)
	for i, v := range list {
		require.Equal(t, i, v)
	}
}

func testDelayed(t *testing.T, s store.Store) {
	at := time.Now().Add(time.Second)
	newRun(t, s, &store.Task{Kind: store.Timer, Token: "t", Seq: 1, At: at})
	// On a loaded machine creating the run can take a while: only check
	// that nothing comes early while there is time left to check it.
	if time.Until(at) > 300*time.Millisecond {
		leaseNone(t, s, 100*time.Millisecond)
	}
	got := leaseN(t, s, 1)
	require.False(t, time.Now().Before(at.Add(-20*time.Millisecond)), "leased before it was due")
	require.Equal(t, store.Timer, got[0].Kind)
}

func testRunEnd(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	ended := s.Ended(ctx)
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	kids := fork(t, s, id, 2, 2)
	sort.Slice(kids, func(i, j int) bool { return kids[i].Slot < kids[j].Slot })
	// Child 0 records a running node, then child 1 fails the run.
	require.True(t, complete(t, s, kids[0], &store.Transition{Token: kids[0].Token, Seq: 1,
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "slow"}, Status: store.Running, Started: time.Now()}},
		Tokens:  []store.TokenSet{{ID: kids[0].Token, Seq: 2}},
		Tasks:   []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: kids[0].Token, Seq: 2, PC: 5, Group: "t.1"}}}))
	queued := leaseN(t, s, 1)[0]
	require.True(t, s.Release(ctx, []*store.Task{queued}) == nil)
	require.True(t, complete(t, s, kids[1], &store.Transition{Token: kids[1].Token, Seq: 1,
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "boom"}, Status: store.Failed, Error: &store.ErrorInfo{Node: "boom", Message: "bad"}}},
		End:     &store.RunEnd{Status: store.Failed, Error: &store.ErrorInfo{Node: "boom", Message: "bad"}}}))
	r, err := s.WaitRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Failed, r.Status)
	require.Equal(t, "boom", r.Error.Node)
	require.Equal(t, "bad", r.Error.Message)
	require.False(t, r.Ended.IsZero())
	// The queued task of the ended run is dropped, and late completions are stale.
	leaseNone(t, s, 100*time.Millisecond)
	require.False(t, complete(t, s, queued, &store.Transition{Token: queued.Token, Seq: 2, End: &store.RunEnd{Status: store.Succeeded}}))
	recs, err := s.Records(ctx, id, []store.RecordKey{{Key: "slow"}})
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, recs[0].Status)
	select {
	case got := <-ended:
		require.Equal(t, id, got)
	case <-time.After(5 * time.Second):
		t.Fatal("no end event")
	}
}

func testCancel(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	require.NoError(t, s.Cancel(ctx, id, "user asked"))
	r, err := s.WaitRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, r.Status)
	require.NoError(t, s.Cancel(ctx, id, "again"))
	leaseNone(t, s, 100*time.Millisecond)
}

func testRelease(t *testing.T, s store.Store) {
	newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1, PC: 7})
	tk := leaseN(t, s, 1)[0]
	require.NoError(t, s.Release(ctxT(t), []*store.Task{tk}))
	again := leaseN(t, s, 1)[0]
	require.EqualValues(t, 7, again.PC)
}

func testLeaseTimesOut(t *testing.T, s store.Store) {
	start := time.Now()
	leaseNone(t, s, 150*time.Millisecond)
	require.Less(t, time.Since(start), 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, _ := s.Lease(ctx, "c1", 1, time.Second)
	require.Empty(t, got)
}

func testNotFound(t *testing.T, s store.Store) {
	_, err := s.GetRun(ctxT(t), "no-such-run")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// running is the record a worker writes as it starts a step.
func running(key store.RecordKey, attempt int, started time.Time) *store.Record {
	return &store.Record{RecordKey: key, Status: store.Running, Attempts: attempt, Started: started}
}

func record(t testing.TB, s store.Store, id string, key store.RecordKey) *store.Record {
	t.Helper()
	recs, err := s.Records(ctxT(t), id, []store.RecordKey{key})
	require.NoError(t, err)
	return recs[0]
}

// testStartStepIsFenced checks that a step's start is recorded only for a
// task whose token is still where the task says: not for another sequence
// or token, not after the task's completion moved the token on (a late
// duplicate delivery must not turn a finished record back into running),
// and not once the run has ended.
func testStartStepIsFenced(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	key := store.RecordKey{Frame: "each[1]", Key: "slow"}
	start := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)

	for _, bad := range []*store.Task{
		{Run: id, Kind: store.Exec, Token: "t", Seq: 2},
		{Run: id, Kind: store.Exec, Token: "t", Seq: 0},
		{Run: id, Kind: store.Exec, Token: "other", Seq: 1},
		{Run: "no-such-run", Kind: store.Exec, Token: "t", Seq: 1},
	} {
		ok, err := s.StartStep(ctx, bad, []*store.Record{running(key, 1, start)})
		require.NoError(t, err)
		require.False(t, ok, "token %s seq %d of run %s", bad.Token, bad.Seq, bad.Run)
	}
	require.Nil(t, record(t, s, id, key))

	ok, err := s.StartStep(ctx, tk, []*store.Record{running(key, 1, start)})
	require.NoError(t, err)
	require.True(t, ok)
	got := record(t, s, id, key)
	require.Equal(t, store.Running, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.True(t, got.Started.Equal(start), "started %v, want %v", got.Started, start)

	end := time.Now().UTC()
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{{RecordKey: key, Status: store.Succeeded, Output: "done", Attempts: 1, Finished: end}},
		Tokens:  []store.TokenSet{{ID: "t", Seq: 2}},
		Tasks:   []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 2, PC: 1}}}))
	// The same task delivered again, late: its start is stale.
	ok, err = s.StartStep(ctx, tk, []*store.Record{running(key, 1, time.Now())})
	require.NoError(t, err)
	require.False(t, ok)
	got = record(t, s, id, key)
	require.Equal(t, store.Succeeded, got.Status)
	require.True(t, got.Started.Equal(start))

	// Once the run has ended, nothing starts.
	next := leaseN(t, s, 1)[0]
	require.NoError(t, s.Cancel(ctx, id, "stop"))
	ok, err = s.StartStep(ctx, next, []*store.Record{running(store.RecordKey{Key: "late"}, 1, time.Now())})
	require.NoError(t, err)
	require.False(t, ok)
	require.Nil(t, record(t, s, id, store.RecordKey{Key: "late"}))
}

// testStartStepCancelledAtRunEnd checks that the running record of a step
// started when its run ends (failed elsewhere, or cancelled) becomes
// cancelled, keeping its start, while the records written with it stay.
func testStartStepCancelledAtRunEnd(t *testing.T, s store.Store) {
	for _, how := range []string{"failed", "cancelled"} {
		t.Run(how, func(t *testing.T) {
			ctx := ctxT(t)
			id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
			kids := fork(t, s, id, 2, 2)
			sort.Slice(kids, func(i, j int) bool { return kids[i].Slot < kids[j].Slot })
			start := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)
			done := store.RecordKey{Key: "quick"}
			slow := store.RecordKey{Key: "slow"}
			ok, err := s.StartStep(ctx, kids[0], []*store.Record{
				{RecordKey: done, Status: store.Succeeded, Output: 1, Attempts: 1, Started: start, Finished: start},
				running(slow, 2, start),
			})
			require.NoError(t, err)
			require.True(t, ok)
			if how == "failed" {
				require.True(t, complete(t, s, kids[1], &store.Transition{Token: kids[1].Token, Seq: kids[1].Seq,
					Records: []*store.Record{{RecordKey: store.RecordKey{Key: "boom"}, Status: store.Failed, Error: &store.ErrorInfo{Node: "boom", Message: "bad"}}},
					End:     &store.RunEnd{Status: store.Failed, Error: &store.ErrorInfo{Node: "boom", Message: "bad"}}}))
			} else {
				require.NoError(t, s.Cancel(ctx, id, "stop"))
			}
			r, err := s.WaitRun(ctx, id)
			require.NoError(t, err)
			require.Equal(t, store.Status(how), r.Status)
			got := record(t, s, id, slow)
			require.Equal(t, store.Cancelled, got.Status)
			require.Equal(t, 2, got.Attempts)
			require.True(t, got.Started.Equal(start), "started %v, want %v", got.Started, start)
			require.False(t, got.Finished.IsZero(), "a cancelled record has its end")
			require.Equal(t, store.Succeeded, record(t, s, id, done).Status)
			// The step's own late completion changes nothing.
			require.False(t, complete(t, s, kids[0], &store.Transition{Token: kids[0].Token, Seq: kids[0].Seq,
				Records: []*store.Record{{RecordKey: slow, Status: store.Succeeded}}}))
			require.Equal(t, store.Cancelled, record(t, s, id, slow).Status)
		})
	}
}

// testStartStepThenComplete checks that the task's completion replaces the
// running record and keeps its start, and that a later attempt's start,
// written without a Started, keeps the first attempt's.
func testStartStepThenComplete(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	key := store.RecordKey{Key: "flaky"}
	first := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)
	ok, err := s.StartStep(ctx, tk, []*store.Record{running(key, 1, first)})
	require.NoError(t, err)
	require.True(t, ok)
	// Attempt 1 fails; attempt 2 is a new task of the token.
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{{RecordKey: key, Status: store.Running, Attempts: 1, Error: &store.ErrorInfo{Node: "flaky", Message: "try again"}}},
		Tokens:  []store.TokenSet{{ID: "t", Seq: 2}},
		Tasks:   []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 2, Attempt: 2}}}))
	tk = leaseN(t, s, 1)[0]
	ok, err = s.StartStep(ctx, tk, []*store.Record{running(key, 2, time.Time{})})
	require.NoError(t, err)
	require.True(t, ok)
	got := record(t, s, id, key)
	require.Equal(t, store.Running, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.True(t, got.Started.Equal(first), "started %v, want the first attempt's %v", got.Started, first)

	end := time.Now().UTC()
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 2,
		Records: []*store.Record{{RecordKey: key, Status: store.Succeeded, Output: map[string]any{"ok": true}, Attempts: 2, Finished: end}},
		End:     &store.RunEnd{Status: store.Succeeded}}))
	got = record(t, s, id, key)
	require.Equal(t, store.Succeeded, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.Equal(t, map[string]any{"ok": true}, got.Output)
	require.True(t, got.Started.Equal(first), "started %v, want %v", got.Started, first)
	require.WithinDuration(t, end, got.Finished, time.Millisecond)
}

// readyWithin checks that a task's Enqueued says it became ready between
// from and to (with a little slack for clocks that round).
func readyWithin(t testing.TB, tk *store.Task, from, to time.Time) {
	t.Helper()
	require.False(t, tk.Enqueued.IsZero(), "task %s has no Enqueued", tk.Token)
	require.False(t, tk.Enqueued.Before(from.Add(-2*time.Millisecond)), "Enqueued %v is before %v", tk.Enqueued, from)
	require.False(t, tk.Enqueued.After(to.Add(2*time.Millisecond)), "Enqueued %v is after %v", tk.Enqueued, to)
}

// testEnqueued checks that every task carries the time it became ready
// (for the scheduling latency workers measure): when its transition was
// applied, when a group's arrival started it, when the group completed
// (the parent), when it was due (a delayed task) and when it was handed
// back.
func testEnqueued(t *testing.T, s store.Store) {
	before := time.Now()
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	first := leaseN(t, s, 1)[0]
	readyWithin(t, first, before, time.Now())

	// A group of 2 that starts 1 child: the second is started by the
	// first's arrival, the parent by the last one.
	require.NoError(t, s.Release(ctxT(t), []*store.Task{first}))
	kids := fork(t, s, id, 2, 1)
	time.Sleep(20 * time.Millisecond)
	mark := time.Now()
	require.True(t, arrive(t, s, kids[0], 0))
	next := leaseN(t, s, 1)[0]
	require.EqualValues(t, 1, next.Slot)
	readyWithin(t, next, mark, time.Now())
	time.Sleep(20 * time.Millisecond)
	mark = time.Now()
	require.True(t, arrive(t, s, next, 1))
	parent := leaseN(t, s, 1)[0]
	require.Equal(t, "t", parent.Token)
	readyWithin(t, parent, mark, time.Now())

	// Handed back, a task is ready again from then on.
	time.Sleep(20 * time.Millisecond)
	mark = time.Now()
	require.NoError(t, s.Release(ctxT(t), []*store.Task{parent}))
	again := leaseN(t, s, 1)[0]
	readyWithin(t, again, mark, time.Now())

	// A delayed task becomes ready when it is due, not when it was enqueued.
	at := time.Now().Add(200 * time.Millisecond)
	newRun(t, s, &store.Task{Kind: store.Timer, Token: "t", Seq: 1, At: at})
	late := leaseN(t, s, 1)[0]
	readyWithin(t, late, at, time.Now())
}

// numbers is a value holding the numbers the runtime stores, as it stores
// them (normalized): whole numbers are int, the others float64.
func numbers() map[string]any {
	return map[string]any{
		"small": 3, "neg": -7, "zero": 0,
		"big":    12345678901234567, // above 2^53: a float64 would round it
		"max":    math.MaxInt64,
		"min":    math.MinInt64,
		"half":   1.5,
		"tiny":   -2.5e-7,
		"huge":   1e300, // whole, but beyond int64: a float64
		"list":   []any{1, 2.25, "3", []any{9007199254740993}},
		"nested": map[string]any{"n": 42, "f": 0.1},
	}
}

// testNumbers checks that numbers read back with the Go types and values
// they were written with, wherever a driver keeps user values: a run's
// inputs and output, node records, and a group's list of arrivals.
func testNumbers(t *testing.T, s store.Store) { keepsValues(t, s, numbers) }

// values are canonical values beyond numbers (see package value): what
// JSON has no type for, and maps that look like the codec's own tags.
func values() map[string]any {
	return map[string]any{
		"second":   time.Second,
		"span":     90*time.Minute + time.Second,
		"nanos":    1500 * time.Nanosecond,
		"negative": -time.Hour,
		"utc":      time.Date(2024, 2, 29, 12, 0, 0, 123456789, time.UTC),
		"offset":   time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("", 5*3600+1800)),
		"deep":     map[string]any{"a": map[string]any{"b": []any{map[string]any{"d": time.Millisecond, "n": 9007199254740993}}}},
		"tag-like": map[string]any{"$time": "not a time"},
		"escaped":  map[string]any{"$map": map[string]any{"$duration": "x"}},
		"dollars":  map[string]any{"$a": 1, "$b": []any{}},
		"empty":    map[string]any{"list": []any{}, "map": map[string]any{}},
		"text":     "é\x00\n\"<&>",
	}
}

// testValues checks that durations, times and nested values read back as
// they were written: the memory driver keeps Go values, a serializing
// driver must give back the same ones (through package value's codec).
func testValues(t *testing.T, s store.Store) { keepsValues(t, s, values) }

// keepsValues writes sample() wherever a driver keeps user values (a
// run's inputs, a record's output, a group's list, a run's output) and
// checks that each reads back equal.
func keepsValues(t *testing.T, s store.Store, numbers func() map[string]any) {
	ctx := ctxT(t)
	id := NewRunID()
	err := s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h", Inputs: numbers()},
		&store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}},
			Tasks: []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}}})
	require.NoError(t, err)
	r, err := s.GetRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, numbers(), r.Inputs, "inputs")

	kids := fork(t, s, id, 3, 3)
	sort.Slice(kids, func(i, j int) bool { return kids[i].Slot < kids[j].Slot })
	key := store.RecordKey{Frame: "f[1]", Key: "n"}
	require.True(t, complete(t, s, kids[0], &store.Transition{Token: kids[0].Token, Seq: kids[0].Seq,
		Records:  []*store.Record{{RecordKey: key, Status: store.Succeeded, Output: numbers()}},
		Drop:     []string{kids[0].Token},
		Arrivals: []*store.Arrival{{Group: kids[0].Group, Slot: kids[0].Slot, Value: numbers()}}}))
	require.True(t, arrive(t, s, kids[1], 12345678901234567))
	require.True(t, arrive(t, s, kids[2], 1.5))
	recs, err := s.Records(ctx, id, []store.RecordKey{key, {Key: "par"}})
	require.NoError(t, err)
	require.Equal(t, numbers(), recs[0].Output, "record output")
	require.Equal(t, []any{numbers(), 12345678901234567, 1.5}, recs[1].Output, "group list")
	all, err := s.AllRecords(ctx, id)
	require.NoError(t, err)
	for _, rec := range all {
		if rec.RecordKey == key {
			require.Equal(t, numbers(), rec.Output, "record output (AllRecords)")
		}
	}

	parent := leaseN(t, s, 1)[0]
	require.True(t, complete(t, s, parent, &store.Transition{Token: "t", Seq: parent.Seq,
		End: &store.RunEnd{Status: store.Succeeded, Output: numbers()}}))
	r, err = s.WaitRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, r.Status)
	require.Equal(t, numbers(), r.Output, "run output")
	require.Equal(t, numbers(), r.Inputs, "inputs after the end")
}
