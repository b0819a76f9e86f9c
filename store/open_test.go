package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
)

// The store package's defaults are the drivers' own, so a driver opened
// directly and one opened by URL keep runs for as long.
func TestOpenDefaultsAreTheDrivers(t *testing.T) {
	require.Equal(t, memory.DefaultRetention, store.DefaultRetention)
	require.Equal(t, redis.DefaultRetention, store.DefaultRetention)
	require.Equal(t, redis.DefaultLease, store.DefaultLease)
	require.Equal(t, redis.DefaultMaxDeliveries, store.DefaultMaxDeliveries)
	o := store.Options{}.Resolved()
	require.Equal(t, store.DefaultRetention, o.Retention)
	require.Equal(t, store.DefaultMaxEvents, o.Journal.MaxEvents)
	require.Equal(t, store.DefaultMaxValueBytes, o.Journal.MaxValueBytes)
}

func TestOpenMemory(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"", "memory", "memory:", "memory://"} {
		st, err := store.Open(ctx, url, store.Options{})
		require.NoError(t, err, url)
		require.Equal(t, store.Capabilities{Local: true, Finishing: true, Retention: store.DefaultRetention}, st.Capabilities(), url)
		require.NoError(t, st.Close())
	}
	st, err := store.Open(ctx, "memory", store.Options{Retention: -1})
	require.NoError(t, err)
	require.Zero(t, st.Capabilities().Retention, "a negative retention keeps runs for ever")
	_, err = store.Open(ctx, "memory:elsewhere", store.Options{})
	require.ErrorContains(t, err, "the memory store takes nothing after memory:")
}

// A URL no driver opens is refused with the schemes there are, and
// without repeating the URL, which may hold a password.
func TestOpenUnknownScheme(t *testing.T) {
	ctx := context.Background()
	for url, want := range map[string]string{
		"postgres://u:hunter22@db/x": `no store has the scheme "postgres"`,
		"hunter22":                   "the store URL has no known scheme",
		"://hunter22@x":              "the store URL has no known scheme",
		"1redis://hunter22@x":        "the store URL has no known scheme",
	} {
		_, err := store.Open(ctx, url, store.Options{})
		require.ErrorIs(t, err, store.ErrUnknownScheme, url)
		require.ErrorContains(t, err, want, url)
		require.ErrorContains(t, err, "memory, redis, rediss", url)
		require.NotContains(t, err.Error(), "hunter22", url)
	}
}

func TestSchemeOf(t *testing.T) {
	for url, want := range map[string]string{
		"memory": "memory", "memory:": "memory", "Redis://h:1/0": "redis", "rediss://h": "rediss",
		"": "", ":x": "", "9p://x": "", "a b://x": "", "sqlite+x://p": "sqlite+x",
	} {
		require.Equal(t, want, store.SchemeOf(url), url)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	require.Panics(t, func() {
		store.Register("memory", func(context.Context, string, store.Options) (store.Store, error) { return nil, nil })
	})
	require.Panics(t, func() { store.Register("nil-opener", nil) })
}

// Opened by URL, the Redis store has the shared defaults and the options
// given; a bad password is refused without being repeated.
func TestOpenRedis(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st, err := store.Open(ctx, srv.URL(), store.Options{})
	require.NoError(t, err)
	require.Equal(t, store.Capabilities{Shared: true, Finishing: true, LeaseDuration: store.DefaultLease, Retention: store.DefaultRetention},
		st.Capabilities())
	require.NoError(t, st.Close())

	st, err = store.Open(ctx, srv.URL(), store.Options{Lease: 5e9, Retention: 3600e9, ReadOnly: true})
	require.NoError(t, err)
	require.Equal(t, store.Capabilities{Shared: true, Finishing: true, LeaseDuration: 5e9, Retention: 3600e9}, st.Capabilities())
	require.NoError(t, st.Close())

	_, err = store.Open(ctx, srv.URL(), store.Options{Retention: -1})
	require.ErrorContains(t, err, "cannot be kept forever")

	locked := redistest.Start(t, "--user", "app", "on", ">right-pw", "~*", "&*", "+@all")
	_, err = store.Open(ctx, "redis://app:hunter22@"+locked.Addr()+"/0", store.Options{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter22")
}
