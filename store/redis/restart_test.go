package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// retry calls op with backoff until it succeeds, as a worker loop does, and
// returns how many attempts failed.
func retry(t *testing.T, what string, op func(ctx context.Context) error) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	backoff := 10 * time.Millisecond
	for failed := 0; ; failed++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := op(ctx)
		cancel()
		if err == nil {
			return failed
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still failing: %v", what, err)
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, 200*time.Millisecond)
	}
}

// TestRedisRestart stops Redis (appendonly yes) in the middle of a chain
// of completions: calls fail while it is down, and the same calls, retried,
// succeed once it is back, with nothing lost or applied twice.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	tg := &redistest.Target{URL: srv.URL(), Server: srv}
	s := open(t, tg, tg.Prefix(t))
	id := newRun(t, s)
	const steps, stopAt = 10, 4
	for i := 1; i <= steps; i++ {
		var tk *store.Task
		retry(t, "lease", func(ctx context.Context) error {
			got, err := s.Lease(ctx, "w", 1, 200*time.Millisecond)
			if err == nil && len(got) == 1 {
				tk = got[0]
			} else if err == nil {
				err = context.DeadlineExceeded // not there yet
			}
			return err
		})
		require.EqualValues(t, i, tk.Seq)
		tr := advance(tk)
		if i == steps {
			tr.Tasks = nil
			tr.End = &store.RunEnd{Status: store.Succeeded}
		}
		if i == stopAt {
			srv.Stop()
			_, err := s.Complete(ctxT(t), []store.Completion{{Task: tk, Transition: tr}})
			require.Error(t, err, "complete while Redis is down")
			_, err = s.Lease(ctxT(t), "w", 1, 50*time.Millisecond)
			require.Error(t, err, "lease while Redis is down")
			// Reads wait for Redis until their context ends.
			short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, err = s.GetRun(short, id)
			cancel()
			require.Error(t, err, "read while Redis is down")
			restarted := make(chan error, 1)
			go func() {
				time.Sleep(300 * time.Millisecond)
				restarted <- srv.Restart()
			}()
			t.Cleanup(func() { require.NoError(t, <-restarted) })
		}
		var applied []bool
		failed := retry(t, "complete", func(ctx context.Context) error {
			var err error
			applied, err = s.Complete(ctx, []store.Completion{{Task: tk, Transition: tr}})
			return err
		})
		if i == stopAt {
			require.Positive(t, failed, "completions failed while Redis was down")
		}
		require.Equal(t, []bool{true}, applied, "step %d", i)
	}
	r, err := s.WaitRun(ctxT(t), id)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, r.Status)
	recs, err := s.AllRecords(ctxT(t), id)
	require.NoError(t, err)
	require.Len(t, recs, steps)
	require.Nil(t, leaseOne(t, s, "w", 100*time.Millisecond), "nothing left in the queue")
}
