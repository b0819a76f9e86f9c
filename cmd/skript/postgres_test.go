package main_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/postgres/pgtest"
)

// Three workers on PostgreSQL, one killed with SIGKILL mid-run: the others
// take its leases over once they run out, and the run succeeds with every
// item recorded once.
func TestWorkerKilledMidRunOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	require.Equal(t, 0, skript(t, "migrate", "--store", url).code)
	a := startWorker(t, url, "--lease", "2s", "--concurrency", "32")
	startWorker(t, url, "--lease", "2s", "--concurrency", "32")
	startWorker(t, url, "--lease", "2s", "--concurrency", "32")
	const n = 600
	r := skript(t, "submit", fanout(t, n, "20ms"), "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.TrimSpace(r.stdout)
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	st := waitStatus(t, url, id)
	require.Equal(t, "succeeded", st.Status, "%v", st.Error)
	require.EqualValues(t, n, st.Output["count"])
	require.EqualValues(t, n, st.Output["distinct"])
	require.EqualValues(t, n*(n-1)/2, st.Output["sum"])
}

// skript migrate creates the tables, says so, and is a no-op the second
// time; a store with an older schema refuses to start and names it.
func TestMigrateCommand(t *testing.T) {
	url := pgtest.NewDatabase(t)
	r := skript(t, "migrate", "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "created the Skript tables")
	r = skript(t, "migrate", "--store", url)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "already at version")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer func() { _ = c.Close(context.Background()) }()
	// An older schema (0: before the first migration's version was kept).
	_, err = c.Exec(ctx, "UPDATE skript_schema SET version = 0")
	require.NoError(t, err)
	r = skript(t, "runs", "--store", url)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "run skript migrate --store URL")
	require.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line: %q", r.stderr)
	// A newer one.
	_, err = c.Exec(ctx, "UPDATE skript_schema SET version = 1000")
	require.NoError(t, err)
	for _, args := range [][]string{{"runs"}, {"migrate"}, {"worker"}} {
		r = skript(t, append(args, "--store", url)...)
		require.Equal(t, 2, r.code, "%v", args)
		require.Contains(t, r.stderr, "upgrade skript")
	}

	for _, bad := range [][]string{{"migrate"}, {"migrate", "--store", "memory"}, {"migrate", "--store", "redis://127.0.0.1:1/0"}} {
		r := skript(t, bad...)
		require.Equal(t, 2, r.code, "%v: %s", bad, r.stderr)
	}
}

// A missing database or an unreachable server: one line, exit 2, and the
// password nowhere.
func TestPostgresBadInputCLI(t *testing.T) {
	const secret = "pa55-w0rd-XYZ"
	for _, url := range []string{
		"postgres://postgres:" + secret + "@127.0.0.1:5432/skript_no_such_db",
		"postgres://postgres:" + secret + "@127.0.0.1:1/db?connect_timeout=2",
		"postgres://postgres:" + secret + "@127.0.0.1:5432/db?sslmode=never",
	} {
		for _, args := range [][]string{{"runs"}, {"status", "r1"}, {"migrate"}} {
			r := skript(t, append(args, "--store", url)...)
			require.Equal(t, 2, r.code, "%v %s", args, r.stderr)
			require.NotContains(t, r.stderr+r.stdout, secret)
			require.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line: %q", r.stderr)
		}
	}
}
