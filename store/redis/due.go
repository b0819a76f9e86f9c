package redis

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Delayed tasks (retry backoff, Wait) wait in the partitions' delayed sets
// until promote moves them to the streams. An idle Lease must wake up when
// one is due, and Redis cannot wake it: the set is not a stream, and a
// blocking command's timeout fires up to 1/hz (100 ms by default) late. So
// each Store keeps the earliest due time it knows of (nextDue), from three
// sources: the apply calls it makes itself (noted once the script has added
// the tasks), the announcements of every apply call (the script publishes
// the earliest due time it added: on the due channel on a single Redis, on
// the partition's doorbell on a Cluster), and what promote finds left in
// the sets. An idle Lease sleeps no further than nextDue, keeping the time
// itself (a context deadline cancels a blocked XREAD, which rueidis ends
// with CLIENT UNBLOCK and so keeps the connection), and a nextDue that
// moves earlier while it sleeps wakes it.
//
// promote replaces nextDue with the earliest due time its scripts found
// left in the sets, and the earliest of those noted while they ran: a task
// noted then may have been added after a script looked. (Only lowering
// nextDue would keep the time of a task already promoted, and an idle
// Lease would promote again and again.)

// idlers are the Leases of a Store that are waiting with nothing to do.
type idlers struct {
	mu sync.Mutex
	m  map[*idler]struct{}
}

// idler is one waiting Lease: it sleeps until unix ms until, unless wake
// is called first.
type idler struct {
	until int64
	wake  context.CancelFunc
}

// add registers a Lease that is about to wait. Its time is not known yet,
// so any due time noted before until sets it wakes it.
func (l *idlers) add(wake context.CancelFunc) *idler {
	w := &idler{until: 1<<63 - 1, wake: wake}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[*idler]struct{}{}
	}
	l.m[w] = struct{}{}
	return w
}

func (l *idlers) setUntil(w *idler, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w.until = until.UnixMilli()
}

func (l *idlers) remove(w *idler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, w)
}

// wakeBefore wakes the Leases that would sleep past ms.
func (l *idlers) wakeBefore(ms int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for w := range l.m {
		if ms < w.until {
			w.wake()
			delete(l.m, w)
		}
	}
}

// noteDue takes a due time in ms, as the scripts write it.
func (s *Store) noteDue(due string) {
	if ms, err := strconv.ParseInt(due, 10, 64); err == nil {
		s.noteDueAt(ms)
	}
}

// noteDueAt lowers nextDue to ms, and wakes the idle Leases that would
// sleep past it.
func (s *Store) noteDueAt(ms int64) {
	if ms <= 0 {
		return
	}
	s.dueMu.Lock()
	for w := range s.dueWatch {
		w.noted = earliest(w.noted, ms)
	}
	cur := s.nextDue.Load()
	lower := cur == 0 || ms < cur
	if lower {
		s.nextDue.Store(ms)
	}
	s.dueMu.Unlock()
	if lower {
		s.idle.wakeBefore(ms)
	}
}

// dueWatch collects the due times noted while a promote runs.
type dueWatch struct {
	noted int64 // 0 for none
}

// watchDue starts collecting for a promote about to run its scripts.
func (s *Store) watchDue() *dueWatch {
	w := &dueWatch{}
	s.dueMu.Lock()
	defer s.dueMu.Unlock()
	if s.dueWatch == nil {
		s.dueWatch = map[*dueWatch]struct{}{}
	}
	s.dueWatch[w] = struct{}{}
	return w
}

// promoted ends w and sets nextDue from the earliest due time (ms, 0 for
// none) that promote's scripts found left in the sets, or nil when they
// failed.
func (s *Store) promoted(w *dueWatch, next int64, ok bool) {
	s.dueMu.Lock()
	delete(s.dueWatch, w)
	if !ok {
		s.dueMu.Unlock()
		return
	}
	next = earliest(next, w.noted)
	cur := s.nextDue.Load()
	s.nextDue.Store(next)
	s.dueMu.Unlock()
	if next > 0 && (cur == 0 || next < cur) {
		s.idle.wakeBefore(next)
	}
}

// earliest is the earlier of two due times, 0 standing for none.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// dueChannel is where the apply script announces delayed tasks on a single
// Redis ("" on a Cluster, where the partition's doorbell carries them).
func (s *Store) dueChannel() string {
	if s.cluster {
		return ""
	}
	return s.opt.prefix + ":due"
}

// wait is an idle Lease's wait, with nothing to lease and left to go before
// it returns: until an entry may have been added to a stream, a delayed
// task is due, or idleWait has passed (to promote and reclaim). It reports
// whether the streams are known to have stayed quiet since the last sweep.
// wake holds where the streams ended at that sweep (a single Redis); rung
// and bellOK are the doorbell's (a Cluster).
func (s *Store) wait(ctx context.Context, left time.Duration, wake *wakeup, rung <-chan struct{}, bellOK bool, backoff *time.Duration) (bool, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Registered before nextDue is read: a due time noted after the read
	// wakes the wait.
	w := s.idle.add(cancel)
	defer s.idle.remove(w)
	block := min(left, idleWait)
	d := block
	// Due times are on Redis's clock: compared with the Store's estimate
	// of it, so an idle Lease on a machine whose clock is off neither
	// spins nor oversleeps.
	rnow := s.redisNowMs()
	if due := s.nextDue.Load(); due > 0 {
		if until := max(time.Duration(due-rnow)*time.Millisecond, time.Millisecond); until <= d {
			d = until
		}
	}
	s.idle.setUntil(w, time.UnixMilli(rnow).Add(d))
	switch {
	case wake != nil:
		// The XREAD's own BLOCK ends the wait at the due time. A context
		// deadline would instead become the connection's deadline in
		// rueidis, which fires as the wait ends, reports a false "context
		// deadline exceeded" and closes the connection.
		added, err := s.block(ctx, wctx, wake, d)
		return !added, err
	case bellOK:
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-rung:
			return false, nil
		case <-t.C:
		case <-wctx.Done():
		}
		return true, ctx.Err()
	default:
		// No way to be woken by new entries (the doorbell is not up yet):
		// poll.
		t := time.NewTimer(min(d, *backoff))
		defer t.Stop()
		*backoff = min(*backoff*2, pollMax)
		select {
		case <-t.C:
		case <-wctx.Done():
		}
		return false, ctx.Err()
	}
}
