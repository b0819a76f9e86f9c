package redis_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// manyEntries is more ids than Lua's unpack takes in one call (about 8,000).
const manyEntries = 9000

// addEntries adds n entries with the given task field to stream q.
func addEntries(t *testing.T, c rueidis.Client, q, task string, n int) {
	t.Helper()
	cmds := make(rueidis.Commands, 0, n)
	for range n {
		cmds = append(cmds, c.B().Xadd().Key(q).Id("*").FieldValue().FieldValue("t", task).Build())
	}
	for _, r := range c.DoMulti(ctxT(t), cmds...) {
		require.NoError(t, r.Error())
	}
}

func TestReleaseManyTasks(t *testing.T) {
	tg := redistest.New(t)
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithPartitions(1))
	id := newRun(t, s)
	c := tg.Client(t)
	q := prefix + ":{p0}:q"
	addEntries(t, c, q, `{"r":"`+id+`","h":"h","k":1,"t":"t","s":1,"p":0}`, manyEntries-1)
	got, err := s.Lease(ctxT(t), "w", manyEntries+10, 2*time.Second)
	require.NoError(t, err)
	require.Len(t, got, manyEntries)
	require.NoError(t, s.Release(ctxT(t), got), "one partition's hand-back of more ids than unpack takes")
	pending, err := c.Do(ctxT(t), c.B().Xpending().Key(q).Group("skript").Build()).ToArray()
	require.NoError(t, err)
	cnt, _ := pending[0].AsInt64()
	require.Zero(t, cnt, "every old entry is acknowledged")
	n, err := c.Do(ctxT(t), c.B().Xlen().Key(q).Build()).AsInt64()
	require.NoError(t, err)
	require.EqualValues(t, manyEntries, n, "the old entries are deleted, the tasks added again")
}

func TestBuryManyEntries(t *testing.T) {
	tg := redistest.New(t)
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithPartitions(1), redis.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	c := tg.Client(t)
	q, dead := prefix+":{p0}:q", prefix+":{p0}:dead"
	addEntries(t, c, q, "not json", manyEntries)
	got, err := s.Lease(ctxT(t), "w", manyEntries+10, 200*time.Millisecond)
	require.NoError(t, err)
	require.Empty(t, got)
	n, err := c.Do(ctxT(t), c.B().Xlen().Key(q).Build()).AsInt64()
	require.NoError(t, err)
	require.Zero(t, n, "every bad entry left the stream")
	n, err = c.Do(ctxT(t), c.B().Xlen().Key(dead).Build()).AsInt64()
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, int64(manyEntries/2), "the bad entries are in the (capped) dead stream")
}

func TestExtendDoesNotTakeBackAReclaimedEntry(t *testing.T) {
	const lease = 200 * time.Millisecond
	tg := redistest.New(t)
	prefix := tg.Prefix(t)
	a := open(t, tg, prefix, redis.WithLease(lease), redis.WithPartitions(1))
	b := open(t, tg, prefix, redis.WithLease(lease), redis.WithPartitions(1))
	newRun(t, a)
	ta := leaseOne(t, a, "a", 2*time.Second)
	require.NotNil(t, ta)
	// A stalls past its lease; B reclaims the entry.
	tb := leaseOne(t, b, "b", 5*time.Second)
	require.NotNil(t, tb)
	require.Equal(t, [2]any{ta.Run, ta.Seq}, [2]any{tb.Run, tb.Seq}, "the same task")
	// A wakes up and sends its heartbeat late.
	require.NoError(t, a.Extend(ctxT(t), []*store.Task{ta}))
	c := tg.Client(t)
	p, err := c.Do(ctxT(t), c.B().Xpending().Key(prefix+":{p0}:q").Group("skript").Start("-").End("+").Count(10).Build()).ToArray()
	require.NoError(t, err)
	require.Len(t, p, 1)
	e, err := p[0].ToArray()
	require.NoError(t, err)
	owner, err := e[1].ToString()
	require.NoError(t, err)
	require.Equal(t, "b", owner, "a late heartbeat leaves the entry with the worker that reclaimed it")
	// B's own heartbeat still works.
	require.NoError(t, b.Extend(ctxT(t), []*store.Task{tb}))
}
