package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/skript-dev/skript/store"
)

// Benchmark measures the driver's cost per task for a fan-out of n children
// joined by one group, the shape of `skript bench`: each child task is
// leased in batches and completed with an arrival; the last arrival resumes
// the parent, which ends the run. b.N counts tasks.
func Benchmark(b *testing.B, newStore Factory, n int) {
	s := newStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	for done < b.N {
		id := NewRunID()
		g := &store.Group{ID: "t.1", Total: n, Started: n, ChildPCs: make([]int32, n), Result: store.RecordKey{Key: "fan"},
			Parent: &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: "t", Seq: 2, PC: 9}}
		first := &store.Transition{Tokens: make([]store.TokenSet, 0, n+1), Groups: []*store.Group{g}}
		first.Tokens = append(first.Tokens, store.TokenSet{ID: "t", Seq: 2})
		for i := range n {
			tok := store.ChildToken(g.ID, i)
			first.Tokens = append(first.Tokens, store.TokenSet{ID: tok, Seq: 1})
			first.Tasks = append(first.Tasks, &store.Task{Run: id, Hash: "h", Kind: store.Exec, Token: tok, Seq: 1, PC: 1, Group: g.ID, Slot: int32(i)})
		}
		if err := s.CreateRun(ctx, &store.Run{ID: id, Workflow: "bench", Hash: "h"}, first); err != nil {
			b.Fatal(err)
		}
		left := n + 1
		for left > 0 {
			tasks, err := s.Lease(ctx, "bench", 256, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			done := make([]store.Completion, len(tasks))
			for i, tk := range tasks {
				tr := &store.Transition{Token: tk.Token, Seq: tk.Seq}
				if tk.Token == "t" {
					tr.End = &store.RunEnd{Status: store.Succeeded}
				} else {
					tr.Drop = []string{tk.Token}
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
}
