package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// testCounterGroups pins what a Graph's and a race's waits rely on: a group
// can be a bare counter (Started equal to Total: the driver starts no
// child), its Parent may be a token that does not exist yet (the group's
// completion creates it at the Parent's Seq), one transition may arrive at
// several groups, and an arrival at a group that has completed, or that
// never existed, changes nothing.
func testCounterGroups(t *testing.T, s store.Store) {
	id := newRun(t, s, &store.Task{Kind: store.Exec, Token: "t", Seq: 1})
	tk := leaseN(t, s, 1)[0]
	all := &store.Group{ID: "t.1", Total: 2, Started: 2, ChildPCs: []int32{10, 11}, Result: store.RecordKey{Key: "g"},
		Parent: &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: "t", Seq: 2, PC: 99}}
	wait := &store.Group{ID: "t.1~1", Total: 2, Started: 2, Result: store.RecordKey{Key: "g#needs1"},
		Parent: &store.Task{Run: id, Hash: "h", Kind: store.Resume, Token: "t.1.1", PC: 11, Group: "t.1", Slot: 1}}
	require.True(t, complete(t, s, tk, &store.Transition{Token: "t", Seq: 1,
		Tokens: []store.TokenSet{{ID: "t", Seq: 2}, {ID: "t.1.0", Seq: 1}},
		Groups: []*store.Group{all, wait},
		Tasks:  []*store.Task{{Run: id, Hash: "h", Kind: store.Exec, Token: "t.1.0", Seq: 1, PC: 10, Group: "t.1"}}}))
	first := leaseN(t, s, 1)[0]
	require.Equal(t, "t.1.0", first.Token)
	// Both of the counter's arrivals, and the node's own, in one step.
	require.True(t, complete(t, s, first, &store.Transition{Token: first.Token, Seq: first.Seq, Drop: []string{first.Token},
		Arrivals: []*store.Arrival{{Group: "t.1~1", Slot: 0}, {Group: "t.1~1", Slot: 1}, {Group: "t.1", Slot: 0, Value: "a"}}}))
	started := leaseN(t, s, 1)[0]
	require.Equal(t, store.Resume, started.Kind)
	require.Equal(t, "t.1.1", started.Token)
	require.EqualValues(t, 0, started.Seq)
	require.EqualValues(t, 11, started.PC)
	require.Equal(t, "t.1", started.Group)
	require.EqualValues(t, 1, started.Slot)
	// The token the counter created is fenced like any other, and late
	// arrivals at the completed counter and at no group are ignored.
	require.True(t, complete(t, s, started, &store.Transition{Token: started.Token, Seq: started.Seq, Drop: []string{started.Token},
		Arrivals: []*store.Arrival{{Group: "t.1~1", Slot: 0}, {Group: "nope", Slot: 0}, {Group: "t.1", Slot: 1, Value: "b"}}}))
	parent := leaseN(t, s, 1)[0]
	require.Equal(t, "t", parent.Token)
	require.EqualValues(t, 99, parent.PC)
	recs, err := s.Records(ctxT(t), id, []store.RecordKey{{Key: "g"}})
	require.NoError(t, err)
	require.Equal(t, []any{"a", "b"}, recs[0].Output)
	leaseNone(t, s, 50*time.Millisecond)
	require.True(t, complete(t, s, parent, &store.Transition{Token: "t", Seq: 2, End: &store.RunEnd{Status: store.Succeeded}}))
}
