package redis

import "time"

// WithClock sets the clock the Store reads for the times it writes (record
// and task stamps) and from which it measures a delayed task's delay
// (store.Task.At minus now). The default is time.Now; tests use it to play a
// worker whose clock is off. Due times themselves are kept and compared on
// Redis's clock (TIME inside the scripts), so an off clock neither fires a
// delayed task early nor holds it back.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.clock = now
		}
	}
}

// now is the Store's clock (WithClock).
func (s *Store) now() time.Time {
	if s.opt.clock != nil {
		return s.opt.clock()
	}
	return time.Now()
}

// redisNowMs estimates Redis's clock in unix ms from this Store's and the
// skew the last promote measured: due times are on Redis's clock, and an
// idle Lease converts them to know how long to sleep.
func (s *Store) redisNowMs() int64 { return s.now().UnixMilli() + s.skew.Load() }

// sawRedisTime records Redis's clock (unix ms) as a script just read it.
func (s *Store) sawRedisTime(ms int64) {
	if ms > 0 {
		s.skew.Store(ms - s.now().UnixMilli())
	}
}
