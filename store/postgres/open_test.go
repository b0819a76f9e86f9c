package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/postgres"
	"github.com/skript-dev/skript/store/postgres/pgtest"
)

func exec(t *testing.T, dbURL, sql string) {
	t.Helper()
	c, err := pgx.Connect(ctxFor(t), dbURL)
	require.NoError(t, err)
	defer func() { _ = c.Close(context.Background()) }()
	_, err = c.Exec(ctxFor(t), sql)
	require.NoError(t, err)
}

// TestSchemaVersions: an empty database is given the schema; an older one
// asks for skript migrate, which brings it up to date; a newer one asks
// for a newer skript; a read-only open creates nothing.
func TestSchemaVersions(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	ctx := ctxFor(t)
	_, err := postgres.Open(ctx, dbURL, store.Options{ReadOnly: true})
	require.ErrorIs(t, err, postgres.ErrSchema)
	require.Contains(t, err.Error(), "skript migrate")

	s, err := postgres.Open(ctx, dbURL, store.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	exec(t, dbURL, "UPDATE skript_schema SET version = 0")
	_, err = postgres.Open(ctx, dbURL, store.Options{})
	require.ErrorIs(t, err, postgres.ErrSchema)
	require.Contains(t, err.Error(), "run skript migrate --store URL")
	require.NotContains(t, err.Error(), "\n")

	exec(t, dbURL, "UPDATE skript_schema SET version = 99")
	_, err = postgres.Open(ctx, dbURL, store.Options{})
	require.ErrorIs(t, err, postgres.ErrSchema)
	require.Contains(t, err.Error(), "upgrade skript")
	_, _, err = postgres.Migrate(ctx, dbURL)
	require.ErrorIs(t, err, postgres.ErrSchema)

	exec(t, dbURL, "UPDATE skript_schema SET version = 1")
	from, to, err := postgres.Migrate(ctx, dbURL)
	require.NoError(t, err)
	require.Equal(t, postgres.SchemaVersion(), from)
	require.Equal(t, postgres.SchemaVersion(), to)
}

// TestOpenConcurrentlyOnEmpty: workers starting together on an empty
// database create the schema once.
func TestOpenConcurrentlyOnEmpty(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(ctxFor(t), dbURL, store.Options{})
			if err == nil {
				_ = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

// TestBadInputNeverShowsThePassword: every error of a bad URL, an
// unreachable server or a missing database is one line without the
// password.
func TestBadInputNeverShowsThePassword(t *testing.T) {
	const secret = "hunter2-Secr3t"
	server, err := url.Parse(pgtest.ServerURL(t))
	require.NoError(t, err)
	missing := *server
	missing.User = url.UserPassword(server.User.Username(), secret)
	missing.Path = "/skript_no_such_database"
	for name, tc := range map[string]struct{ url, want string }{
		"missing database": {missing.String(), "does not exist"},
		"unreachable":      {"postgres://skript:" + secret + "@127.0.0.1:1/db?connect_timeout=2", "cannot reach"},
		"bad port":         {"postgres://skript:" + secret + "@127.0.0.1:notaport/db", "postgres store URL"},
		"bad escape":       {"postgres://skript:" + secret + "%zz@127.0.0.1/db", "postgres store URL"},
		"bad option":       {"postgres://skript:" + secret + "@127.0.0.1/db?sslmode=sometimes", "postgres store URL"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := store.Open(ctx, tc.url, store.Options{})
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), secret)
			require.NotContains(t, err.Error(), "\n")
			_, _, err = postgres.Migrate(ctx, tc.url)
			require.Error(t, err)
			require.NotContains(t, err.Error(), secret)
			require.False(t, strings.Contains(postgres.RedactURL(tc.url), secret) && !strings.Contains(tc.url, "%zz"))
		})
	}
}
