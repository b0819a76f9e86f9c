package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// testRetryRun checks what a retried run needs of a driver: its header
// keeps RetryOf, and the records its first transition copies from the run
// it retries keep their Reused mark, outputs, attempts and times, through
// later transitions and the run's end.
func testRetryRun(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	id := NewRunID()
	started := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	finished := started.Add(time.Second)
	kept := &store.Record{RecordKey: store.RecordKey{Frame: "each[3]", Key: "step"}, Status: store.Succeeded,
		Output: map[string]any{"n": 3, "s": "x"}, Attempts: 2, Started: started, Finished: finished, Reused: true}
	handled := &store.Record{RecordKey: store.RecordKey{Key: "soft"}, Status: store.Failed,
		Output: map[string]any{"error": map[string]any{"message": "boom", "node": "soft"}},
		Error:  &store.ErrorInfo{Node: "soft", Message: "boom"}, Attempts: 1, Started: started, Finished: finished, Reused: true}
	fresh := &store.Record{RecordKey: store.RecordKey{Key: "each"}, Status: store.Running, Started: time.Now().UTC()}
	tk := &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}
	require.NoError(t, s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h", Inputs: map[string]any{"x": 1}, RetryOf: "run-before"},
		&store.Transition{Records: []*store.Record{kept, handled, fresh}, Tokens: []store.TokenSet{{ID: "t", Seq: 1}}, Tasks: []*store.Task{tk}}))

	hdr, err := s.GetRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "run-before", hdr.RetryOf)

	check := func(want *store.Record) {
		t.Helper()
		got := record(t, s, id, want.RecordKey)
		require.NotNil(t, got, "%v", want.RecordKey)
		require.True(t, got.Reused, "%v reused", want.RecordKey)
		require.Equal(t, want.Status, got.Status)
		require.Equal(t, want.Output, got.Output)
		require.Equal(t, want.Error, got.Error)
		require.Equal(t, want.Attempts, got.Attempts)
		require.True(t, got.Started.Equal(started), "started %v", got.Started)
		require.True(t, got.Finished.Equal(finished), "finished %v", got.Finished)
	}
	check(kept)
	check(handled)
	require.False(t, record(t, s, id, fresh.RecordKey).Reused)

	leased := leaseN(t, s, 1)[0]
	require.True(t, complete(t, s, leased, &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{{RecordKey: store.RecordKey{Frame: "each[4]", Key: "step"}, Status: store.Succeeded, Output: "y", Attempts: 1}},
		End:     &store.RunEnd{Status: store.Succeeded}}))
	check(kept)
	check(handled)
	require.False(t, record(t, s, id, store.RecordKey{Frame: "each[4]", Key: "step"}).Reused)
	all, err := s.AllRecords(ctx, id)
	require.NoError(t, err)
	reused := 0
	for _, r := range all {
		if r.Reused {
			reused++
		}
	}
	require.Equal(t, 2, reused)
}
