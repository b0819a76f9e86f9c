package skript

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// The Go API opens its store with store.Options' defaults, as the CLI does
// (cmd/skript's TestStoreFlagDefaultsAreTheGoAPIs holds the other half):
// a store opened by New keeps runs exactly as long as one the CLI opens.
func TestStoreDefaultsAreStoreOpens(t *testing.T) {
	require.Equal(t, store.Options{}.Resolved(), (&config{}).storeOptions().Resolved())

	eng, err := New()
	require.NoError(t, err)
	defer eng.Close()
	want, err := store.Open(t.Context(), "memory", store.Options{})
	require.NoError(t, err)
	require.Equal(t, want.Capabilities(), eng.st.Capabilities())
	require.Equal(t, store.DefaultRetention, eng.st.Capabilities().Retention)

	srv := redistest.Start(t)
	eng, err = New(WithStoreURL(srv.URL()), WithWorkers(0))
	require.NoError(t, err)
	defer eng.Close()
	want, err = store.Open(t.Context(), srv.URL(), store.Options{})
	require.NoError(t, err)
	defer want.Close()
	require.Equal(t, want.Capabilities(), eng.st.Capabilities())
}
