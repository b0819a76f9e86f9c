package redis

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
)

// failLogEvery bounds how often one partition's failures are logged: a
// Lease meets them at every sweep while a shard is down.
const failLogEvery = 10 * time.Second

// partFails remembers when each partition's failure was last logged.
type partFails struct {
	mu     sync.Mutex
	logged map[int]time.Time
}

// partFailed logs that partition p failed a lease or promote call, at most
// every failLogEvery. The sweep goes on with the other partitions, so one
// shard down (or one key of the wrong type) stops only its own partitions.
func (s *Store) partFailed(p int, err error) {
	s.fails.mu.Lock()
	last := s.fails.logged[p]
	now := time.Now()
	log := now.Sub(last) >= failLogEvery
	if log {
		if s.fails.logged == nil {
			s.fails.logged = map[int]time.Time{}
		}
		s.fails.logged[p] = now
	}
	s.fails.mu.Unlock()
	if log {
		s.log.Warn("skript: a partition of the Redis store failed; the others go on",
			"partition", p, "stream", s.parts[p].q, "err", err, "permanent", store.IsPermanent(classify(err)))
	}
}

// isKeyError reports whether err is Redis refusing a key's contents
// (WRONGTYPE): no retry mends it, and only that key's partition is at fault.
func isKeyError(err error) bool {
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		return strings.HasPrefix(re.Error(), "WRONGTYPE")
	}
	// A script that meets the wrong type fails with the error in its text.
	return err != nil && strings.Contains(err.Error(), "WRONGTYPE")
}

// classify marks err permanent (store.Permanent) when no retry can mend it,
// so the runtime fails the run or dead-letters the entry instead of trying
// again forever.
func classify(err error) error {
	if err != nil && isKeyError(err) && !store.IsPermanent(err) {
		return store.Permanent(err)
	}
	return err
}
