package redis

import (
	"context"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
)

// QueueStats implements store.Store with three counts per partition, sent
// in one round trip: the stream's length less the entries leased to a
// worker (XPENDING's summary) is what is ready; the delayed set's size is
// what waits for its time.
func (s *Store) QueueStats(ctx context.Context) ([]store.PartitionStats, error) {
	cmds := make(rueidis.Commands, 0, 3*len(s.parts))
	for _, p := range s.parts {
		cmds = append(cmds,
			s.c.B().Xlen().Key(p.q).Build(),
			s.c.B().Xpending().Key(p.q).Group(group).Build(),
			s.c.B().Zcard().Key(p.delayed).Build())
	}
	res := s.c.DoMulti(ctx, cmds...)
	out := make([]store.PartitionStats, len(s.parts))
	for i := range s.parts {
		n, err := res[3*i].AsInt64()
		if err != nil {
			return nil, err
		}
		sum, err := res[3*i+1].ToArray()
		if err != nil {
			return nil, err
		}
		var pending int64
		if len(sum) > 0 {
			if pending, err = sum[0].AsInt64(); err != nil {
				return nil, err
			}
		}
		delayed, err := res[3*i+2].AsInt64()
		if err != nil {
			return nil, err
		}
		out[i] = store.PartitionStats{Partition: i, Ready: max(n-pending, 0), Delayed: delayed}
	}
	return out, nil
}
