package memory

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/skript-dev/skript/store"
)

// queue is an unbounded FIFO of ready tasks plus a heap of delayed ones.
// Leasers take whole batches under one lock acquisition, so the lock is paid
// once per batch, not once per task.
type queue struct {
	mu      sync.Mutex
	ready   []*store.Task
	head    int
	delayed delayHeap
	// signal wakes one waiting leaser; a leaser that leaves work behind
	// passes the signal on.
	signal chan struct{}
}

func newQueue() *queue {
	return &queue{signal: make(chan struct{}, 1)}
}

func (q *queue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// push enqueues tasks; the caller may hold a run lock (lock order: run, then queue).
func (q *queue) push(now time.Time, tasks ...*store.Task) {
	if len(tasks) == 0 {
		return
	}
	q.mu.Lock()
	for _, t := range tasks {
		if !t.At.IsZero() && t.At.After(now) {
			heap.Push(&q.delayed, t)
			continue
		}
		if t.Enqueued.IsZero() {
			t.Enqueued = now
		}
		q.ready = append(q.ready, t)
	}
	q.mu.Unlock()
	// Waking also makes a sleeping leaser recompute its timer, in case a
	// delayed task is now due earlier than the one it was waiting for.
	q.wake()
}

// take removes up to max ready tasks, promoting due delayed ones first. It
// returns how long until the next delayed task is due (0 if none).
func (q *queue) take(now time.Time, max int, keep func(*store.Task) bool) ([]*store.Task, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.delayed) > 0 && !q.delayed[0].At.After(now) {
		t := heap.Pop(&q.delayed).(*store.Task)
		t.Enqueued = now
		q.ready = append(q.ready, t)
	}
	var out []*store.Task
	for q.head < len(q.ready) && len(out) < max {
		t := q.ready[q.head]
		q.ready[q.head] = nil
		q.head++
		if keep(t) {
			out = append(out, t)
		}
	}
	if q.head == len(q.ready) {
		q.ready = q.ready[:0]
		q.head = 0
	} else if q.head > 1024 && q.head*2 > len(q.ready) {
		n := copy(q.ready, q.ready[q.head:])
		clear(q.ready[n:])
		q.ready = q.ready[:n]
		q.head = 0
	}
	if q.head < len(q.ready) {
		q.wake()
	}
	var next time.Duration
	if len(q.delayed) > 0 {
		next = q.delayed[0].At.Sub(now)
		if next <= 0 {
			next = time.Microsecond
		}
	}
	return out, next
}

// lease blocks until tasks are ready, wait has passed, or ctx is done.
func (q *queue) lease(ctx context.Context, max int, wait time.Duration, keep func(*store.Task) bool) ([]*store.Task, error) {
	deadline := time.Now().Add(wait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		now := time.Now()
		out, next := q.take(now, max, keep)
		if len(out) > 0 {
			return out, nil
		}
		left := deadline.Sub(now)
		if left <= 0 {
			return nil, nil
		}
		if next > 0 && next < left {
			left = next
		}
		if timer == nil {
			timer = time.NewTimer(left)
		} else {
			timer.Reset(left)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-q.signal:
		case <-timer.C:
		}
	}
}

type delayHeap []*store.Task

func (h delayHeap) Len() int           { return len(h) }
func (h delayHeap) Less(i, j int) bool { return h[i].At.Before(h[j].At) }
func (h delayHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x any)        { *h = append(*h, x.(*store.Task)) }
func (h *delayHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return t
}

// stats counts the ready and the delayed tasks.
func (q *queue) stats() (ready, delayed int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.ready) - q.head), int64(len(q.delayed))
}
