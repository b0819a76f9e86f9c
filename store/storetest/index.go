package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// indexOf is the driver's store.RunIndex.
func indexOf(t testing.TB, s store.Store) store.RunIndex {
	t.Helper()
	return s
}

// sample is a run of testListRuns: its workflow, its creation time (in
// minutes after the base) and how it ends ("" for still running).
type sample struct {
	workflow string
	minute   int
	end      store.Status
}

// createSamples creates the runs and ends them as they say; it returns
// their ids, in the order given.
func createSamples(t testing.TB, s store.Store, base time.Time, samples []sample) []string {
	ctx := ctxT(t)
	ids := make([]string, len(samples))
	ends := map[string]store.Status{}
	for i, sm := range samples {
		id := NewRunID()
		ids[i] = id
		ends[id] = sm.end
		require.NoError(t, s.CreateRun(ctx, &store.Run{ID: id, Workflow: sm.workflow, Version: "1", Hash: "h",
			Inputs: map[string]any{"i": i}, Created: base.Add(time.Duration(sm.minute) * time.Minute)},
			&store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}}, Tasks: []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}}}))
	}
	for _, tk := range leaseN(t, s, len(samples)) {
		switch st := ends[tk.Run]; st {
		case "":
			require.NoError(t, s.Release(ctx, []*store.Task{tk}))
		case store.Cancelled:
			require.NoError(t, s.Cancel(ctx, tk.Run, "stop"))
		default:
			end := &store.RunEnd{Status: st}
			if st == store.Failed {
				end.Error = &store.ErrorInfo{Node: "boom", Message: "bad"}
			}
			require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1, End: end}))
		}
	}
	return ids
}

// listAll pages through ListRuns, limit runs at a time.
func listAll(t testing.TB, x store.RunIndex, f store.RunFilter, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		page, err := x.ListRuns(ctxT(t), f, cursor, limit)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Runs), limit)
		for _, r := range page.Runs {
			ids = append(ids, r.ID)
		}
		if page.Next == "" {
			return ids
		}
		require.Len(t, page.Runs, limit, "a page before the last is full")
		cursor = page.Next
	}
	t.Fatal("ListRuns does not come to an end")
	return nil
}

func pick(ids []string, idx ...int) []string {
	out := make([]string, len(idx))
	for i, k := range idx {
		out[i] = ids[k]
	}
	return out
}

// testListRuns checks the run index: newest first (ties by id,
// descending), each filter and their combination, cursor pages of every
// size, the headers it returns, and the counts by status.
func testListRuns(t *testing.T, s store.Store) {
	x := indexOf(t, s)
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	ids := createSamples(t, s, base, []sample{
		{"a", 0, store.Succeeded}, // 0
		{"b", 1, store.Failed},    // 1
		{"a", 2, ""},              // 2
		{"a", 3, store.Failed},    // 3
		{"b", 4, store.Cancelled}, // 4
		{"a", 5, store.Succeeded}, // 5
		{"a", 5, ""},              // 6: same time as 5, a later id
	})
	newest := pick(ids, 6, 5, 4, 3, 2, 1, 0)
	for _, limit := range []int{1, 2, 3, 7, 100} {
		require.Equal(t, newest, listAll(t, x, store.RunFilter{}, limit), "limit %d", limit)
	}
	require.Equal(t, pick(ids, 6, 5, 3, 2, 0), listAll(t, x, store.RunFilter{Workflow: "a"}, 2))
	require.Equal(t, pick(ids, 3, 1), listAll(t, x, store.RunFilter{Status: store.Failed}, 1))
	require.Equal(t, pick(ids, 6, 2), listAll(t, x, store.RunFilter{Status: store.Running}, 10))
	require.Equal(t, pick(ids, 3), listAll(t, x, store.RunFilter{Workflow: "a", Status: store.Failed}, 10))
	require.Empty(t, listAll(t, x, store.RunFilter{Workflow: "nope"}, 10))
	// Created bounds are both exclusive.
	window := store.RunFilter{CreatedAfter: base.Add(time.Minute), CreatedBefore: base.Add(5 * time.Minute)}
	require.Equal(t, pick(ids, 4, 3, 2), listAll(t, x, window, 2))
	window.Workflow = "a"
	require.Equal(t, pick(ids, 3, 2), listAll(t, x, window, 1))

	page, err := x.ListRuns(ctxT(t), store.RunFilter{Status: store.Failed}, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Runs, 2)
	r := page.Runs[1]
	require.Equal(t, ids[1], r.ID)
	require.Equal(t, "b", r.Workflow)
	require.Equal(t, "1", r.Version)
	require.Equal(t, "h", r.Hash)
	require.Equal(t, store.Failed, r.Status)
	require.True(t, r.Created.Equal(base.Add(time.Minute)), "created %v", r.Created)
	require.False(t, r.Ended.IsZero())
	require.Equal(t, "boom", r.Error.Node)

	counts, err := x.CountRuns(ctxT(t), store.RunFilter{})
	require.NoError(t, err)
	want := map[store.Status]int{store.Succeeded: 2, store.Failed: 2, store.Running: 2, store.Cancelled: 1}
	for st, n := range want {
		require.Equal(t, n, counts[st], "%s runs", st)
	}
	require.Zero(t, counts[store.Pending])
	counts, err = x.CountRuns(ctxT(t), store.RunFilter{Workflow: "a", Status: store.Failed, CreatedAfter: base})
	require.NoError(t, err)
	require.Equal(t, 1, counts[store.Succeeded], "Status is ignored; CreatedAfter is exclusive")
	require.Equal(t, 1, counts[store.Failed])
	require.Equal(t, 2, counts[store.Running])
	require.Zero(t, counts[store.Cancelled])
}

// testListRunsPagesWhileCreating checks that runs created while a caller
// pages through the index neither repeat nor hide older runs.
func testListRunsPagesWhileCreating(t *testing.T, s store.Store) {
	x := indexOf(t, s)
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	ids := createSamples(t, s, base, []sample{{"a", 0, ""}, {"a", 1, ""}, {"a", 2, ""}, {"a", 3, ""}})
	page, err := x.ListRuns(ctxT(t), store.RunFilter{}, "", 2)
	require.NoError(t, err)
	require.Equal(t, pick(ids, 3, 2), []string{page.Runs[0].ID, page.Runs[1].ID})
	// A newer run, and one as old as ids[1] with a later id: the second
	// sorts right after the cursor.
	late := createSamples(t, s, base, []sample{{"a", 10, ""}, {"a", 1, ""}})
	page, err = x.ListRuns(ctxT(t), store.RunFilter{}, page.Next, 10)
	require.NoError(t, err)
	require.Equal(t, []string{late[1], ids[1], ids[0]}, []string{page.Runs[0].ID, page.Runs[1].ID, page.Runs[2].ID})
	require.Len(t, page.Runs, 3)
	require.Empty(t, page.Next)
}

// BenchmarkListRuns measures the first page of `skript runs` (newest 20
// runs of one workflow, and the counts of one workflow by status) over n
// kept runs of 4 workflows.
func BenchmarkListRuns(b *testing.B, newStore Factory, n int) {
	s := newStore(b)
	x := indexOf(b, s)
	ctx := context.Background()
	base := time.Now().Add(-time.Duration(n) * time.Second)
	for i := range n {
		id := fmt.Sprintf("run-%09d", i)
		err := s.CreateRun(ctx, &store.Run{ID: id, Workflow: fmt.Sprintf("wf%d", i%4), Hash: "h",
			Created: base.Add(time.Duration(i) * time.Second)}, &store.Transition{})
		if err != nil {
			b.Fatal(err)
		}
		if i%3 == 0 {
			if err := s.Cancel(ctx, id, "stop"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("Page", func(b *testing.B) {
		for b.Loop() {
			page, err := x.ListRuns(ctx, store.RunFilter{Workflow: "wf1"}, "", 20)
			if err != nil || len(page.Runs) != 20 {
				b.Fatal(err, len(page.Runs))
			}
		}
	})
	b.Run("FailedPage", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.ListRuns(ctx, store.RunFilter{Status: store.Failed}, "", 20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Count", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.CountRuns(ctx, store.RunFilter{Workflow: "wf1"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
