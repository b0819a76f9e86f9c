package memory

import (
	"context"

	"github.com/skript-dev/skript/store"
)

// QueueStats implements store.Store: the memory store has one partition.
func (s *Store) QueueStats(context.Context) ([]store.PartitionStats, error) {
	ready, delayed := s.q.stats()
	return []store.PartitionStats{{Ready: ready, Delayed: delayed}}, nil
}
