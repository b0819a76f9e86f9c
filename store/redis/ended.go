package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/internal/backoff"
)

// readyWait bounds how long Ended waits for its subscription to be
// confirmed, so it does not hang while Redis is down.
const readyWait = 5 * time.Second

// hub is the process's one subscription to the ended channel, shared by
// every Ended caller and WaitRun, and on a single Redis to the due channel,
// for idle Leases (see due.go). It is started on first use and resubscribes
// after the connection drops.
type hub struct {
	s *Store

	mu      sync.Mutex
	started bool
	ready   chan struct{} // closed while subscribed; replaced when the subscription drops
	subs    map[chan string]struct{}
	waits   map[string]map[chan struct{}]struct{}
	cancel  context.CancelFunc
	done    chan struct{} // closed when the hub has stopped
}

func newHub(s *Store) *hub {
	return &hub{s: s, ready: make(chan struct{}), subs: map[chan string]struct{}{},
		waits: map[string]map[chan struct{}]struct{}{}, done: make(chan struct{})}
}

// start starts the subscription once; the caller holds h.mu.
func (h *hub) start() {
	if h.started {
		return
	}
	h.started = true
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go h.loop(ctx)
}

func (h *hub) loop(ctx context.Context) {
	defer close(h.done)
	retry := backoff.New(50*time.Millisecond, 2*time.Second)
	for {
		// A subscription that came up was a success: the next drop starts
		// the backoff again. (The hook runs on rueidis's goroutine.)
		var subscribed atomic.Bool
		hctx := rueidis.WithOnSubscriptionHook(ctx, func(sub rueidis.PubSubSubscription) {
			if sub.Kind == "subscribe" {
				h.setReady(true)
				subscribed.Store(true)
			}
		})
		channels := []string{h.s.endedChannel()}
		if due := h.s.dueChannel(); due != "" {
			channels = append(channels, due)
		}
		err := h.s.c.Receive(hctx, h.s.c.B().Subscribe().Channel(channels...).Build(), h.deliver)
		h.setReady(false)
		if ctx.Err() != nil {
			return
		}
		h.s.log.Debug("skript: ended-run subscription dropped; resubscribing", "error", err)
		if subscribed.Load() {
			retry.Reset()
		}
		if !retry.Wait(ctx) {
			return
		}
	}
}

func (h *hub) setReady(ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.ready:
		if !ok {
			h.ready = make(chan struct{})
		}
	default:
		if ok {
			close(h.ready)
		}
	}
}

func (h *hub) deliver(msg rueidis.PubSubMessage) {
	if msg.Channel != h.s.endedChannel() {
		h.s.noteDue(msg.Message)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- msg.Message:
		default: // a slow reader misses events rather than stalling the others
		}
	}
	for w := range h.waits[msg.Message] {
		close(w)
	}
	delete(h.waits, msg.Message)
}

func (h *hub) close() {
	h.mu.Lock()
	started := h.started
	h.started = true // no start after close
	h.mu.Unlock()
	if started && h.cancel != nil {
		h.cancel()
		<-h.done
	}
}

// ensure starts the subscription if it is not running yet.
func (h *hub) ensure() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.start()
}

// waitFor returns a channel closed when run id is announced as ended.
func (h *hub) waitFor(id string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.start()
	w := make(chan struct{})
	if h.waits[id] == nil {
		h.waits[id] = map[chan struct{}]struct{}{}
	}
	h.waits[id][w] = struct{}{}
	return w
}

func (h *hub) stopWaiting(id string, w chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.waits[id]; m != nil {
		delete(m, w)
		if len(m) == 0 {
			delete(h.waits, id)
		}
	}
}

// Ended implements store.Store. It returns once the subscription is
// confirmed (or after a few seconds while Redis is unreachable), so a run
// that ends after Ended returned is reported.
func (s *Store) Ended(ctx context.Context) <-chan string {
	h := s.hub
	ch := make(chan string, 1024)
	h.mu.Lock()
	h.start()
	h.subs[ch] = struct{}{}
	ready := h.ready
	h.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-h.done:
		}
		h.mu.Lock()
		delete(h.subs, ch)
		close(ch)
		h.mu.Unlock()
	}()
	t := time.NewTimer(readyWait)
	defer t.Stop()
	select {
	case <-ready:
	case <-ctx.Done():
	case <-t.C:
	}
	return ch
}
