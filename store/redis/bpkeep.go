package redis

import (
	"context"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
)

// Blueprints expire, so that a deployment that keeps changing its
// workflows does not keep every version forever. A Blueprint must outlive
// every run that uses it, while it runs and then for the retention time (a
// finished run is still read with its Blueprint). Its expiry is only ever
// pushed later (PEXPIREAT ... GT): to now + blueprintTTL when it is stored,
// when a run using it is created, and at most every bpTouchEvery while a
// worker leases tasks of it; and to a delayed task's due time plus
// blueprintTTL when a transition delays a task further than that, so a run
// that sleeps for weeks finds its Blueprint when it wakes up.
const (
	// bpMargin is how much longer than the retention a Blueprint lives
	// after its last use.
	bpMargin     = 24 * time.Hour
	bpTouchEvery = time.Hour
)

// blueprintTTL is how long a Blueprint lives after its last use.
func (s *Store) blueprintTTL() time.Duration { return s.opt.retention + bpMargin }

func (s *Store) bpKey(hash string) string { return s.opt.prefix + ":bp:" + hash }

// keepBlueprints pushes the expiry of each Blueprint to at least its time
// plus blueprintTTL. It is best effort: a failure is logged, and the next
// use tries again well before the Blueprint would expire.
func (s *Store) keepBlueprints(ctx context.Context, until map[string]time.Time) {
	if len(until) == 0 {
		return
	}
	ttl := s.blueprintTTL()
	cmds := make(rueidis.Commands, 0, len(until))
	for h, t := range until {
		cmds = append(cmds, s.c.B().Pexpireat().Key(s.bpKey(h)).MillisecondsTimestamp(t.Add(ttl).UnixMilli()).Gt().Build())
	}
	for _, r := range s.c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil && ctx.Err() == nil {
			s.log.Warn("skript: could not extend a Blueprint's expiry", "err", err)
			return
		}
	}
}

// touchLeased keeps the Blueprints of leased tasks alive while their runs
// run, at most every bpTouchEvery per Blueprint and Store.
func (s *Store) touchLeased(ctx context.Context, tasks []*store.Task) {
	now := time.Now()
	var until map[string]time.Time
	for _, t := range tasks {
		if last, ok := s.bpTouched.Load(t.Hash); ok && now.Sub(last.(time.Time)) < bpTouchEvery {
			continue
		}
		s.bpTouched.Store(t.Hash, now)
		if until == nil {
			until = map[string]time.Time{}
		}
		until[t.Hash] = now
	}
	s.keepBlueprints(ctx, until)
}

// delayedUntil adds to until the Blueprints of tasks delayed past
// bpTouchEvery from now, with their due times.
func delayedUntil(until map[string]time.Time, tasks []*store.Task, now time.Time) map[string]time.Time {
	for _, t := range tasks {
		if t != nil && t.At.Sub(now) > bpTouchEvery && t.At.After(until[t.Hash]) {
			if until == nil {
				until = map[string]time.Time{}
			}
			until[t.Hash] = t.At
		}
	}
	return until
}
