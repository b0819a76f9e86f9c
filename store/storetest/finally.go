package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// needsFinishing skips a finishing case on a driver that says it does not
// finish runs: the runtime refuses finally nodes on it.
func needsFinishing(t *testing.T, s store.Store) {
	if !s.Capabilities().Finishing {
		t.Skip("the driver does not finish runs (Capabilities.Finishing is false)")
	}
}

// newFinallyRun creates a run with a Finally task (pc 90) whose first
// transition forks two tokens, "t" and "u", each with a task.
func newFinallyRun(t testing.TB, s store.Store) string {
	id := NewRunID()
	fin := &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: store.FinallyToken, Seq: 1, PC: 90}
	err := s.CreateRun(ctxT(t), &store.Run{ID: id, Workflow: "wf", Hash: "h", Finally: fin},
		&store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}, {ID: "u", Seq: 1}}, Tasks: []*store.Task{
			{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1, PC: 1},
			{Run: id, Hash: "h", Kind: store.Exec, Token: "u", Seq: 1, PC: 2},
		}})
	require.NoError(t, err)
	return id
}

// notices collects the Ended feed's notices for run id until want came.
func waitNotice(t testing.TB, ch <-chan string, id string, finishing bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-ch:
			if n := store.ParseNotice(n); n.Run == id && n.Finishing == finishing && n.Token == "" {
				return
			}
		case <-deadline:
			t.Fatalf("no notice for run %s (finishing %v)", id, finishing)
		}
	}
}

// testFinishing checks a run with a Finally task: its first end stops
// its work and starts the finally nodes in one step, and the finally
// nodes' end ends it.
func testFinishing(t *testing.T, s store.Store) {
	needsFinishing(t, s)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	feed := s.Ended(ctx)
	id := newFinallyRun(t, s)
	tasks := leaseN(t, s, 1)
	tk := tasks[0]
	other := &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: "u", Seq: 1, PC: 2}
	if tk.Token == "u" {
		other.Token, other.PC = "t", 1
	}
	ok, err := s.StartStep(ctx, tk, []*store.Record{running(store.RecordKey{Key: "slow"}, 1, time.Now())})
	require.NoError(t, err)
	require.True(t, ok)

	// The other token fails the run: a task of its own is queued, which
	// the end must not enqueue, and one of the finally nodes, which it must.
	failed := &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: other.Token, Seq: 2, PC: 3}
	require.True(t, complete(t, s, other, &store.Transition{Token: other.Token, Seq: 1,
		Tokens:  []store.TokenSet{{ID: other.Token, Seq: 2}},
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "boom"}, Status: store.Failed, Attempts: 1, Error: &store.ErrorInfo{Node: "boom", Message: "bad"}}},
		Tasks:   []*store.Task{failed},
		End:     &store.RunEnd{Status: store.Failed, Error: &store.ErrorInfo{Node: "boom", Message: "bad"}}}))
	waitNotice(t, feed, id, true)

	r, err := s.GetRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Running, r.Status, "a finishing run is running")
	require.NotNil(t, r.Finishing)
	require.Equal(t, store.Failed, r.Finishing.Status)
	require.Equal(t, &store.ErrorInfo{Node: "boom", Message: "bad"}, r.Finishing.Error)
	require.Equal(t, store.Cancelled, record(t, s, id, store.RecordKey{Key: "slow"}).Status)

	// The work of the body is over: its tokens are gone, its running step's
	// completion is stale.
	require.False(t, complete(t, s, tk, &store.Transition{Token: tk.Token, Seq: tk.Seq,
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "late"}, Status: store.Succeeded}}}))
	require.Nil(t, record(t, s, id, store.RecordKey{Key: "late"}))
	ok, err = s.StartStep(ctx, tk, []*store.Record{running(store.RecordKey{Key: "late"}, 1, time.Now())})
	require.NoError(t, err)
	require.False(t, ok)

	// Only the finally task is leased, however many of the body were queued.
	fin := leaseN(t, s, 1)[0]
	require.Equal(t, store.FinallyToken, fin.Token)
	require.EqualValues(t, 90, fin.PC)
	require.EqualValues(t, 1, fin.Seq)
	leaseNone(t, s, 100*time.Millisecond)

	// The finally nodes fork; their children are finally tokens too, and
	// a second End from them ends the run, with what it gives.
	child := store.ChildToken(store.FinallyToken+":2", 0)
	require.True(t, store.InFinally(child))
	require.True(t, complete(t, s, fin, &store.Transition{Token: store.FinallyToken, Seq: 1,
		Tokens: []store.TokenSet{{ID: store.FinallyToken, Seq: 2}, {ID: child, Seq: 1}},
		Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: child, Seq: 1, PC: 91}}}))
	ctk := leaseN(t, s, 1)[0]
	require.Equal(t, child, ctk.Token)
	require.True(t, complete(t, s, ctk, &store.Transition{Token: child, Seq: 1,
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "cleanup"}, Status: store.Succeeded, Output: "ok"}},
		End:     &store.RunEnd{Status: store.Failed, Output: "out", Error: &store.ErrorInfo{Node: "boom", Message: "bad"}}}))
	waitNotice(t, feed, id, false)
	r, err = s.WaitRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Failed, r.Status)
	require.Equal(t, "out", r.Output)
	require.Equal(t, store.Failed, r.Finishing.Status, "the end it came to is kept")

	evs := AllEvents(t, s, id)
	checkSeq(t, evs)
	require.Equal(t, []store.EventType{store.EventRunCreated, store.EventStepStarted, store.EventStepFailed,
		store.EventStepCancelled, store.EventRunFinishing, store.EventStepSucceeded, store.EventRunEnded}, types(evs))
	require.Equal(t, store.Failed, evs[4].End.Status)
	require.Equal(t, "boom", evs[4].End.Error.Node)
	leaseNone(t, s, 100*time.Millisecond)
}

// testCancelFinishes checks Cancel on a run with a Finally task: the first
// starts the finally nodes with the run cancelled, the second ends it.
func testCancelFinishes(t *testing.T, s store.Store) {
	needsFinishing(t, s)
	ctx := ctxT(t)
	id := newFinallyRun(t, s)
	require.NoError(t, s.Cancel(ctx, id, "user asked"))
	r, err := s.GetRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Running, r.Status)
	require.NotNil(t, r.Finishing)
	require.Equal(t, store.Cancelled, r.Finishing.Status)
	require.Equal(t, "user asked", r.Finishing.Error.Message)
	fin := leaseN(t, s, 1)[0]
	require.Equal(t, store.FinallyToken, fin.Token)
	leaseNone(t, s, 100*time.Millisecond)

	// A second Cancel stops the finally nodes too.
	ok, err := s.StartStep(ctx, fin, []*store.Record{running(store.RecordKey{Key: "cleanup"}, 1, time.Now())})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Cancel(ctx, id, "now"))
	r, err = s.WaitRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, r.Status)
	require.Equal(t, "now", r.Error.Message)
	require.Equal(t, store.Cancelled, record(t, s, id, store.RecordKey{Key: "cleanup"}).Status)
	require.NoError(t, s.Cancel(ctx, id, "again"), "a no-op once ended")
	require.Equal(t, []store.EventType{store.EventRunCreated, store.EventRunFinishing, store.EventStepStarted,
		store.EventStepCancelled, store.EventRunCancelled}, types(AllEvents(t, s, id)))
}

// testStopNotice checks that an applied transition's Stop puts a
// StopNotice for each token on the Ended feed, and that a stale one does
// not.
func testStopNotice(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	feed := s.Ended(ctx)
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	require.False(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 7, Stop: []string{"stale"}}))
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1, Tokens: []store.TokenSet{{ID: "t", Seq: 2}},
		Drop: []string{"t:1.0", "t:1.1"}, Stop: []string{"t:1.0", "t:1.1"}}))
	got := map[string]bool{}
	deadline := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case n := <-feed:
			p := store.ParseNotice(n)
			require.NotEqual(t, "stale", p.Token, "a stale transition stops nothing")
			if p.Run == id && p.Token != "" {
				got[p.Token] = true
			}
		case <-deadline:
			t.Fatalf("stop notices: got %v", got)
		}
	}
	n := store.ParseNotice(store.StopNotice(id, "t:1.0"))
	require.True(t, n.Stops(&store.Task{Run: id, Token: "t:1.0"}))
	require.True(t, n.Stops(&store.Task{Run: id, Token: "t:1.0:2.3"}), "a token the stopped one started")
	require.False(t, n.Stops(&store.Task{Run: id, Token: "t:1.01"}))
	require.False(t, n.Stops(&store.Task{Run: id, Token: "t"}))
	require.False(t, n.Stops(&store.Task{Run: "other", Token: "t:1.0"}))
}
