package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/internal/backoff"
)

// bell wakes idle Leases on a Redis Cluster. There, one command cannot
// block on the streams of several slots, so every script that adds entries
// to a partition's stream also rings the partition's doorbell (SPUBLISH on
// the sharded channel "skript:{p7}:ready", in the partition's own slot), and
// an idle Lease waits for a ring instead of polling every partition. A lost
// ring (a dropped connection) delays a Lease until its next timed sweep, a
// second later at most (bellTrust). On a single Redis the bell is not used: Lease blocks on XREAD,
// which wakes one consumer per entry rather than all of them.
type bell struct {
	s *Store

	mu      sync.Mutex
	started bool
	rung    chan struct{} // closed and replaced on every ring
	subs    []bool        // per partition: subscription confirmed
	live    int           // how many subs are true
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newBell(s *Store) *bell {
	return &bell{s: s, rung: make(chan struct{}), subs: make([]bool, len(s.parts))}
}

// bellChannel is partition part's doorbell, or "" on a single Redis.
func (s *Store) bellChannel(part int) string {
	if !s.cluster {
		return ""
	}
	return s.parts[part].prefix + "ready"
}

// wait returns a channel closed at the next ring, and whether every
// partition's subscription is up (if not, a ring may never come).
func (b *bell) wait() (<-chan struct{}, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		b.started = true
		ctx, cancel := context.WithCancel(context.Background())
		b.cancel = cancel
		for i := range b.subs {
			b.wg.Go(func() { b.listen(ctx, i) })
		}
	}
	return b.rung, b.live == len(b.subs)
}

// deliver handles a message on a doorbell: empty when tasks were added to
// the stream, the due time in ms when delayed tasks were added (see due.go).
func (b *bell) deliver(msg rueidis.PubSubMessage) {
	if msg.Message != "" {
		b.s.noteDue(msg.Message)
		return
	}
	b.ring()
}

func (b *bell) ring() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.rung)
	b.rung = make(chan struct{})
}

func (b *bell) setSub(i int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[i] != ok {
		b.subs[i] = ok
		if ok {
			b.live++
		} else {
			b.live--
		}
	}
}

func (b *bell) listen(ctx context.Context, i int) {
	c := b.s.c
	retry := backoff.New(50*time.Millisecond, 2*time.Second)
	for {
		// A subscription that came up was a success: the next drop starts
		// the backoff again. (The hook runs on rueidis's goroutine.)
		var subscribed atomic.Bool
		hctx := rueidis.WithOnSubscriptionHook(ctx, func(sub rueidis.PubSubSubscription) {
			if sub.Kind == "ssubscribe" {
				b.setSub(i, true)
				subscribed.Store(true)
			}
		})
		err := c.Receive(hctx, c.B().Ssubscribe().Channel(b.s.bellChannel(i)).Build(), b.deliver)
		b.setSub(i, false)
		if ctx.Err() != nil {
			return
		}
		b.s.log.Debug("skript: doorbell subscription dropped; resubscribing", "channel", b.s.bellChannel(i), "error", err)
		if subscribed.Load() {
			retry.Reset()
		}
		if !retry.Wait(ctx) {
			return
		}
	}
}

func (b *bell) close() {
	b.mu.Lock()
	cancel := b.cancel
	b.started = true // no start after close
	b.mu.Unlock()
	if cancel != nil {
		cancel()
		b.wg.Wait()
	}
}
