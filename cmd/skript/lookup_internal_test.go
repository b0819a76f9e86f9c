package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// The tables of runs and history, from a memory store's journal and index
// (the commands themselves need a shared store: see lookup_test.go).
func TestLookupTables(t *testing.T) {
	eng := runtime.New(runtime.WithStore(memory.New()))
	svc, err := service.New(service.Config{Engine: eng})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wctx, stop := context.WithCancel(ctx)
	wg.Go(func() { _ = eng.Work(wctx, runtime.WorkerOptions{Concurrency: 4, Grace: time.Second}) })
	defer func() { stop(); wg.Wait() }()

	bp, err := svc.Compile("f.yaml", []byte(`name: broken
version: "1"
inputs:
  n: {type: integer, default: 2}
nodes:
  - {id: first, kind: Action, action: set, params: {v: "${{ input.n }}"}}
  - {id: boom, kind: Action, action: fail, params: {message: "no luck"}}
`), service.CompileOptions{})
	require.NoError(t, err)
	sub, err := svc.Submit(ctx, service.SubmitRequest{Blueprint: bp})
	require.NoError(t, err)
	_, err = svc.Wait(ctx, sub.Run.ID)
	require.NoError(t, err)

	list, err := svc.List(ctx, service.ListRequest{Counts: true})
	require.NoError(t, err)
	var b bytes.Buffer
	printRuns(&b, list, time.Now())
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3, b.String())
	require.Regexp(t, `^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+STARTED\s+DURATION\s+FAILED NODE$`, lines[0])
	require.Regexp(t, "^"+sub.Run.ID+`\s+broken\s+1\s+failed\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\s+boom$`, lines[1])
	require.Equal(t, "1 run: 1 failed", lines[2])

	evs, err := svc.History(ctx, sub.Run.ID)
	require.NoError(t, err)
	b.Reset()
	printEvents(&b, evs)
	out := b.String()
	require.Regexp(t, `(?m)^1\s+\S+\s+run\.created\s+-\s+broken version 1, inputs {"n":2}$`, out)
	require.Regexp(t, `(?m)step\.succeeded\s+first\s+.*output {"v":2}$`, out)
	require.Regexp(t, `(?m)step\.failed\s+boom\s+.*error: no luck$`, out)
	require.Regexp(t, `(?m)run\.ended\s+-\s+failed: in boom: no luck$`, out)

	snap, err := svc.RecordsAt(ctx, sub.Run.ID, evs[len(evs)-1].Seq)
	require.NoError(t, err)
	b.Reset()
	printRecords(&b, snap.Records)
	require.Regexp(t, `(?m)^boom\s+failed\s+1\s+error: no luck$`, b.String())
	require.Regexp(t, `(?m)^first\s+succeeded\s+1\s+{"v":2}$`, b.String())

	b.Reset()
	printLog(&b, &store.Event{Time: time.Now(), Type: store.EventLog, Node: "sh", Frame: "each[2]", Stream: "stdout", Message: "a\nb\n"})
	require.Regexp(t, `^\d\d:\d\d:\d\d\.\d{3} STDOUT sh\[each\[2\]\]  a\n\S+ STDOUT sh\[each\[2\]\]  b\n$`, b.String())
}
