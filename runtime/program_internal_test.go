package runtime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// TestProgramCacheIsBounded: an engine that meets ever new Blueprints keeps
// at most the cache's bound of programs, and a run of an evicted Blueprint
// still runs (its program is rebuilt from the store).
func TestProgramCacheIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxCount int
		maxBytes int64
		want     int
	}{
		{"count", 4, 0, 4},
		{"bytes", 0, 1, 1}, // every program is over one byte: only the newest stays
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			e := New(WithStore(st))
			e.programs.maxCount, e.programs.maxBytes = tc.maxCount, tc.maxBytes
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			workCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- e.Work(workCtx, WorkerOptions{Concurrency: 8}) }()
			defer func() { stop(); <-done }()

			var first string
			run := func(i int) {
				src := fmt.Sprintf("name: flow%d\nnodes:\n  - {id: a, kind: Action, action: set, params: {v: %d}}\n", i, i)
				bp, errs := compiler.Compile("f.yaml", []byte(src), compiler.Options{})
				require.Empty(t, errs)
				if i == 0 {
					first = bp.Hash
				}
				r, err := e.Start(ctx, bp, nil)
				require.NoError(t, err)
				res, err := r.Wait(ctx)
				require.NoError(t, err)
				require.Equal(t, store.Succeeded, res.Status, res.Error)
				require.LessOrEqual(t, e.programs.len(), tc.want)
			}
			for i := range 20 {
				run(i)
			}
			require.Equal(t, tc.want, e.programs.len())
			require.Nil(t, e.programs.cached(first), "the first Blueprint was evicted")
			run(0)
		})
	}
}

// TestProgramCacheKeepsWhatIsUsed: CLOCK gives a program looked up since
// the hand last passed a second chance, so a Blueprint in steady use
// survives a stream of one-off ones.
func TestProgramCacheKeepsWhatIsUsed(t *testing.T) {
	c := &programCache{maxCount: 3}
	mk := func(i int) *program {
		bp, errs := compiler.Compile("f.yaml", fmt.Appendf(nil, "name: f%d\nnodes:\n  - {id: a, kind: Action, action: noop}\n", i), compiler.Options{})
		require.Empty(t, errs)
		p, err := newProgram(bp)
		require.NoError(t, err)
		p.size = 1
		return p
	}
	hot := c.put(mk(0))
	for i := 1; i < 50; i++ {
		require.NotNil(t, c.cached(hot.bp.Hash), "round %d", i)
		c.put(mk(i))
		require.LessOrEqual(t, c.len(), 3)
	}
}

// TestRunHeaderCacheIsBounded: the headers a worker caches go as their runs
// end, and, should the store's end notices be missed, are still bounded.
func TestRunHeaderCacheIsBounded(t *testing.T) {
	st := memory.New()
	defer st.Close()
	e := New(WithStore(st))
	e.maxRuns = 8
	bp, errs := compiler.Compile("f.yaml", []byte("name: f\nnodes:\n  - {id: a, kind: Action, action: noop}\n"), compiler.Options{})
	require.Empty(t, errs)
	ctx := context.Background()
	for range 50 {
		// No worker: nothing ends the runs, nothing removes their headers
		// but the bound.
		r, err := e.Start(ctx, bp, nil)
		require.NoError(t, err)
		info, err := e.runInfo(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, r.ID, info.id)
		n := 0
		e.runs.Range(func(any, any) bool { n++; return true })
		require.LessOrEqual(t, n, 8)
	}
}
