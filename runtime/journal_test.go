package runtime_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/storetest"
)

// TestJournalEvents: a run's journal holds its `log` lines, the tails of
// its shell steps' output (also of a failed attempt), the retry scheduled
// between the attempts, its Wait started and fired, a record event for
// every step, fused or not, and replays to exactly its records.
func TestJournalEvents(t *testing.T) {
	onStores(t, func(t *testing.T, st store.Store) {
		dir := t.TempDir()
		f := newRecFlow(t, st, nil, fmt.Sprintf(`name: journal
nodes:
  - {id: hello, kind: Action, action: log, params: {msg: "hi there", level: warn}}
  - id: flaky
    kind: Action
    action: shell
    retry: {max_attempts: 2, initial_interval: 10ms}
    params:
      command: 'f=%s/c; if [ -e $f ]; then echo second; else touch $f; echo first; echo bad >&2; exit 3; fi'
  - {id: pause, kind: Wait, duration: 20ms}
  - {id: big, kind: Action, action: shell, params: {command: "yes abcdefgh | head -c 10000; echo err >&2"}}
  - {id: bye, kind: Action, action: log, params: {msg: done}}
`, dir))
		run := f.start()
		res := f.wait(run)
		require.Equal(t, store.Succeeded, res.Status, "%+v", res.Error)
		evs := storetest.AllEvents(t, st, run.ID)

		type line struct {
			node, level, stream, msg string
			attempt                  int
		}
		var lines []line
		succeeded := map[string]bool{}
		var retry, waitStarted, waitFired *store.Event
		for _, ev := range evs {
			switch ev.Type {
			case store.EventLog:
				msg := ev.Message
				if len(msg) > 40 {
					msg = msg[:3] + fmt.Sprint(len(msg))
				}
				lines = append(lines, line{ev.Node, ev.Level, ev.Stream, msg, ev.Attempt})
			case store.EventStepSucceeded:
				succeeded[ev.Node] = true
			case store.EventRetryScheduled:
				retry = ev
			case store.EventWaitStarted:
				waitStarted = ev
			case store.EventWaitFired:
				waitFired = ev
			}
		}
		require.Equal(t, []line{
			{"hello", "warn", "", "hi there", 1},
			{"flaky", "", "stdout", "first\n", 1},
			{"flaky", "", "stderr", "bad\n", 1},
			{"flaky", "", "stdout", "second\n", 2},
			{"big", "", "stdout", "...4096", 1},
			{"big", "", "stderr", "err\n", 1},
			{"bye", "info", "", "done", 1},
		}, lines)
		for _, n := range []string{"hello", "flaky", "pause", "big", "bye"} {
			require.True(t, succeeded[n], "a step.succeeded event for %s", n)
		}
		require.NotNil(t, retry)
		require.Equal(t, "flaky", retry.Node)
		require.Equal(t, 2, retry.Attempt)
		require.False(t, retry.At.IsZero())
		require.Contains(t, retry.Message, "exit status 3")
		require.NotNil(t, waitStarted)
		require.Equal(t, "pause", waitStarted.Node)
		require.False(t, waitStarted.At.IsZero())
		require.NotNil(t, waitFired)
		require.Equal(t, "pause", waitFired.Node)
		require.Less(t, waitStarted.Seq, waitFired.Seq)
		require.Equal(t, store.EventRunEnded, evs[len(evs)-1].Type)

		all, err := st.AllRecords(context.Background(), run.ID)
		require.NoError(t, err)
		m := map[store.RecordKey]*store.Record{}
		for _, r := range all {
			m[r.RecordKey] = r
		}
		require.Equal(t, store.SortRecords(m), store.Replay(evs, 0), "the journal replays to the records")
	})
}
