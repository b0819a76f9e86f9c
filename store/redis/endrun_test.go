package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
	"github.com/skript-dev/skript/store/storetest"
)

// commandStat is one figure ("calls", "usec") of a command in INFO
// commandstats, 0 when the command has not run.
func commandStat(t *testing.T, c rueidis.Client, cmd, what string) int64 {
	t.Helper()
	info, err := c.Do(context.Background(), c.B().Info().Section("commandstats").Build()).ToString()
	require.NoError(t, err)
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":"); ok {
			_, v, _ := strings.Cut(rest, what+"=")
			v, _, _ = strings.Cut(v, ",")
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// TestEndRunTouchesOnlyRunningRecords ends a run of 10,000 finished records
// with large outputs and a few running ones: the running ones are
// cancelled, and the end costs the same few commands as for a small run,
// rather than reading every record.
func TestEndRunTouchesOnlyRunningRecords(t *testing.T) {
	tg := redistest.New(t)
	prefix := tg.Prefix(t)
	s := open(t, tg, prefix, redis.WithPartitions(1))
	c := tg.Client(t)
	ctx := ctxT(t)
	id := storetest.NewRunID()
	require.NoError(t, s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h"}, &store.Transition{
		Tokens: []store.TokenSet{{ID: "t", Seq: 1}},
		Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}},
	}))
	big := strings.Repeat("x", 1000)
	now := time.Now()
	for i := 0; i < 10000; i += 1000 {
		recs := make([]*store.Record, 0, 1000)
		for k := i; k < i+1000; k++ {
			recs = append(recs, &store.Record{RecordKey: store.RecordKey{Key: "n" + strconv.Itoa(k)},
				Status: store.Succeeded, Started: now, Finished: now, Output: big})
		}
		ok, err := s.StartStep(ctx, &store.Task{Run: id, Token: "t", Seq: 1}, recs)
		require.NoError(t, err)
		require.True(t, ok)
	}
	// Two records written running by StartStep, one by a transition, and
	// one that ran and finished: only the first three are cancelled.
	for _, k := range []string{"s1", "s2", "done"} {
		ok, err := s.StartStep(ctx, &store.Task{Run: id, Token: "t", Seq: 1},
			[]*store.Record{{RecordKey: store.RecordKey{Key: k}, Status: store.Running, Started: now}})
		require.NoError(t, err)
		require.True(t, ok)
	}
	tk := leaseOne(t, s, "w", 2*time.Second)
	require.NotNil(t, tk)
	applied, err := s.Complete(ctx, []store.Completion{{Task: tk, Transition: &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{
			{RecordKey: store.RecordKey{Key: "t1"}, Status: store.Running, Started: now},
			{RecordKey: store.RecordKey{Key: "done"}, Status: store.Succeeded, Started: now, Finished: now},
		},
		Tokens: []store.TokenSet{{ID: "t", Seq: 2}},
		Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 2}}}}})
	require.NoError(t, err)
	require.Equal(t, []bool{true}, applied)

	usec, scans := commandStat(t, c, "evalsha", "usec"), commandStat(t, c, "hgetall", "calls")
	require.NoError(t, s.Cancel(ctx, id, "stop"))
	// Logged for the record, not asserted: a machine's speed varies.
	t.Logf("ending a 10,000-record run: %d µs in the script", commandStat(t, c, "evalsha", "usec")-usec)
	require.Equal(t, scans, commandStat(t, c, "hgetall", "calls"), "ending the run reads only its running records")

	rs, err := s.AllRecords(ctx, id)
	require.NoError(t, err)
	status := map[string]store.Status{}
	for _, r := range rs {
		status[r.Key] = r.Status
	}
	require.Len(t, status, 10004)
	for _, k := range []string{"s1", "s2", "t1"} {
		require.Equal(t, store.Cancelled, status[k], k)
	}
	require.Equal(t, store.Succeeded, status["done"])
	require.Equal(t, store.Succeeded, status["n9999"])
}
