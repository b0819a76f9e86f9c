package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// TestMigrateLegacyGroups turns a running run back into the layout of an
// earlier version (a hash per group, named in the header, no index entry)
// and checks that its group still completes, that the old hash is gone and
// that the run is in the index.
func TestMigrateLegacyGroups(t *testing.T) {
	tg := redistest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, tg.URL, WithPrefix(tg.Prefix(t)), WithPartitions(1))
	require.NoError(t, err)
	defer s.Close()
	const id = "legacy-run"
	parent := &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: "t", Seq: 2, PC: 9}
	require.NoError(t, s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h"}, &store.Transition{
		Tokens: []store.TokenSet{{ID: "t", Seq: 2}, {ID: "a.0", Seq: 1}},
		Groups: []*store.Group{{ID: "a", Total: 1, Started: 1, BodyPC: 1, FrameBase: "a", Result: store.RecordKey{Key: "a"}, Parent: parent}},
		Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "a.0", Seq: 1, PC: 1, Group: "a"}}}))

	// Back to the old layout.
	p := s.parts[0]
	do := func(cmd ...string) {
		t.Helper()
		require.NoError(t, s.c.Do(ctx, s.c.B().Arbitrary(cmd[0]).Keys(cmd[1]).Args(cmd[2:]...).Build()).Error())
	}
	all, err := s.c.Do(ctx, s.c.B().Hgetall().Key(p.prefix+"grp:"+id).Build()).AsStrMap()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	for f, v := range all {
		do("HSET", p.prefix+"grp:"+id+":a", strings.TrimPrefix(f, "a|"), v)
	}
	do("DEL", p.prefix+"grp:"+id)
	do("HSET", p.prefix+"run:"+id, "grp:a", "1")
	do("HDEL", p.prefix+"run:"+id, "cr", "wf")
	for _, k := range []string{p.idx, p.statusKey(store.Running), p.workflowKey("wf")} {
		do("ZREM", k, id)
	}
	do("HDEL", p.countKey(), "running|wf")

	tasks, err := s.Lease(ctx, "w", 1, time.Second)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	tk := tasks[0]
	applied, err := s.Complete(ctx, []store.Completion{{Task: tk, Transition: &store.Transition{Token: tk.Token, Seq: tk.Seq,
		Drop: []string{tk.Token}, Arrivals: []*store.Arrival{{Group: "a", Slot: 0, Value: "x"}}}}})
	require.NoError(t, err)
	require.Equal(t, []bool{true}, applied)
	recs, err := s.Records(ctx, id, []store.RecordKey{{Key: "a"}})
	require.NoError(t, err)
	require.NotNil(t, recs[0], "the old group completed")
	require.Equal(t, []any{"x"}, recs[0].Output)
	n, err := s.c.Do(ctx, s.c.B().Exists().Key(p.prefix+"grp:"+id+":a").Build()).AsInt64()
	require.NoError(t, err)
	require.Zero(t, n, "the old group hash is gone")
	page, err := s.ListRuns(ctx, store.RunFilter{Workflow: "wf", Status: store.Running}, "", 10)
	require.NoError(t, err)
	require.Len(t, page.Runs, 1)
	require.Equal(t, id, page.Runs[0].ID)
	counts, err := s.CountRuns(ctx, store.RunFilter{Workflow: "wf"})
	require.NoError(t, err)
	require.Equal(t, 1, counts[store.Running])
}
