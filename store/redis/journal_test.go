package redis_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// TestJournalOff checks that journal=off (WithoutJournal) appends nothing
// while the run's state is the same, and that a bad value is refused.
func TestJournalOff(t *testing.T) {
	tg := redistest.New(t)
	if tg.External {
		t.Skip("adds an option to the server's URL: needs a private server")
	}
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix)
	off, err := redis.Open(ctxT(t), tg.URL+"?journal=off", redis.WithPrefix(prefix))
	require.NoError(t, err)
	defer off.Close()
	id := newRun(t, off)
	tk := leaseOne(t, off, "w", time.Second)
	require.NotNil(t, tk)
	tr := advance(tk)
	tr.Events = []*store.Event{{Type: store.EventLog, Message: "hi"}}
	tr.End = &store.RunEnd{Status: store.Succeeded}
	applied, err := off.Complete(ctxT(t), []store.Completion{{Task: tk, Transition: tr}})
	require.NoError(t, err)
	require.Equal(t, []bool{true}, applied)
	evs, err := off.Events(ctxT(t), id, 0, 10, 0)
	require.NoError(t, err)
	require.Empty(t, evs)
	evs, err = s.Events(ctxT(t), id, 0, 10, 0)
	require.NoError(t, err)
	require.Empty(t, evs)
	recs, err := off.AllRecords(ctxT(t), id)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	r, err := off.GetRun(ctxT(t), id)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, r.Status)

	_, err = redis.Open(ctxT(t), tg.URL+"?journal=maybe", redis.WithPrefix(prefix))
	require.ErrorContains(t, err, "want on or off")
}

// BenchmarkFanoutRecords is a fan-out of 2000 children, each completed
// with a succeeded record as the runtime writes one, with the journal on
// and off: what the journal costs per task, in wall time and in Redis
// CPU time (INFO cpu, so the server must be this benchmark's own).
func BenchmarkFanoutRecords(b *testing.B) {
	const n = 2000
	tg := redistest.New(b)
	c := tg.Client(b)
	cpu := func() float64 {
		info, err := c.Do(context.Background(), c.B().Info().Section("cpu").Build()).ToString()
		require.NoError(b, err)
		var total float64
		for line := range strings.SplitSeq(info, "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
			if k == "used_cpu_user" || k == "used_cpu_sys" {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
		return total
	}
	for _, mode := range []string{"on", "off"} {
		b.Run("journal="+mode, func(b *testing.B) {
			if tg.External {
				b.Skip("needs a private server")
			}
			s, err := redis.Open(context.Background(), tg.URL+"?journal="+mode, redis.WithPrefix(tg.Prefix(b)))
			require.NoError(b, err)
			defer s.Close()
			before := cpu()
			tasks := fanoutRecords(b, s, n)
			b.ReportMetric((cpu()-before)*1e6/float64(tasks), "redis-cpu-us/task")
		})
	}
}

func fanoutRecords(b *testing.B, s *redis.Store, n int) int {
	ctx := context.Background()
	done := 0
	b.ResetTimer()
	for done < b.N {
		id := strconv.FormatInt(time.Now().UnixNano(), 36)
		g := &store.Group{ID: "t.1", Total: n, Started: n, BodyPC: 1, FrameBase: "fan", Result: store.RecordKey{Key: "fan"},
			Parent: &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: "t", Seq: 2, PC: 9}}
		first := &store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 2}}, Groups: []*store.Group{g}}
		for i := range n {
			tok := store.ChildToken(g.ID, i)
			first.Tokens = append(first.Tokens, store.TokenSet{ID: tok, Seq: 1})
			first.Tasks = append(first.Tasks, &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: tok, Seq: 1, PC: 1, Group: g.ID, Slot: int32(i),
				Frame: store.ChildFrame("fan", i)})
		}
		if err := s.CreateRun(ctx, &store.Run{ID: id, Workflow: "bench", Hash: "h"}, first); err != nil {
			b.Fatal(err)
		}
		for left := n + 1; left > 0; {
			tasks, err := s.Lease(ctx, "bench", 256, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			done := make([]store.Completion, len(tasks))
			now := time.Now()
			for i, tk := range tasks {
				tr := &store.Transition{Token: tk.Token, Seq: tk.Seq}
				if tk.Token == "t" {
					tr.End = &store.RunEnd{Status: store.Succeeded}
				} else {
					tr.Drop = []string{tk.Token}
					tr.Records = []*store.Record{{RecordKey: store.RecordKey{Frame: tk.Frame, Key: "work"}, Status: store.Succeeded,
						Attempts: 1, Started: now, Finished: now}}
					tr.Arrivals = []*store.Arrival{{Group: tk.Group, Slot: tk.Slot}}
				}
				done[i] = store.Completion{Task: tk, Transition: tr}
			}
			if _, err := s.Complete(ctx, done); err != nil {
				b.Fatal(err)
			}
			left -= len(tasks)
		}
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(done), "ns/task")
	return done
}

// TestIdempotencyKeyRace creates runs with one key from several goroutines
// at once: exactly one is created, and every other is refused naming it.
func TestIdempotencyKeyRace(t *testing.T) {
	tg := redistest.New(t)
	s := open(t, tg, tg.Prefix(t))
	const n = 8
	errs := make([]error, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		ids[i] = "run-" + strconv.Itoa(i)
		wg.Go(func() {
			errs[i] = s.CreateRun(ctxT(t), &store.Run{ID: ids[i], Workflow: "wf", Hash: "h", Key: "same"}, &store.Transition{})
		})
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		if err == nil {
			require.Empty(t, winner, "two runs were created with one key")
			winner = ids[i]
		}
	}
	require.NotEmpty(t, winner)
	for i, err := range errs {
		if ids[i] == winner {
			continue
		}
		var exists *store.RunExistsError
		require.ErrorAs(t, err, &exists)
		require.Equal(t, winner, exists.ID)
		_, err := s.GetRun(ctxT(t), ids[i])
		require.ErrorIs(t, err, store.ErrNotFound)
	}
}
