package postgres

import (
	"context"
	"time"

	"github.com/skript-dev/skript/store"
)

// QueueStats implements store.QueueStats: the queue is one partition.
// Ready entries are those visible now (expired leases included); delayed
// ones are not yet due and not leased. Both are counts over the visible
// index, whose size is the queue's.
func (s *Store) QueueStats(ctx context.Context) ([]store.PartitionStats, error) {
	var ready, delayed int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE visible <= $1), count(*) FILTER (WHERE visible > $1 AND worker IS NULL)
		FROM skript_tasks`, time.Now()).Scan(&ready, &delayed)
	if err != nil {
		return nil, err
	}
	return []store.PartitionStats{{Ready: ready, Delayed: delayed}}, nil
}
