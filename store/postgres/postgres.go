// Package postgres is Skript's PostgreSQL store driver, for fleets of
// workers that want their runs in the database their company already backs
// up, monitors and queries.
//
// Runs, records, tokens, groups, the queue and the journal are tables (see
// migrations/). A completion batch is one transaction: it locks the rows of
// the batch's runs (in id order, so batches never deadlock), checks each
// transition's fence against the token table, and writes everything with a
// few set-based statements sent in one round trip. Workers lease with
// SELECT ... FOR UPDATE SKIP LOCKED; a leased entry's visible time is its
// lease's end, so an expired lease is ready again without a sweep. Idle
// workers sleep on LISTEN/NOTIFY and the next due time they already know,
// so they cost the database almost nothing.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skript-dev/skript/store"
)

// ErrUnreachable marks an Open that failed because the server could not be
// reached (refused, timed out, starting up): trying again later may work.
// Every other error of Open needs a change first.
var ErrUnreachable = errors.New("postgres unreachable")

// Store is the PostgreSQL driver. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	opts    store.Options
	limits  store.JournalLimits
	log     *slog.Logger
	connCfg *pgx.ConnConfig
	count   *counter

	lis      *listener
	lisOnce  sync.Once
	lisCtx   context.Context
	lisStop  context.CancelFunc
	lisDone  chan struct{}
	expireMu sync.Mutex
	expireAt time.Time

	// idle is what the last empty lease learned: no task is visible
	// before next, as of the tasks notification epoch it saw.
	idleMu    sync.Mutex
	idleEpoch uint64
	idleNext  time.Time
	idleValid bool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database a postgres:// (or postgresql://) URL
// names and checks its schema: an empty database is given the current one
// (under an advisory lock, so workers starting together do it once), an
// older one asks for `skript migrate`, a newer one for a newer skript.
// opts are taken as they are (see store.Options.Resolved). Its errors never
// hold the URL's password.
func Open(ctx context.Context, url string, opts store.Options) (*Store, error) {
	opts = opts.Resolved()
	if opts.Retention < 0 {
		return nil, errors.New("postgres store: ended runs cannot be kept forever (a negative retention); give a positive retention")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres store URL: %s", parseReason(err)), url)
	}
	where := describe(cfg.ConnConfig)
	count := &counter{}
	cfg.ConnConfig.Tracer = count
	// pgxpool pings a connection idle for over a second before handing it
	// out: an idle worker would then send a ping with each look at the
	// queue. A dead connection shows as the query's error instead, which
	// callers retry.
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration > time.Minute }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres store %s: %w", where, err), url)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, redact(connectError(where, err), url)
	}
	s := &Store{pool: pool, opts: opts, limits: opts.Journal.Resolved(), log: opts.Logger, connCfg: cfg.ConnConfig, count: count}
	if err := s.checkSchema(ctx, !opts.ReadOnly); err != nil {
		pool.Close()
		return nil, redact(fmt.Errorf("postgres store %s: %w", where, err), url)
	}
	s.lisCtx, s.lisStop = context.WithCancel(context.Background())
	s.lisDone = make(chan struct{})
	return s, nil
}

// describe names a database for messages: host, port and database, never
// the user's password.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s database %q", net.JoinHostPort(c.Host, fmt.Sprint(c.Port)), c.Database)
}

// parseReason is pgx's reason for refusing a URL without the URL itself.
func parseReason(err error) string {
	msg := err.Error()
	// pgx says "cannot parse `URL`: reason"; the URL is the caller's.
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		msg = msg[i+3:]
	}
	return msg
}

// connectError turns a failed first connection into one clear line.
func connectError(where string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "3D000":
			return fmt.Errorf("postgres store %s: the database does not exist (create it, for example with createdb, then run skript migrate --store URL)", where)
		case "28P01", "28000":
			return fmt.Errorf("postgres store %s: the server refused the user or password (%s)", where, pe.Code)
		case "57P03":
			return unreachable{fmt.Errorf("postgres store %s: the server is starting up; try again", where)}
		}
		return fmt.Errorf("postgres store %s: %s (SQLSTATE %s)", where, pe.Message, pe.Code)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "dial") {
		return unreachable{fmt.Errorf("postgres store %s: cannot reach the server: %s", where, lastReason(err))}
	}
	return fmt.Errorf("postgres store %s: %s", where, lastReason(err))
}

// lastReason is the innermost part of a pgconn error chain's message, the
// one that says what went wrong.
func lastReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

type unreachable struct{ err error }

func (u unreachable) Error() string   { return u.err.Error() }
func (u unreachable) Unwrap() []error { return []error{u.err, ErrUnreachable} }

// redact removes the URL's password from err's message, whatever quoted it.
func redact(err error, url string) error {
	pw := password(url)
	if pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return redacted{msg: strings.ReplaceAll(err.Error(), pw, "***"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }

// password is the password of a postgres URL as written ("" if none).
func password(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, ok := strings.Cut(rest[:at], ":")
	if !ok {
		return ""
	}
	return pw
}

// RedactURL hides the password of a postgres URL, for messages and logs.
func RedactURL(raw string) string {
	if pw := password(raw); pw != "" {
		scheme, rest, _ := strings.Cut(raw, "://")
		at := strings.LastIndex(rest, "@")
		user, _, _ := strings.Cut(rest[:at], ":")
		return scheme + "://" + user + ":***" + rest[at:]
	}
	return raw
}

// Capabilities implements store.Store.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{Shared: true, LeaseDuration: s.opts.Lease, Retention: s.opts.Retention}
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.lisStop()
	started := false
	s.lisOnce.Do(func() {}) // no listener starts after Close
	if s.lis != nil {
		started = true
	}
	if started {
		<-s.lisDone
	}
	s.pool.Close()
	return nil
}

// Pool is the driver's connection pool, for tools that read its tables.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
