package runtime_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// The steps of a fused task run back to back in one task: the observer
// hears each one end as it does, with its own times, not all of them when
// the task's transition is applied.
func TestObserverSeesEachFusedStepEnd(t *testing.T) {
	f := newRecFlow(t, memory.New(), nil, `name: fused
nodes:
  - {id: a, kind: Action, action: sleep, params: {duration: 50ms}}
  - {id: b, kind: Action, action: sleep, params: {duration: 200ms}}
`)
	res := f.wait(f.start())
	require.Equal(t, store.Succeeded, res.Status)
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := ""
	var aEnd, bStart int
	for i, ev := range f.events {
		if ev.Node == "" {
			continue
		}
		seq += ev.Node + ":" + string(ev.Status) + " "
		switch {
		case ev.Node == "a" && ev.Status == store.Succeeded:
			aEnd = i
			require.False(t, ev.Started.IsZero())
			require.Less(t, ev.Time.Sub(ev.Started), f.events[len(f.events)-1].Time.Sub(ev.Started),
				"a's event has a's own end time, not the task's")
		case ev.Node == "b" && ev.Status == store.Running:
			bStart = i
		}
	}
	require.Equal(t, "a:running a:succeeded b:running b:succeeded ", seq, "each step reported once, in order")
	require.Less(t, aEnd, bStart)
}
