package runtime_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skript-dev/skript/bench"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// BenchmarkFanout runs the workflow of `skript bench` (a 2000-way for_each
// of noop Actions, compiled by the real compiler) on the memory store with
// one in-process worker, two runs in flight so the worker never idles
// between runs. b.N counts tasks (noop Actions); ns/task is the wall time
// per task, the figure bench/README.md compares with a goroutine per task.
func BenchmarkFanout(b *testing.B) { benchFanout(b) }

// benchFanout is BenchmarkFanout on an engine with opts as well.
func benchFanout(b *testing.B, opts ...runtime.Option) {
	const fanout = 2000
	bp, err := bench.Compile(fanout)
	if err != nil {
		b.Fatal(err)
	}
	// Ended runs are dropped after 100ms, as `skript bench` does, so
	// the heap stays the size of the runs in flight.
	eng := runtime.New(append([]runtime.Option{runtime.WithStore(memory.New(memory.WithRetention(100 * time.Millisecond)))}, opts...)...)
	ctx := context.Background()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Work(wctx, runtime.WorkerOptions{Grace: time.Second})
	}()
	defer func() { stop(); <-done }()

	runs := (b.N + fanout - 1) / fanout
	const inflight = 2
	b.ReportAllocs()
	b.ResetTimer()
	errs := make(chan error, inflight)
	next := make(chan struct{}, runs)
	for range runs {
		next <- struct{}{}
	}
	close(next)
	for range inflight {
		go func() {
			for range next {
				run, err := eng.Start(ctx, bp, nil)
				if err != nil {
					errs <- err
					return
				}
				// WaitRun, not run.Wait: building the full Result reads
				// every record and is not the scheduler's work.
				hdr, err := eng.Store().WaitRun(ctx, run.ID)
				if err != nil {
					errs <- err
					return
				}
				if hdr.Status != store.Succeeded {
					errs <- fmt.Errorf("run %s ended %s", hdr.ID, hdr.Status)
					return
				}
			}
			errs <- nil
		}()
	}
	for range inflight {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(runs*fanout), "ns/task")
}
