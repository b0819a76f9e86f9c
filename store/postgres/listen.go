package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skript-dev/skript/internal/backoff"
)

// Notification channels. Transitions notify in the transaction that makes
// the change, so a waiter woken by one finds it.
const (
	chanTasks  = "skript_tasks"  // tasks became ready (payload empty)
	chanEvents = "skript_events" // a run's journal grew (payload: run id)
	chanEnded  = "skript_ended"  // a run ended (payload: run id), or a store.StopNotice
)

// listener holds one connection LISTENing on the channels and wakes this
// process's waiters. When the connection is lost it wakes every waiter (a
// notification may have been missed) and connects again with backoff.
type listener struct {
	mu        sync.Mutex
	taskEpoch uint64
	taskWake  chan struct{}
	runWake   map[string]chan struct{}
	ended     map[chan string]struct{}
}

// listen starts the listener once, on first use.
func (s *Store) listen() *listener {
	s.lisOnce.Do(func() {
		s.lis = &listener{taskWake: make(chan struct{}), runWake: map[string]chan struct{}{}, ended: map[chan string]struct{}{}}
		go s.listenLoop()
	})
	return s.lis
}

func (s *Store) listenLoop() {
	defer close(s.lisDone)
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	ctx := s.lisCtx
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, s.connCfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+chanTasks+"; LISTEN "+chanEvents+"; LISTEN "+chanEnded)
		}
		if err == nil {
			bo.Reset()
			// Whatever happened while nobody listened, look again.
			s.lis.wakeAll()
			for {
				var n *pgconn.Notification
				n, err = conn.WaitForNotification(ctx)
				if err != nil {
					break
				}
				s.lis.dispatch(n.Channel, n.Payload)
			}
		}
		if conn != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(cctx)
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		s.lis.wakeAll()
		d := bo.Next()
		s.log.Warn("postgres store: lost the notification connection; connecting again", "error", err, "retry_in", d)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

func (l *listener) dispatch(channel, payload string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch channel {
	case chanTasks:
		l.wakeTasksLocked()
	case chanEvents:
		if ch := l.runWake[payload]; ch != nil {
			close(ch)
			delete(l.runWake, payload)
		}
	case chanEnded:
		if ch := l.runWake[payload]; ch != nil {
			close(ch)
			delete(l.runWake, payload)
		}
		for sub := range l.ended {
			select {
			case sub <- payload:
			default:
			}
		}
	}
}

func (l *listener) wakeTasksLocked() {
	l.taskEpoch++
	close(l.taskWake)
	l.taskWake = make(chan struct{})
}

func (l *listener) wakeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.wakeTasksLocked()
	for id, ch := range l.runWake {
		close(ch)
		delete(l.runWake, id)
	}
}

// tasks returns the current epoch and the channel its end closes.
func (l *listener) tasks() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.taskEpoch, l.taskWake
}

// run returns a channel closed when the run's journal grows or it ends.
func (l *listener) run(id string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := l.runWake[id]
	if ch == nil {
		ch = make(chan struct{})
		l.runWake[id] = ch
	}
	return ch
}

func (l *listener) subscribe(ch chan string) {
	l.mu.Lock()
	l.ended[ch] = struct{}{}
	l.mu.Unlock()
}

func (l *listener) unsubscribe(ch chan string) {
	l.mu.Lock()
	delete(l.ended, ch)
	close(ch)
	l.mu.Unlock()
}
