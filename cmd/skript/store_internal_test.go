package main

import (
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// The CLI's store flags default to store.Options' defaults, as the Go
// API does (the root package's TestStoreDefaultsAreStoreOpens holds the
// other half): a run is kept as long, and its journal as bounded, whether
// a service embedding Skript or `skript worker` ran it.
func TestStoreFlagDefaultsAreTheGoAPIs(t *testing.T) {
	for _, requireURL := range []bool{false, true} {
		var sf storeFlags
		cmd := &cobra.Command{Use: "x"}
		sf.register(cmd, requireURL)
		require.NoError(t, cmd.ParseFlags(nil))
		require.Equal(t, store.Options{}.Resolved(), sf.options().Resolved())
	}

	var sf storeFlags
	cmd := &cobra.Command{Use: "x"}
	sf.register(cmd, false)
	require.NoError(t, cmd.ParseFlags([]string{"--store", "memory"}))
	st, err := sf.open(t.Context())
	require.NoError(t, err)
	want, err := store.Open(t.Context(), "memory", store.Options{})
	require.NoError(t, err)
	require.Equal(t, want.Capabilities(), st.Capabilities())

	srv := redistest.Start(t)
	require.NoError(t, cmd.ParseFlags([]string{"--store", srv.URL()}))
	st, err = sf.open(t.Context())
	require.NoError(t, err)
	defer st.Close()
	want, err = store.Open(t.Context(), srv.URL(), store.Options{})
	require.NoError(t, err)
	defer want.Close()
	require.Equal(t, want.Capabilities(), st.Capabilities())
}
