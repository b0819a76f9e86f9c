package schedule_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/schedule"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	_ "github.com/skript-dev/skript/store/redis" // registers redis:// with store.Open
	"github.com/skript-dev/skript/store/redis/redistest"
)

const quick = `name: quick
nodes:
  - {id: hi, kind: Action, action: log, params: {msg: hi}}
`

const long = `name: long
nodes:
  - {id: nap, kind: Action, action: sleep, params: {duration: 1m}}
`

var quiet = slog.New(slog.DiscardHandler)

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func at(hh, mm, ss int) time.Time { return time.Date(2026, 6, 1, hh, mm, ss, 0, time.UTC) }
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newService returns a service with workers over st.
func newService(t *testing.T, st store.Store) *service.Service {
	t.Helper()
	eng := runtime.New(runtime.WithStore(st), runtime.WithLogger(quiet))
	svc, err := service.New(service.Config{Engine: eng, Denied: []string{"shell"}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = eng.Work(ctx, runtime.WorkerOptions{Concurrency: 8, Grace: time.Second}) })
	t.Cleanup(func() { cancel(); wg.Wait(); _ = svc.Close() })
	return svc
}

func manager(t *testing.T, svc *service.Service, c *clock) *schedule.Manager {
	t.Helper()
	m, err := schedule.New(svc, schedule.Options{Now: c.now, Logger: quiet})
	require.NoError(t, err)
	return m
}

// runs returns the runs of the store, oldest first.
func runs(t *testing.T, svc *service.Service) []*store.Run {
	t.Helper()
	list, err := svc.List(ctxT(t), service.ListRequest{Limit: 1000})
	require.NoError(t, err)
	var out []*store.Run
	for i := len(list.Runs) - 1; i >= 0; i-- {
		hdr, err := svc.Get(ctxT(t), list.Runs[i].ID)
		require.NoError(t, err)
		out = append(out, hdr)
	}
	return out
}

func keys(rs []*store.Run) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

// Several servers on one store fire each tick exactly once.
func TestReplicasFireEachTickOnce(t *testing.T) {
	url := redistest.Start(t).URL()
	c := newClock(at(12, 0, 30))
	var svcs []*service.Service
	var ms []*schedule.Manager
	for range 3 {
		st, err := store.Open(t.Context(), url, store.Options{})
		require.NoError(t, err)
		svc := newService(t, st)
		svcs = append(svcs, svc)
		ms = append(ms, manager(t, svc, c))
	}
	_, err := ms[0].Add(ctxT(t), schedule.Spec{Name: "every-minute", Cron: "* * * * *", Source: quick, Overlap: schedule.OverlapAllow})
	require.NoError(t, err)
	for _, now := range []time.Time{at(12, 1, 0), at(12, 1, 1), at(12, 2, 5), at(12, 3, 0)} {
		c.set(now)
		var wg sync.WaitGroup
		for _, m := range ms {
			wg.Go(func() { require.NoError(t, m.Tick(ctxT(t))) })
		}
		wg.Wait()
	}
	require.Equal(t, []string{
		schedule.Key("every-minute", at(12, 1, 0)),
		schedule.Key("every-minute", at(12, 2, 0)),
		schedule.Key("every-minute", at(12, 3, 0)),
	}, keys(runs(t, svcs[0])))
	info, err := ms[1].Get(ctxT(t), "every-minute")
	require.NoError(t, err)
	require.Equal(t, at(12, 3, 0), info.LastTick.UTC())
	require.Equal(t, at(12, 4, 0), info.Next.UTC())
}

func TestOverlap(t *testing.T) {
	for _, policy := range []schedule.Overlap{schedule.OverlapSkip, schedule.OverlapAllow, schedule.OverlapCancel} {
		t.Run(string(policy), func(t *testing.T) {
			svc := newService(t, memory.New())
			c := newClock(at(12, 0, 30))
			m := manager(t, svc, c)
			_, err := m.Add(ctxT(t), schedule.Spec{Name: "long", Cron: "* * * * *", Source: long, Overlap: policy})
			require.NoError(t, err)
			c.set(at(12, 1, 0))
			require.NoError(t, m.Tick(ctxT(t)))
			c.set(at(12, 2, 0))
			require.NoError(t, m.Tick(ctxT(t)))
			rs := runs(t, svc)
			switch policy {
			case schedule.OverlapSkip:
				require.Len(t, rs, 1)
			case schedule.OverlapAllow:
				require.Len(t, rs, 2)
				require.False(t, rs[0].Status.Done())
			case schedule.OverlapCancel:
				require.Len(t, rs, 2)
				require.Equal(t, store.Cancelled, rs[0].Status)
				require.False(t, rs[1].Status.Done())
			}
			for _, r := range rs {
				if !r.Status.Done() {
					_, err := svc.Cancel(ctxT(t), r.ID, "test over")
					require.NoError(t, err)
				}
			}
		})
	}
}

// A server back after downtime fires the missed ticks by the policy.
func TestCatchUp(t *testing.T) {
	want := map[schedule.CatchUp]int{schedule.CatchUpNone: 0, schedule.CatchUpOne: 1, schedule.CatchUpAll: 6}
	for policy, n := range want {
		t.Run(string(policy), func(t *testing.T) {
			svc := newService(t, memory.New())
			c := newClock(at(12, 0, 30))
			m := manager(t, svc, c)
			_, err := m.Add(ctxT(t), schedule.Spec{Name: "five", Cron: "*/5 * * * *", Source: quick, CatchUp: policy, Overlap: schedule.OverlapAllow})
			require.NoError(t, err)
			c.set(at(12, 33, 0))
			require.NoError(t, m.Tick(ctxT(t)))
			rs := runs(t, svc)
			require.Len(t, rs, n)
			if n == 1 {
				require.Equal(t, schedule.Key("five", at(12, 30, 0)), rs[0].Key)
			}
			// Caught up: the next tick fires on time, once.
			c.set(at(12, 35, 2))
			require.NoError(t, m.Tick(ctxT(t)))
			require.NoError(t, m.Tick(ctxT(t)))
			require.Len(t, runs(t, svc), n+1)
		})
	}
}

func TestPauseAndBadSpecs(t *testing.T) {
	svc := newService(t, memory.New())
	c := newClock(at(12, 0, 30))
	m := manager(t, svc, c)
	_, err := m.Add(ctxT(t), schedule.Spec{Name: "p", Cron: "* * * * *", Source: quick})
	require.NoError(t, err)
	_, err = m.Pause(ctxT(t), "p", true)
	require.NoError(t, err)
	c.set(at(12, 5, 0))
	require.NoError(t, m.Tick(ctxT(t)))
	require.Empty(t, runs(t, svc))
	info, err := m.Pause(ctxT(t), "p", false)
	require.NoError(t, err)
	require.Equal(t, at(12, 6, 0), info.Next.UTC(), "ticks while paused are not caught up")
	c.set(at(12, 6, 0))
	require.NoError(t, m.Tick(ctxT(t)))
	require.Len(t, runs(t, svc), 1)

	for _, bad := range []schedule.Spec{
		{Name: "bad name!", Cron: "* * * * *", Source: quick},
		{Name: "b", Cron: "every minute", Source: quick},
		{Name: "b", Cron: "* * * * *", TimeZone: "Nowhere/Land", Source: quick},
		{Name: "b", Cron: "* * * * *", Source: quick, Overlap: "sometimes"},
		{Name: "b", Cron: "* * * * *", Source: "name: x\nnodes: [{id: s, kind: Action, action: shell, params: {command: ls}}]\n"},
		{Name: "b", Cron: "* * * * *", Source: "name: x\ninputs: {n: {type: int}}\nnodes: [{id: a, kind: Action, action: noop}]\n", Inputs: []byte(`{"n": "three"}`)},
	} {
		_, err := m.Add(ctxT(t), bad)
		require.Equal(t, service.Invalid, service.CodeOf(err), "%+v: %v", bad, err)
	}
	require.Equal(t, service.NotFound, service.CodeOf(m.Delete(ctxT(t), "nope")))
	require.NoError(t, m.Delete(ctxT(t), "p"))
	all, err := m.List(ctxT(t))
	require.NoError(t, err)
	require.Empty(t, all)
}
