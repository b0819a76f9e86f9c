package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

// childNames must name children exactly as store.ChildToken and
// store.ChildFrame do: the Redis script and the memory store build the
// late children of a bounded group with those.
func TestChildNamesMatchTheStoreNames(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 100, 2001} {
		ids := childNames("t:3", '.', 0, n)
		frames := childNames("outer[2]/fan", '[', ']', n)
		require.Len(t, ids, n)
		require.Len(t, frames, n)
		for i := range n {
			require.Equal(t, store.ChildToken("t:3", i), ids[i])
			require.Equal(t, store.ChildFrame("outer[2]/fan", i), frames[i])
		}
	}
}

func TestRunIDsSortByStart(t *testing.T) {
	prev := NewRunID()
	for range 1000 {
		id := NewRunID()
		require.Len(t, id, 36)
		require.Less(t, prev, id, "a later run's id sorts after an earlier one's")
		prev = id
	}
}
