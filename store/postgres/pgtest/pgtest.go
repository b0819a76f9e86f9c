// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// database with a unique name on the server SKRIPT_TEST_POSTGRES_URL names
// (default postgres://postgres@127.0.0.1:5432/postgres), dropped when the
// test ends. The database the URL names is only connected to, to create
// and drop the test's own; its tables are never touched.
//
// Tests are skipped when no server answers, unless SKRIPT_REQUIRE_POSTGRES=1
// (as in CI), where that is a failure.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables the package reads.
const (
	EnvRequire = "SKRIPT_REQUIRE_POSTGRES"  // "1": no server fails the test
	EnvURL     = "SKRIPT_TEST_POSTGRES_URL" // the server (and a database to connect to)
)

// DefaultURL is the server tried when EnvURL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var seq atomic.Int64

// ServerURL returns the URL of the test server, or skips the test (fails
// it under SKRIPT_REQUIRE_POSTGRES=1) when no server answers there.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		u = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("PostgreSQL is required (%s=1) but does not answer: %v", EnvRequire, err)
		}
		t.Skipf("no PostgreSQL answers (set %s to a server's URL): %v", EnvURL, err)
	}
	_ = c.Close(ctx)
	return u
}

// NewDatabase creates an empty database for the test and returns its URL;
// it is dropped (with whatever still connects to it) when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	name := fmt.Sprintf("skript_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000, seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() { Drop(t, server, name) })
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Drop drops a test database, ending its connections.
func Drop(t testing.TB, server, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Logf("drop database %s: %v", name, err)
		return
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Logf("drop database %s: %v", name, err)
	}
}
