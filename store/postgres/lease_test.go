package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/postgres"
	"github.com/skript-dev/skript/store/postgres/pgtest"
	"github.com/skript-dev/skript/store/storetest"
)

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openURL opens another store on the database of url, as another
// process would.
func openURL(t testing.TB, url string, opts store.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctxFor(t), url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// createRun creates a run whose root token t is at seq 1 with n Exec tasks
// of tokens t0..t(n-1).
func createRun(t testing.TB, s store.Store, n int) string {
	id := storetest.NewRunID()
	tr := &store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}}}
	for i := range n {
		tok := "t" + string(rune('A'+i%26)) + time.Duration(i).String()
		tr.Tokens = append(tr.Tokens, store.TokenSet{ID: tok, Seq: 1})
		tr.Tasks = append(tr.Tasks, &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: tok, Seq: 1})
	}
	require.NoError(t, s.CreateRun(ctxFor(t), &store.Run{ID: id, Workflow: "wf", Hash: "h"}, tr))
	return id
}

// TestLeaseExpires: a task whose worker stops beating is leased again once
// its lease has run out, with its deliveries counted and the limit given.
func TestLeaseExpires(t *testing.T) {
	s := open(t, store.Options{Lease: 300 * time.Millisecond, MaxDeliveries: 3})
	createRun(t, s, 1)
	first, err := s.Lease(ctxFor(t), "w1", 10, 5*time.Second)
	require.NoError(t, err)
	require.Len(t, first, 1)
	require.EqualValues(t, 1, first[0].Deliveries)
	require.EqualValues(t, 3, first[0].MaxDeliveries)
	var again []*store.Task
	for len(again) == 0 {
		again, err = s.Lease(ctxFor(t), "w2", 10, 5*time.Second)
		require.NoError(t, err)
	}
	require.Len(t, again, 1)
	require.Equal(t, first[0].Token, again[0].Token)
	require.EqualValues(t, 2, again[0].Deliveries)
	require.Equal(t, "w2", again[0].Worker)
	// The first worker's late completion still applies once: the fence is
	// the token, not the lease.
	applied, err := s.Complete(ctxFor(t), []store.Completion{{Task: first[0], Transition: &store.Transition{Token: first[0].Token, Seq: 1,
		Drop: []string{first[0].Token}}}})
	require.NoError(t, err)
	require.Equal(t, []bool{true}, applied)
	applied, err = s.Complete(ctxFor(t), []store.Completion{{Task: again[0], Transition: &store.Transition{Token: again[0].Token, Seq: 1,
		Drop: []string{again[0].Token}}}})
	require.NoError(t, err)
	require.Equal(t, []bool{false}, applied)
}

// TestHeartbeatKeepsLease: Extend keeps a leased task from others.
func TestHeartbeatKeepsLease(t *testing.T) {
	s := open(t, store.Options{Lease: 400 * time.Millisecond})
	createRun(t, s, 1)
	got, err := s.Lease(ctxFor(t), "w1", 10, 5*time.Second)
	require.NoError(t, err)
	require.Len(t, got, 1)
	for range 6 {
		time.Sleep(150 * time.Millisecond)
		require.NoError(t, s.Extend(ctxFor(t), got))
		none, err := s.Lease(ctxFor(t), "w2", 10, 0)
		require.NoError(t, err)
		require.Empty(t, none, "an extended lease is taken over")
	}
}

// TestIdleLeaseWakesOnNotify: a worker waiting in Lease is woken by a
// task another process enqueues, before its own next look (which an idle
// worker takes only every few seconds).
func TestIdleLeaseWakesOnNotify(t *testing.T) {
	url := pgtest.NewDatabase(t)
	worker := openURL(t, url, store.Options{})
	submitter := openURL(t, url, store.Options{})
	got := make(chan []*store.Task, 1)
	go func() {
		tasks, _ := worker.Lease(ctxFor(t), "w", 10, 4*time.Second)
		got <- tasks
	}()
	time.Sleep(300 * time.Millisecond)
	createRun(t, submitter, 1)
	require.Len(t, <-got, 1, "the idle worker was not woken")
}

// TestIdleWorkerCost: an idle worker's leasers (four, looping on short
// waits) send about one statement every few seconds between them.
func TestIdleWorkerCost(t *testing.T) {
	s := open(t, store.Options{})
	// Connects, starts listening (which wakes every leaser once) and
	// learns the queue is empty.
	_, err := s.Lease(ctxFor(t), "w", 10, time.Second)
	require.NoError(t, err)
	before := s.Statements()
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < 6*time.Second {
				tasks, err := s.Lease(ctxFor(t), "w", 10, 100*time.Millisecond)
				if err != nil || len(tasks) > 0 {
					t.Errorf("lease: %v, %d tasks", err, len(tasks))
					return
				}
			}
		}()
	}
	wg.Wait()
	sent := s.Statements() - before
	secs := time.Since(start).Seconds()
	t.Logf("idle worker: %d statements in %.1fs", sent, secs)
	require.LessOrEqual(t, float64(sent), secs/2, "an idle worker costs at most one statement every two seconds")
}

// TestConcurrentWorkers: workers of two processes race for the same
// tasks; each task is leased once and each transition applied once.
func TestConcurrentWorkers(t *testing.T) {
	url := pgtest.NewDatabase(t)
	stores := []*postgres.Store{openURL(t, url, store.Options{}), openURL(t, url, store.Options{})}
	const n = 300
	createRun(t, stores[0], n)
	var mu sync.Mutex
	seen := map[string]int{}
	applied := 0
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for {
				tasks, err := s.Lease(ctxFor(t), "w", 7, 500*time.Millisecond)
				if err != nil || len(tasks) == 0 {
					return
				}
				done := make([]store.Completion, len(tasks))
				for i, tk := range tasks {
					done[i] = store.Completion{Task: tk, Transition: &store.Transition{Token: tk.Token, Seq: tk.Seq,
						Records: []*store.Record{{RecordKey: store.RecordKey{Key: tk.Token}, Status: store.Succeeded, Output: 1}},
						Drop:    []string{tk.Token}}}
				}
				ok, err := s.Complete(ctxFor(t), done)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, tk := range tasks {
					seen[tk.Token]++
					if ok[i] {
						applied++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Len(t, seen, n)
	for tok, k := range seen {
		require.Equal(t, 1, k, "task %s leased %d times", tok, k)
	}
	require.Equal(t, n, applied)
}

// TestRetentionDeletesEndedRuns: Expire deletes ended runs with their
// records and journal, and leaves running ones.
func TestRetentionDeletesEndedRuns(t *testing.T) {
	s := open(t, store.Options{})
	ctx := ctxFor(t)
	ended := createRun(t, s, 1)
	running := createRun(t, s, 1)
	require.NoError(t, s.Cancel(ctx, ended, "stop"))
	n, err := s.Expire(ctx, time.Now().Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = s.GetRun(ctx, ended)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Events(ctx, ended, 0, 10, 0)
	require.ErrorIs(t, err, store.ErrNotFound)
	r, err := s.GetRun(ctx, running)
	require.NoError(t, err)
	require.Equal(t, store.Running, r.Status)
}
