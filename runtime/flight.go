package runtime

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/skript-dev/skript/store"
)

// inflight is a task running on a goroutine of its own.
type inflight struct {
	task   *store.Task
	cancel context.CancelCauseFunc
}

// flightSet tracks the tasks running on goroutines of their own, so that a
// run's end cancels its actions, the heartbeat extends their leases and a
// stopping worker cancels what is left. It is sharded by run, so tasks
// starting and ending on different CPUs rarely share a lock, and a run's
// end looks at one shard only.
type flightSet struct {
	seed   maphash.Seed
	once   sync.Once
	shards [32]flightShard
}

type flightShard struct {
	mu sync.Mutex
	m  map[*inflight]struct{}
	_  [40]byte // keep shards on separate cache lines
}

func (s *flightSet) shard(run string) *flightShard {
	s.once.Do(func() { s.seed = maphash.MakeSeed() })
	return &s.shards[maphash.String(s.seed, run)%uint64(len(s.shards))]
}

func (s *flightSet) add(f *inflight) {
	sh := s.shard(f.task.Run)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = map[*inflight]struct{}{}
	}
	sh.m[f] = struct{}{}
	sh.mu.Unlock()
}

func (s *flightSet) remove(f *inflight) {
	sh := s.shard(f.task.Run)
	sh.mu.Lock()
	delete(sh.m, f)
	sh.mu.Unlock()
}

// cancelRun cancels the tasks of one run that a notice of the Ended feed
// stops.
func (s *flightSet) cancelRun(n store.Notice, cause error) {
	sh := s.shard(n.Run)
	sh.mu.Lock()
	for f := range sh.m {
		if n.Stops(f.task) {
			f.cancel(cause)
		}
	}
	sh.mu.Unlock()
}

// cancelAll cancels every task.
func (s *flightSet) cancelAll(cause error) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for f := range sh.m {
			f.cancel(cause)
		}
		sh.mu.Unlock()
	}
}

// tasks lists the running tasks.
func (s *flightSet) tasks() []*store.Task {
	var out []*store.Task
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for f := range sh.m {
			out = append(out, f.task)
		}
		sh.mu.Unlock()
	}
	return out
}

// slotPool bounds the tasks a worker holds (leased and not yet run). The
// lease loop takes free slots in bulk and runners give them back in bulk,
// so the cost is one lock per batch rather than a channel operation per
// task.
type slotPool struct {
	mu      sync.Mutex
	free    int
	waiting chan struct{} // non-nil while the lease loop waits for a slot
}

func newSlotPool(n int) *slotPool { return &slotPool{free: n} }

// acquire waits until a slot is free and takes up to max of them; 0 when
// ctx is done first.
func (p *slotPool) acquire(ctx context.Context, max int) int {
	for {
		p.mu.Lock()
		if p.free > 0 {
			n := min(p.free, max)
			p.free -= n
			p.mu.Unlock()
			return n
		}
		ch := make(chan struct{})
		p.waiting = ch
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0
		}
	}
}

func (p *slotPool) release(n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	p.free += n
	if p.waiting != nil {
		close(p.waiting)
		p.waiting = nil
	}
	p.mu.Unlock()
}
