package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// LimitedFactory returns a fresh, empty store whose journal keeps to lim.
type LimitedFactory func(t testing.TB, lim store.JournalLimits) store.Store

// journalOf is the driver's store.Journal.
func journalOf(t testing.TB, s store.Store) store.Journal {
	t.Helper()
	return s
}

// AllEvents reads a run's whole journal as it is now, page by page.
func AllEvents(t testing.TB, s store.Store, id string) []*store.Event {
	t.Helper()
	j := journalOf(t, s)
	var out []*store.Event
	var after int64
	for {
		page, err := j.Events(ctxT(t), id, after, 3, 0)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		require.LessOrEqual(t, len(page), 3, "a page holds at most max events")
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

func types(evs []*store.Event) []store.EventType {
	out := make([]store.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// checkSeq checks that a journal is numbered from 1 without gaps, in time
// order.
func checkSeq(t testing.TB, evs []*store.Event) {
	t.Helper()
	for i, e := range evs {
		require.EqualValues(t, i+1, e.Seq, "event %d (%s)", i, e.Type)
		require.False(t, e.Time.IsZero(), "event %d has a time", e.Seq)
		if i > 0 {
			require.False(t, e.Time.Before(evs[i-1].Time), "event %d is older than the one before", e.Seq)
		}
	}
}

// sameRecords compares records by their JSON encoding: times compare as
// instants whatever their zone or monotonic reading.
func sameRecords(t testing.TB, want, got []*store.Record, msg string) {
	t.Helper()
	enc := func(recs []*store.Record) string {
		b, err := json.Marshal(recs)
		require.NoError(t, err)
		return string(b)
	}
	for _, rs := range [][]*store.Record{want, got} {
		for i, r := range rs {
			cp := *r
			cp.Started, cp.Finished = cp.Started.UTC(), cp.Finished.UTC()
			rs[i] = &cp
		}
	}
	require.JSONEq(t, enc(want), enc(got), msg)
}

func sortedRecords(t testing.TB, s store.Store, id string) []*store.Record {
	all, err := s.AllRecords(ctxT(t), id)
	require.NoError(t, err)
	m := make(map[store.RecordKey]*store.Record, len(all))
	for _, r := range all {
		m[r.RecordKey] = r
	}
	return store.SortRecords(m)
}

// testJournal drives a run through every kind of write a driver journals
// (its creation, a step's start, a transition with the runtime's own
// events, a group's result, a run's end over a running record) and checks
// the events: their order, numbering and types, what each names, and that
// replaying them rebuilds exactly the stored records, at the end and in
// between.
func testJournal(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	id := NewRunID()
	hdr := &store.Run{ID: id, Workflow: "wf", Version: "3", Hash: "h", Inputs: map[string]any{"x": 1, "d": time.Second},
		RetryOf: "run-before", Parent: "run-parent", Key: "key-1", Trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
	require.NoError(t, s.CreateRun(ctx, hdr, &store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}},
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "in#"}, Status: store.Pending}},
		Tasks:   []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}}}))
	got, err := s.GetRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "run-before", got.RetryOf)
	require.Equal(t, "run-parent", got.Parent)
	require.Equal(t, "key-1", got.Key)
	require.Equal(t, hdr.Trace, got.Trace)

	tk := leaseN(t, s, 1)[0]
	require.Equal(t, "c1", tk.Worker, "Lease names the consumer")
	start := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)
	quick := store.RecordKey{Key: "quick"}
	slow := store.RecordKey{Frame: "each[1]", Key: "slow"}
	ok, err := s.StartStep(ctx, tk, []*store.Record{
		{RecordKey: quick, Status: store.Succeeded, Output: "q", Attempts: 1, Started: start, Finished: start},
		running(slow, 2, start),
	})
	require.NoError(t, err)
	require.True(t, ok)
	afterStart := int64(len(AllEvents(t, s, id)))

	// The step fails its attempt 2 (its record written without a Started,
	// so the stored one is kept) and a retry is scheduled; then the token
	// forks two children.
	due := time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond)
	g := &store.Group{ID: "t.1", Total: 2, Started: 2, ChildPCs: []int32{10, 11}, Result: store.RecordKey{Key: "par"},
		Parent: &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: "t", Seq: 2, PC: 99}}
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Events: []*store.Event{
			{Type: store.EventLog, Node: "slow", Frame: "each[1]", Level: "info", Message: "hello"},
			{Type: store.EventLog, Node: "slow", Frame: "each[1]", Stream: "stderr", Message: "oops\n"},
			{Type: store.EventRetryScheduled, Node: "slow", Frame: "each[1]", Attempt: 3, At: due},
		},
		Records: []*store.Record{{RecordKey: slow, Status: store.Failed, Attempts: 2, Error: &store.ErrorInfo{Node: "slow", Message: "bad"}, Finished: time.Now()}},
		Tokens:  []store.TokenSet{{ID: "t", Seq: 2}, {ID: "t.1.0", Seq: 1}, {ID: "t.1.1", Seq: 1}},
		Groups:  []*store.Group{g},
		Tasks: []*store.Task{
			{Run: id, Hash: "h", Kind: store.Exec, Token: "t.1.0", Seq: 1, PC: 10, Group: g.ID, Slot: 0},
			{Run: id, Hash: "h", Kind: store.Exec, Token: "t.1.1", Seq: 1, PC: 11, Group: g.ID, Slot: 1},
		}}))
	kids := leaseN(t, s, 2)
	for _, k := range kids {
		require.True(t, complete(t, s, k, &store.Transition{Token: k.Token, Seq: k.Seq, Drop: []string{k.Token},
			Records:  []*store.Record{{RecordKey: store.RecordKey{Frame: "", Key: "kid" + string('0'+k.Slot)}, Status: store.Succeeded, Output: int(k.Slot), Attempts: 1}},
			Arrivals: []*store.Arrival{{Group: k.Group, Slot: k.Slot, Value: int(k.Slot)}}}))
	}
	parent := leaseN(t, s, 1)[0]
	// The parent writes a running record, then the run fails elsewhere:
	// the running record is cancelled at the run's end.
	wait := store.RecordKey{Key: "gate"}
	require.True(t, complete(t, s, parent, &store.Transition{Token: "t", Seq: 2,
		Events:  []*store.Event{{Type: store.EventWaitStarted, Node: "gate", At: due}},
		Records: []*store.Record{{RecordKey: wait, Status: store.Running, Started: time.Now()}},
		Tokens:  []store.TokenSet{{ID: "t", Seq: 3}},
		Tasks:   []*store.Task{{Run: id, Hash: "h", Kind: store.Timer, Token: "t", Seq: 3, At: due}}}))
	require.NoError(t, s.Cancel(ctx, id, "user asked"))
	r, err := s.WaitRun(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, r.Status)

	evs := AllEvents(t, s, id)
	checkSeq(t, evs)
	require.Equal(t, []store.EventType{
		store.EventRunCreated, store.EventRecord, // CreateRun
		store.EventStepSucceeded, store.EventStepStarted, // StartStep
		store.EventLog, store.EventLog, store.EventRetryScheduled, store.EventStepFailed, // the first task
		store.EventStepSucceeded, store.EventStepSucceeded, store.EventStepSucceeded, // two children, the group's result
		store.EventWaitStarted, store.EventStepStarted, // the parent
		store.EventStepCancelled, store.EventRunCancelled, // Cancel
	}, types(evs))

	created := evs[0]
	require.NotNil(t, created.Run)
	require.Equal(t, id, created.Run.ID)
	require.Equal(t, "wf", created.Run.Workflow)
	require.Equal(t, "3", created.Run.Version)
	require.Equal(t, "h", created.Run.Hash)
	require.Equal(t, map[string]any{"x": 1, "d": time.Second}, created.Run.Inputs)
	require.Equal(t, "run-before", created.Run.RetryOf)
	require.Equal(t, "run-parent", created.Run.Parent)
	require.Equal(t, "key-1", created.Run.Key)
	require.Equal(t, hdr.Trace, created.Run.Trace)
	require.Empty(t, created.Worker)

	started := evs[3]
	require.Equal(t, "slow", started.Node)
	require.Equal(t, "each[1]", started.Frame)
	require.Equal(t, 2, started.Attempt)
	require.Equal(t, "c1", started.Worker)
	require.Equal(t, slow, started.Record.RecordKey)

	log := evs[4]
	require.Equal(t, "info", log.Level)
	require.Equal(t, "hello", log.Message)
	require.Equal(t, "slow", log.Node)
	require.Equal(t, "each[1]", log.Frame)
	require.Equal(t, "stderr", evs[5].Stream)
	require.Equal(t, "oops\n", evs[5].Message)
	require.Equal(t, 3, evs[6].Attempt)
	require.True(t, evs[6].At.Equal(due), "retry due %v, want %v", evs[6].At, due)

	failed := evs[7]
	require.Equal(t, "c1", failed.Worker)
	require.Equal(t, 2, failed.Attempt)
	require.True(t, failed.Record.Started.Equal(start), "the record event holds the record as stored, with its kept start")
	require.Equal(t, "bad", failed.Record.Error.Message)

	res := evs[10]
	require.Equal(t, "par", res.Node)
	require.Equal(t, []any{0, 1}, res.Record.Output)
	require.Equal(t, "c1", res.Worker)
	require.True(t, evs[11].At.Equal(due))

	cancelled := evs[13]
	require.Equal(t, "gate", cancelled.Node)
	require.Equal(t, store.Cancelled, cancelled.Record.Status)
	require.Empty(t, cancelled.Worker)
	end := evs[14]
	require.NotNil(t, end.End)
	require.Equal(t, store.Cancelled, end.End.Status)
	require.Equal(t, "user asked", end.End.Error.Message)

	sameRecords(t, sortedRecords(t, s, id), store.Replay(evs, 0), "replayed to the end")
	mid := store.Replay(evs, afterStart)
	require.Len(t, mid, 3)
	for _, rec := range mid {
		if rec.RecordKey == slow {
			require.Equal(t, store.Running, rec.Status, "right after the step started")
		}
	}
}

// testJournalRunEnded checks a run ended by a transition: the records it
// writes, then the running ones cancelled, then run.ended with the end.
func testJournalRunEnded(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	ok, err := s.StartStep(ctxT(t), tk, []*store.Record{running(store.RecordKey{Key: "slow"}, 1, time.Now())})
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "boom"}, Status: store.Failed, Attempts: 1, Error: typedError()}},
		End:     &store.RunEnd{Status: store.Failed, Output: map[string]any{"n": 1}, Error: typedError()}}))
	evs := AllEvents(t, s, id)
	checkSeq(t, evs)
	require.Equal(t, []store.EventType{store.EventRunCreated, store.EventStepStarted, store.EventStepFailed,
		store.EventStepCancelled, store.EventRunEnded}, types(evs))
	end := evs[4].End
	require.Equal(t, store.Failed, end.Status)
	require.Equal(t, map[string]any{"n": 1}, end.Output)
	require.Equal(t, typedError(), end.Error, "the journal keeps the error's type and data exactly")
	require.Equal(t, typedError(), record(t, s, id, store.RecordKey{Key: "boom"}).Error)
	got, err := s.GetRun(ctxT(t), id)
	require.NoError(t, err)
	require.Equal(t, typedError(), got.Error, "the run keeps its error's type and data exactly")
	sameRecords(t, sortedRecords(t, s, id), store.Replay(evs, 0), "replayed to the end")
	// A stale completion journals nothing.
	require.False(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{{RecordKey: store.RecordKey{Key: "late"}, Status: store.Succeeded}}}))
	require.Len(t, AllEvents(t, s, id), 5)
}

// testEventsCursor checks reading after a cursor, in pages, and an
// unknown run.
func testEventsCursor(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	j := journalOf(t, s)
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	var recs []*store.Record
	for i := range 6 {
		recs = append(recs, &store.Record{RecordKey: store.RecordKey{Key: "n" + string(rune('a'+i))}, Status: store.Succeeded, Output: i})
	}
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1, Records: recs}))
	page, err := j.Events(ctx, id, 2, 2, 0)
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.EqualValues(t, 3, page[0].Seq)
	require.EqualValues(t, 4, page[1].Seq)
	require.Equal(t, "nb", page[0].Node)
	all, err := j.Events(ctx, id, 0, 0, 0)
	require.NoError(t, err)
	require.Len(t, all, 7, "max 0 reads a default page")
	rest, err := j.Events(ctx, id, 7, 10, 0)
	require.NoError(t, err)
	require.Empty(t, rest)
	_, err = j.Events(ctx, "no-such-run", 0, 10, 0)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = j.Events(ctx, "no-such-run", 0, 10, 50*time.Millisecond)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testEventsWait checks the change feed: a read with nothing new returns
// empty when its wait is over, and a waiting read returns as soon as the
// next event is appended (its wait is far longer than the test).
func testEventsWait(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	j := journalOf(t, s)
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	last := int64(len(AllEvents(t, s, id)))
	none, err := j.Events(ctx, id, last, 10, 100*time.Millisecond)
	require.NoError(t, err)
	require.Empty(t, none)

	type result struct {
		evs []*store.Event
		err error
	}
	got := make(chan result, 1)
	go func() {
		evs, err := j.Events(ctx, id, last, 10, 15*time.Second)
		got <- result{evs, err}
	}()
	time.Sleep(50 * time.Millisecond)
	ok, err := s.StartStep(ctx, tk, []*store.Record{running(store.RecordKey{Key: "a"}, 1, time.Now())})
	require.NoError(t, err)
	require.True(t, ok)
	r := <-got
	require.NoError(t, r.err)
	require.NotEmpty(t, r.evs, "the waiting read returned without the new event")
	require.EqualValues(t, last+1, r.evs[0].Seq)
	require.Equal(t, store.EventStepStarted, r.evs[0].Type)

	// A read waiting when the run ends returns its end.
	last = r.evs[len(r.evs)-1].Seq
	go func() {
		evs, err := j.Events(ctx, id, last, 10, 15*time.Second)
		got <- result{evs, err}
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, s.Cancel(ctx, id, "stop"))
	r = <-got
	require.NoError(t, r.err)
	require.NotEmpty(t, r.evs)
	// The end may come in a later read than the cancelled record.
	evs := AllEvents(t, s, id)
	require.Equal(t, store.EventRunCancelled, evs[len(evs)-1].Type)

	// A cancelled context ends a waiting read.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	other := newRun(t, s)
	_, err = j.Events(cctx, other, 1, 10, 10*time.Second)
	require.Error(t, err)
}

// RunLimits runs the journal's bounds against a driver: past MaxEvents
// one truncated event, then only the run's end; a value over
// MaxValueBytes replaced by store.TruncatedMarker, the event flagged
// Truncated, while the stored record keeps the whole value.
func RunLimits(t *testing.T, newStore LimitedFactory) {
	t.Run("MaxEvents", func(t *testing.T) {
		s := newStore(t, store.JournalLimits{MaxEvents: 5, MaxValueBytes: 1000})
		id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
		tk := leaseN(t, s, 1)[0]
		for i := range 3 {
			ok, err := s.StartStep(ctxT(t), tk, []*store.Record{running(store.RecordKey{Key: "s" + string(rune('a'+i))}, 1, time.Now())})
			require.NoError(t, err)
			require.True(t, ok)
		}
		require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
			Events: []*store.Event{{Type: store.EventLog, Level: "info", Message: "x"}, {Type: store.EventLog, Level: "info", Message: "y"}},
			Records: []*store.Record{{RecordKey: store.RecordKey{Key: "sa"}, Status: store.Succeeded},
				{RecordKey: store.RecordKey{Key: "sb"}, Status: store.Succeeded}},
			Tokens: []store.TokenSet{{ID: "t", Seq: 2}},
			Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 2}}}))
		tk = leaseN(t, s, 1)[0]
		require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 2,
			Records: []*store.Record{{RecordKey: store.RecordKey{Key: "sd"}, Status: store.Succeeded}},
			End:     &store.RunEnd{Status: store.Succeeded, Output: 1}}))
		evs := AllEvents(t, s, id)
		checkSeq(t, evs)
		require.Equal(t, []store.EventType{store.EventRunCreated, store.EventStepStarted, store.EventStepStarted, store.EventStepStarted,
			store.EventLog, store.EventTruncated, store.EventRunEnded}, types(evs))
		require.NotEmpty(t, evs[5].Message, "the truncated event says what was left out")
		require.Equal(t, store.Succeeded, evs[6].End.Status)
		// The state itself is whole.
		require.Equal(t, store.Cancelled, record(t, s, id, store.RecordKey{Key: "sc"}).Status)
		require.Equal(t, store.Succeeded, record(t, s, id, store.RecordKey{Key: "sd"}).Status)
	})
	t.Run("MaxValueBytes", func(t *testing.T) {
		s := newStore(t, store.JournalLimits{MaxValueBytes: 100})
		ctx := ctxT(t)
		id := NewRunID()
		big := strings.Repeat("x", 200)
		require.NoError(t, s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h", Inputs: map[string]any{"big": big, "small": 1}},
			&store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}}, Tasks: []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}}}))
		tk := leaseN(t, s, 1)[0]
		bigList := []any{big, map[string]any{"k": big}}
		require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
			Events: []*store.Event{{Type: store.EventLog, Stream: "stdout", Message: big}, {Type: store.EventLog, Level: "info", Message: "short"}},
			Records: []*store.Record{{RecordKey: store.RecordKey{Key: "a"}, Status: store.Succeeded, Output: bigList},
				{RecordKey: store.RecordKey{Key: "b"}, Status: store.Succeeded, Output: "small"}},
			End: &store.RunEnd{Status: store.Succeeded, Output: big}}))
		evs := AllEvents(t, s, id)
		checkSeq(t, evs)
		require.Equal(t, []store.EventType{store.EventRunCreated, store.EventLog, store.EventLog,
			store.EventStepSucceeded, store.EventStepSucceeded, store.EventRunEnded}, types(evs))
		marker := func(v any) string {
			s, ok := v.(string)
			require.True(t, ok, "a marker, not %T", v)
			return s
		}
		require.True(t, evs[0].Truncated)
		require.Equal(t, store.TruncatedMarker(202), marker(evs[0].Run.Inputs["big"]))
		require.Equal(t, 1, evs[0].Run.Inputs["small"])
		require.True(t, evs[1].Truncated)
		require.Equal(t, store.TruncatedMarker(200), evs[1].Message)
		require.False(t, evs[2].Truncated)
		require.Equal(t, "short", evs[2].Message)
		require.True(t, evs[3].Truncated)
		require.Equal(t, store.TruncatedMarker(len(`["`+big+`",{"k":"`+big+`"}]`)), marker(evs[3].Record.Output))
		require.False(t, evs[4].Truncated)
		require.Equal(t, "small", evs[4].Record.Output)
		require.True(t, evs[5].Truncated)
		require.Equal(t, store.TruncatedMarker(202), marker(evs[5].End.Output))
		// The state keeps the whole values.
		require.Equal(t, bigList, record(t, s, id, store.RecordKey{Key: "a"}).Output)
		r, err := s.GetRun(ctx, id)
		require.NoError(t, err)
		require.Equal(t, big, r.Output)
		require.Equal(t, big, r.Inputs["big"])
	})
}

// testIdempotencyKey checks that a second run with a kept run's key is
// refused with the kept run's id, and stores nothing.
func testIdempotencyKey(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	first := NewRunID()
	create := func(id, key string) error {
		return s.CreateRun(ctx, &store.Run{ID: id, Workflow: "wf", Hash: "h", Key: key},
			&store.Transition{Tokens: []store.TokenSet{{ID: "t", Seq: 1}}, Tasks: []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t", Seq: 1}}})
	}
	require.NoError(t, create(first, "secret-key"))
	second := NewRunID()
	err := create(second, "secret-key")
	require.ErrorIs(t, err, store.ErrRunExists)
	var exists *store.RunExistsError
	require.True(t, errors.As(err, &exists), "%T is not a *store.RunExistsError", err)
	require.Equal(t, first, exists.ID)
	require.NotContains(t, err.Error(), "secret-key", "the key may be a secret")
	_, err = s.GetRun(ctx, second)
	require.ErrorIs(t, err, store.ErrNotFound)
	// Other keys and no key at all are free; a key is held for as long
	// as its run is kept, ended or not.
	require.NoError(t, create(NewRunID(), "other-key"))
	require.NoError(t, create(NewRunID(), ""))
	require.NoError(t, create(NewRunID(), ""))
	require.NoError(t, s.Cancel(ctx, first, "stop"))
	err = create(NewRunID(), "secret-key")
	require.ErrorIs(t, err, store.ErrRunExists, "an ended run still holds its key")
	leaseN(t, s, 3) // only the three created runs' tasks
	leaseNone(t, s, 50*time.Millisecond)
}

// typedError is a failure with a type and data of every kind the codec
// keeps: a big integer, a duration, a nested map.
func typedError() *store.ErrorInfo {
	return &store.ErrorInfo{Node: "boom", Type: "http.status", Message: "bad",
		Data: map[string]any{"status": 503, "big": 1 << 60, "took": 1500 * time.Millisecond, "body": map[string]any{"why": "down"}}}
}

// testJournalSkipped checks that a record written as skipped is journaled
// as step.skipped, apart from the internal records of the same write.
func testJournalSkipped(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Records: []*store.Record{
			{RecordKey: store.RecordKey{Key: "untaken"}, Status: store.Skipped},
			{RecordKey: store.RecordKey{Key: "g#skip"}, Status: store.Skipped},
		},
		End: &store.RunEnd{Status: store.Succeeded}}))
	evs := AllEvents(t, s, id)
	checkSeq(t, evs)
	require.Equal(t, []store.EventType{store.EventRunCreated, store.EventStepSkipped, store.EventRecord,
		store.EventRunEnded}, types(evs))
	require.Equal(t, "untaken", evs[1].Node)
	require.Equal(t, store.Skipped, evs[1].Record.Status)
}
