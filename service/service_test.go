package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	_ "github.com/skript-dev/skript/store/redis" // registers redis:// with store.Open
	"github.com/skript-dev/skript/store/redis/redistest"
)

// serviceTests run on every store; List comes first, while the
// store shared by the tests of a Redis holds no other run.
var serviceTests = []struct {
	name string
	fn   func(t *testing.T, svc *service.Service)
}{
	{"ListFiltersPagesAndCounts", testListFiltersPagesAndCounts},
	{"SubmitGetResult", testSubmitGetResult},
	{"SubmitIdempotencyKey", testSubmitIdempotencyKey},
	{"Cancel", testCancel},
	{"HistoryAndTimeTravel", testHistoryAndTimeTravel},
	{"Logs", testLogs},
	{"Retry", testRetry},
}

// TestService runs the service's tests on the memory store, a Redis and
// a Redis Cluster of three primaries (the tests of one Redis share its
// server, each with a store and a worker of its own).
func TestService(t *testing.T) {
	for _, name := range []string{"memory", "redis", "cluster"} {
		t.Run(name, func(t *testing.T) {
			var open func(t *testing.T) store.Store
			switch name {
			case "memory":
				open = func(*testing.T) store.Store { return memory.New(memory.WithRoundTrip()) }
			case "redis", "cluster":
				if name == "cluster" && testing.Short() {
					t.Skip("starts a 3-node Redis Cluster")
				}
				url := ""
				if name == "redis" {
					url = redistest.Start(t).URL()
				} else {
					url = redistest.StartCluster(t, 3).URL
				}
				open = func(t *testing.T) store.Store {
					st, err := store.Open(t.Context(), url, store.Options{})
					require.NoError(t, err)
					return st
				}
			}
			for _, tc := range serviceTests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, newService(t, open(t))) })
			}
		})
	}
}

// newService returns a service over st with a worker running its tasks.
func newService(t *testing.T, st store.Store) *service.Service {
	t.Helper()
	eng := runtime.New(runtime.WithStore(st))
	svc, err := service.New(service.Config{Engine: eng})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = eng.Work(ctx, runtime.WorkerOptions{Concurrency: 16, Grace: time.Second}) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = svc.Close()
	})
	return svc
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const flowSrc = `name: greet
version: "2"
inputs:
  who: {type: string, default: world}
nodes:
  - {id: hello, kind: Action, action: log, params: {msg: "hello ${{ input.who }}"}}
  - {id: shout, kind: Action, action: set, params: {v: "${{ input.who }}"}}
`

const failSrc = `name: broken
nodes:
  - {id: first, kind: Action, action: noop}
  - {id: boom, kind: Action, action: fail, params: {message: "no luck"}}
`

func mustCompile(t *testing.T, svc *service.Service, src string) *service.SubmitRequest {
	t.Helper()
	bp, err := svc.Compile("flow.yaml", []byte(src), service.CompileOptions{})
	require.NoError(t, err)
	return &service.SubmitRequest{Blueprint: bp}
}

func submitWait(t *testing.T, svc *service.Service, req service.SubmitRequest) *store.Run {
	t.Helper()
	sub, err := svc.Submit(ctxT(t), req)
	require.NoError(t, err)
	_, err = svc.Wait(ctxT(t), sub.Run.ID)
	require.NoError(t, err)
	hdr, err := svc.Get(ctxT(t), sub.Run.ID)
	require.NoError(t, err)
	return hdr
}

func testSubmitGetResult(t *testing.T, svc *service.Service) {
	req := mustCompile(t, svc, flowSrc)
	req.Inputs = map[string]any{"who": "ann"}
	hdr := submitWait(t, svc, *req)
	require.Equal(t, store.Succeeded, hdr.Status)
	require.Equal(t, "greet", hdr.Workflow)
	res, err := svc.Result(ctxT(t), hdr.ID)
	require.NoError(t, err)
	require.Equal(t, "ann", res.Nodes["shout"].Output.(map[string]any)["v"])

	_, err = svc.Get(ctxT(t), "no-such-run")
	require.Equal(t, service.NotFound, service.CodeOf(err))
	require.ErrorIs(t, err, store.ErrNotFound)
	require.EqualError(t, err, "run no-such-run not found")

	req.Inputs = map[string]any{"who": 3}
	_, err = svc.Submit(ctxT(t), *req)
	require.Equal(t, service.Invalid, service.CodeOf(err), "%v", err)
}

// The same idempotency key gives the same run; with another workflow it
// is a conflict, and a key no run holds starts a new one.
func testSubmitIdempotencyKey(t *testing.T, svc *service.Service) {
	req := mustCompile(t, svc, flowSrc)
	req.Key = "order-17"
	first, err := svc.Submit(ctxT(t), *req)
	require.NoError(t, err)
	require.False(t, first.Existing)
	require.Equal(t, "order-17", first.Run.Key)
	again, err := svc.Submit(ctxT(t), *req)
	require.NoError(t, err)
	require.True(t, again.Existing)
	require.Equal(t, first.Run.ID, again.Run.ID)

	other := mustCompile(t, svc, failSrc)
	other.Key = "order-17"
	_, err = svc.Submit(ctxT(t), *other)
	require.Equal(t, service.Conflict, service.CodeOf(err), "%v", err)
	require.ErrorIs(t, err, store.ErrRunExists)
	require.NotContains(t, err.Error(), "order-17", "the key may be a secret")

	req.Key = "order-18"
	third, err := svc.Submit(ctxT(t), *req)
	require.NoError(t, err)
	require.NotEqual(t, first.Run.ID, third.Run.ID)

	req.Key = "bad\nkey"
	_, err = svc.Submit(ctxT(t), *req)
	require.Equal(t, service.Invalid, service.CodeOf(err))
}

func testListFiltersPagesAndCounts(t *testing.T, svc *service.Service) {
	ok := mustCompile(t, svc, flowSrc)
	bad := mustCompile(t, svc, failSrc)
	var okIDs []string
	for range 3 {
		okIDs = append(okIDs, submitWait(t, svc, *ok).ID)
	}
	failed := submitWait(t, svc, *bad)
	require.Equal(t, store.Failed, failed.Status)

	all, err := svc.List(ctxT(t), service.ListRequest{Counts: true})
	require.NoError(t, err)
	require.Len(t, all.Runs, 4)
	require.Equal(t, failed.ID, all.Runs[0].ID, "newest first")
	require.Equal(t, "boom", all.Runs[0].FailedNode)
	require.NotNil(t, all.Runs[0].Duration)
	require.Equal(t, map[store.Status]int{store.Succeeded: 3, store.Failed: 1}, all.Counts)

	greet, err := svc.List(ctxT(t), service.ListRequest{Workflow: "greet", Status: store.Succeeded, Since: time.Hour})
	require.NoError(t, err)
	require.Len(t, greet.Runs, 3)
	require.Equal(t, "2", greet.Runs[0].Version)

	var paged []string
	cursor := ""
	for range 10 {
		page, err := svc.List(ctxT(t), service.ListRequest{Workflow: "greet", Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		for _, r := range page.Runs {
			paged = append(paged, r.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	require.Equal(t, []string{okIDs[2], okIDs[1], okIDs[0]}, paged)

	for _, req := range []service.ListRequest{{Status: "done"}, {Limit: -1}, {Limit: service.MaxLimit + 1}, {Since: -time.Second},
		{Cursor: "garbage"}} {
		_, err := svc.List(ctxT(t), req)
		require.Equal(t, service.Invalid, service.CodeOf(err), "%+v: %v", req, err)
	}
}

func testCancel(t *testing.T, svc *service.Service) {
	slow := mustCompile(t, svc, "name: slow\nnodes:\n  - {id: nap, kind: Action, action: sleep, params: {duration: 1m}}\n")
	sub, err := svc.Submit(ctxT(t), *slow)
	require.NoError(t, err)
	c, err := svc.Cancel(ctxT(t), sub.Run.ID, "enough")
	require.NoError(t, err)
	require.True(t, c.Cancelled)
	require.Equal(t, store.Cancelled, c.Run.Status)
	c, err = svc.Cancel(ctxT(t), sub.Run.ID, "again")
	require.NoError(t, err)
	require.False(t, c.Cancelled, "an ended run is left as it is")
	_, err = svc.Cancel(ctxT(t), "nope", "")
	require.Equal(t, service.NotFound, service.CodeOf(err))
}

// The journal opens with the run's creation and closes with its end, and
// replaying it to the end gives exactly the stored records.
func testHistoryAndTimeTravel(t *testing.T, svc *service.Service) {
	hdr := submitWait(t, svc, *mustCompile(t, svc, failSrc))
	evs, err := svc.History(ctxT(t), hdr.ID)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	require.Equal(t, store.EventRunCreated, evs[0].Type)
	require.Equal(t, store.EventRunEnded, evs[len(evs)-1].Type)
	for i, ev := range evs {
		require.EqualValues(t, i+1, ev.Seq)
	}
	last := evs[len(evs)-1].Seq
	snap, err := svc.RecordsAt(ctxT(t), hdr.ID, last)
	require.NoError(t, err)
	stored, err := svc.Store().AllRecords(ctxT(t), hdr.ID)
	require.NoError(t, err)
	// Compared as JSON: the journal's copy of a time may carry
	// another *time.Location for the same instant.
	byKey := map[store.RecordKey]*store.Record{}
	for _, r := range stored {
		byKey[r.RecordKey] = r
	}
	want, err := json.Marshal(store.SortRecords(byKey))
	require.NoError(t, err)
	got, err := json.Marshal(snap.Records)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	require.Equal(t, last, snap.Last)
	require.Equal(t, evs[last-1], snap.Event)

	first, err := svc.RecordsAt(ctxT(t), hdr.ID, 1)
	require.NoError(t, err)
	require.Empty(t, first.Records, "nothing has run right after the run was created")

	for _, at := range []int64{0, last + 1} {
		_, err := svc.RecordsAt(ctxT(t), hdr.ID, at)
		require.Equal(t, service.Invalid, service.CodeOf(err), "at %d", at)
	}
	_, err = svc.History(ctxT(t), "nope")
	require.Equal(t, service.NotFound, service.CodeOf(err))
}

// Logs hands on the `log` lines, one node's with Node, and follows a
// run until it ends.
func testLogs(t *testing.T, svc *service.Service) {
	src := `name: chatty
nodes:
  - {id: a, kind: Action, action: log, params: {msg: "one"}}
  - {id: nap, kind: Action, action: sleep, params: {duration: 300ms}}
  - {id: b, kind: Action, action: log, params: {msg: "two", level: warn}}
`
	sub, err := svc.Submit(ctxT(t), *mustCompile(t, svc, src))
	require.NoError(t, err)
	var followed []string
	err = svc.Logs(ctxT(t), sub.Run.ID, service.LogsRequest{Follow: true}, func(ev *store.Event) error {
		require.Equal(t, store.EventLog, ev.Type)
		followed = append(followed, ev.Node+":"+ev.Message)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"a:one", "b:two"}, followed)

	var onlyB []*store.Event
	err = svc.Logs(ctxT(t), sub.Run.ID, service.LogsRequest{Node: "b"}, func(ev *store.Event) error {
		onlyB = append(onlyB, ev)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, onlyB, 1)
	require.Equal(t, "warn", onlyB[0].Level)

	err = svc.Logs(ctxT(t), sub.Run.ID, service.LogsRequest{Node: "bb"}, func(*store.Event) error { return nil })
	require.Equal(t, service.Invalid, service.CodeOf(err))
	require.ErrorContains(t, err, `did you mean "b"?`)
}

func TestCompileValidateActionsSchema(t *testing.T) {
	svc, err := service.New(service.Config{Denied: []string{"shell"}})
	require.NoError(t, err)
	_, err = svc.Compile("f.yaml", []byte("name: f\nnodes:\n  - {id: a, kind: Action, action: shell, params: {command: ls}}\n"),
		service.CompileOptions{})
	require.Equal(t, service.Invalid, service.CodeOf(err))
	var errs dsl.ErrorList
	require.True(t, errors.As(err, &errs))
	require.Contains(t, errs[0].Error(), "f.yaml:3:")

	list := svc.Validate("f.yaml", []byte("name: f\nnodes:\n  - {id: a, kind: Action, action: nop}\n"), service.CompileOptions{})
	require.NotEmpty(t, list)
	require.Nil(t, svc.Validate("f.yaml", []byte(flowSrc), service.CompileOptions{NoOpt: true}))
	_, err = svc.Compile("f.yaml", []byte(flowSrc), service.CompileOptions{Disabled: map[string]bool{"fusee": true}})
	require.ErrorContains(t, err, `did you mean "fuse"?`)

	acts, err := svc.Actions("log", "set")
	require.NoError(t, err)
	require.Equal(t, "log", acts[0].Name)
	_, err = svc.Actions("sett")
	require.Equal(t, service.Invalid, service.CodeOf(err))
	require.ErrorContains(t, err, `did you mean "set"?`)
	require.NotEmpty(t, svc.Schema())

	_, err = svc.List(ctxT(t), service.ListRequest{})
	require.Equal(t, service.Unsupported, service.CodeOf(err), "a service without a store lists nothing")
}

const flakySrc = `name: flaky
inputs:
  dir: {type: string}
nodes:
  - {id: count, kind: Action, action: shell, params: {args: ["sh", "-c", "echo x >> \"$1\"/count", "sh", "${{ input.dir }}"]}}
  - {id: check, kind: Action, action: shell, params: {args: ["test", "-f", "${{ input.dir }}/ok"]}}
`

// A retry is a new linked run that keeps what succeeded (count ran once)
// and runs the failed node again; refusals are typed.
func testRetry(t *testing.T, svc *service.Service) {
	dir := t.TempDir()
	req := mustCompile(t, svc, flakySrc)
	req.Inputs = map[string]any{"dir": dir}
	first := submitWait(t, svc, *req)
	require.Equal(t, store.Failed, first.Status)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok"), nil, 0o600))

	again, err := svc.Retry(ctxT(t), first.ID, "")
	require.NoError(t, err)
	require.Equal(t, first.ID, again.RetryOf)
	res, err := svc.Wait(ctxT(t), again.ID)
	require.NoError(t, err)
	require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
	count, err := os.ReadFile(filepath.Join(dir, "count"))
	require.NoError(t, err)
	require.Equal(t, "x\n", string(count), "the step that succeeded is not run again")

	list, err := svc.List(ctxT(t), service.ListRequest{})
	require.NoError(t, err)
	require.Equal(t, first.ID, list.Runs[0].RetryOf)

	from, err := svc.Retry(ctxT(t), again.ID, "count")
	require.NoError(t, err)
	_, err = svc.Wait(ctxT(t), from.ID)
	require.NoError(t, err)
	count, err = os.ReadFile(filepath.Join(dir, "count"))
	require.NoError(t, err)
	require.Equal(t, "x\nx\n", string(count), "--from runs the node again")

	_, err = svc.Retry(ctxT(t), "nope", "")
	require.Equal(t, service.NotFound, service.CodeOf(err))
	_, err = svc.Retry(ctxT(t), again.ID, "")
	require.Equal(t, service.Conflict, service.CodeOf(err), "a succeeded run has nothing to retry: %v", err)
	_, err = svc.Retry(ctxT(t), first.ID, "chek")
	require.Equal(t, service.Invalid, service.CodeOf(err))
	require.ErrorContains(t, err, `did you mean "check"?`)

	slow := mustCompile(t, svc, "name: slow\nnodes:\n  - {id: nap, kind: Action, action: sleep, params: {duration: 1m}}\n")
	sub, err := svc.Submit(ctxT(t), *slow)
	require.NoError(t, err)
	_, err = svc.Retry(ctxT(t), sub.Run.ID, "")
	require.Equal(t, service.Conflict, service.CodeOf(err), "a running run: %v", err)
	_, err = svc.Cancel(ctxT(t), sub.Run.ID, "done")
	require.NoError(t, err)
}
