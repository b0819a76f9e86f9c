package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schema's migrations, applied in the order of their numbers: file
// NNNN_name.sql takes the schema from version NNNN-1 to NNNN. A released
// file never changes; a change of schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() []migration {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	var out []migration
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			panic("postgres: migration without a number: " + e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out
}

// SchemaVersion is the schema version this driver reads and writes.
func SchemaVersion() int {
	m := migrations()
	return m[len(m)-1].version
}

// migrateLock is the advisory lock key under which the schema changes, so
// that workers starting together on an empty database create it once.
const migrateLock = 0x736b72697074 // "skript"

// ErrSchema marks a database whose schema this driver cannot use as it
// is: too old (run skript migrate), too new (upgrade skript), or absent in
// a read-only open.
var ErrSchema = errors.New("schema mismatch")

type schemaError struct{ msg string }

func (e schemaError) Error() string   { return e.msg }
func (e schemaError) Unwrap() error   { return ErrSchema }
func (e schemaError) Is(t error) bool { return t == ErrSchema }

// readVersion returns the schema version, or -1 when the database has no
// Skript schema at all.
func readVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	// A scan of the catalog, not a failed SELECT (which would abort the
	// migration's transaction) nor to_regclass (whose cache may not yet
	// see a table another migration just committed).
	var exists bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
		WHERE schemaname = current_schema() AND tablename = 'skript_schema')`).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return -1, nil
	}
	var v int
	err := q.QueryRow(ctx, `SELECT version FROM skript_schema`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// checkSchema accepts the current schema; it creates it in an empty
// database when create is set, and otherwise says which command to run.
func (s *Store) checkSchema(ctx context.Context, create bool) error {
	v, err := readVersion(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	want := SchemaVersion()
	switch {
	case v == want:
		return nil
	case v < 0 && create:
		_, _, err := migrate(ctx, s.pool, true)
		return err
	case v < 0:
		return schemaError{"the database has no Skript tables: run skript migrate --store URL first"}
	case v < want:
		return schemaError{fmt.Sprintf("the database's Skript schema is version %d and this skript needs version %d: run skript migrate --store URL (with every worker stopped or upgraded)", v, want)}
	default:
		return schemaError{fmt.Sprintf("the database's Skript schema is version %d, newer than this skript knows (%d): upgrade skript", v, want)}
	}
}

// Migrate brings the database a URL names to the current schema and
// returns the versions before and after. It takes an advisory lock, so two
// migrations never run at once; every step runs in one transaction with
// its version's update, so a failed step leaves the schema as it was.
func Migrate(ctx context.Context, url string) (from, to int, err error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return 0, 0, redact(fmt.Errorf("postgres store URL: %s", parseReason(err)), url)
	}
	where := describe(cfg.ConnConfig)
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, 0, redact(fmt.Errorf("postgres store %s: %w", where, err), url)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return 0, 0, redact(connectError(where, err), url)
	}
	from, to, err = migrate(ctx, pool, false)
	if err != nil {
		return 0, 0, redact(fmt.Errorf("postgres store %s: %w", where, err), url)
	}
	return from, to, nil
}

// migrate applies the missing migrations; onlyEmpty refuses to touch a
// database that already has a schema (an Open racing another one).
func migrate(ctx context.Context, pool *pgxpool.Pool, onlyEmpty bool) (from, to int, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return 0, 0, fmt.Errorf("taking the migration lock: %w", err)
	}
	v, err := readVersion(ctx, tx)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the schema version: %w", err)
	}
	want := SchemaVersion()
	if v > want {
		return v, v, schemaError{fmt.Sprintf("the database's Skript schema is version %d, newer than this skript knows (%d): upgrade skript", v, want)}
	}
	if onlyEmpty && v >= 0 {
		// Another process created it while this one waited.
		if v != want {
			return v, v, schemaError{fmt.Sprintf("the database's Skript schema is version %d and this skript needs version %d: run skript migrate --store URL", v, want)}
		}
		return v, v, nil
	}
	from = max(v, 0)
	for _, m := range migrations() {
		if m.version <= v {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return from, from, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if m.version == 1 {
			_, err = tx.Exec(ctx, `INSERT INTO skript_schema (version) VALUES (1)`)
		} else {
			_, err = tx.Exec(ctx, `UPDATE skript_schema SET version = $1`, m.version)
		}
		if err != nil {
			return from, from, fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return from, from, err
	}
	return from, want, nil
}
