package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/skript-dev/skript/internal/backoff"
	"github.com/skript-dev/skript/store"
	_ "github.com/skript-dev/skript/store/memory" // registers memory with store.Open
	"github.com/skript-dev/skript/store/postgres"
	"github.com/skript-dev/skript/store/redis"
)

// storeFlags select and tune the store.
type storeFlags struct {
	url       string
	lease     time.Duration
	retention time.Duration
	// maxDeliveries: 0 or less is the driver's default.
	maxDeliveries int
	allowEviction bool
	// readOnly: the command only reads runs, so opening the store writes
	// nothing and a read-only Redis user suffices.
	readOnly bool
	// journal bounds each run's journal.
	journal store.JournalLimits
	// logger receives what the driver recovers from (nil: slog.Default()).
	logger *slog.Logger
}

func (f *storeFlags) register(cmd *cobra.Command, requireURL bool) {
	def := os.Getenv("SKRIPT_STORE")
	const tlsHelp = "; rediss:// for TLS, with ?ca=CA.pem to trust a private CA and &cert=CLIENT.pem&key=CLIENT.key for a client certificate"
	const pgHelp = "; or postgres://[user:pass@]host:port/db?sslmode=..."
	help := "store URL: memory (default) or redis://[user:pass@]host:port/db" + tlsHelp + pgHelp + " (default $SKRIPT_STORE)"
	if requireURL {
		help = "store URL: redis://[user:pass@]host:port/db" + tlsHelp + pgHelp + " (default $SKRIPT_STORE)"
	}
	cmd.Flags().StringVar(&f.url, "store", def, help)
	cmd.Flags().DurationVar(&f.lease, "lease", store.DefaultLease, "Redis, PostgreSQL: a task not heartbeated for this long is taken over by another worker")
	cmd.Flags().IntVar(&f.maxDeliveries, "max-deliveries", store.DefaultMaxDeliveries,
		"Redis, PostgreSQL: after this many workers stopped while running a task (crash, kill, lost lease), its node fails instead of running it again")
	cmd.Flags().DurationVar(&f.retention, "retention", store.DefaultRetention, "how long ended runs, their records and their journals are kept")
	cmd.Flags().IntVar(&f.journal.MaxEvents, "journal-max-events", store.DefaultMaxEvents,
		"the most events a run's journal keeps (skript history, logs); past it one truncated event, then only the run's end")
	cmd.Flags().IntVar(&f.journal.MaxValueBytes, "journal-max-value", store.DefaultMaxValueBytes,
		"the largest output or log message, in bytes, a journal event keeps; a larger one is replaced by a marker saying its size")
	cmd.Flags().BoolVar(&f.allowEviction, "allow-eviction", false,
		"Redis: start even if maxmemory-policy is not noeviction (evicted keys lose or corrupt runs; same as allow_eviction=true in the URL)")
}

// hideWorkerFlags keeps flags that only tune running tasks out of the help
// of a command that runs none. They are still accepted, so a command line
// or an environment shared with workers keeps working.
func (f *storeFlags) hideWorkerFlags(cmd *cobra.Command, names ...string) {
	// Only what writes events bounds the journal.
	names = append(names, "journal-max-events", "journal-max-value")
	for _, n := range names {
		_ = cmd.Flags().MarkHidden(n)
	}
}

func (f *storeFlags) isMemory() bool {
	return f.url == "" || store.SchemeOf(f.url) == "memory"
}

func (f *storeFlags) isRedis() bool {
	s := store.SchemeOf(f.url)
	return s == "redis" || s == "rediss"
}

func (f *storeFlags) isPostgres() bool {
	s := store.SchemeOf(f.url)
	return s == "postgres" || s == "postgresql"
}

// requireShared refuses the memory store for commands that work across
// processes.
func (f *storeFlags) requireShared(command string) error {
	if f.isMemory() {
		return exit(2, fmt.Errorf("%s needs a shared store: --store redis://... or postgres://... (or $SKRIPT_STORE)", command))
	}
	return nil
}

// options are the store options the flags select, on top of the
// defaults every store shares with the Go API (store.Options).
func (f *storeFlags) options() store.Options {
	return store.Options{Lease: f.lease, Retention: f.retention, MaxDeliveries: f.maxDeliveries,
		AllowEviction: f.allowEviction, ReadOnly: f.readOnly, Logger: f.logger, Journal: f.journal}
}

// open connects to the selected store. Errors are usage errors (exit 2).
func (f *storeFlags) open(ctx context.Context) (store.Store, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := f.openOnce(cctx)
	if err != nil {
		return nil, exit(2, err)
	}
	return s, nil
}

// openOnce opens the store with the flags' options; its errors hold no
// password: a URL no driver opens is not repeated, and the Redis driver
// redacts its own.
func (f *storeFlags) openOnce(ctx context.Context) (store.Store, error) {
	s, err := store.Open(ctx, f.url, f.options())
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	return s, nil
}

// Backoff of a worker waiting for its store at start.
const (
	openRetryFirst = 100 * time.Millisecond
	openRetryMax   = 5 * time.Second
)

// openRetrying opens the store for a long-lived worker. While Redis cannot
// be reached or is not ready (a Cluster still forming, a server loading its
// data) it tries again with backoff, logging each attempt with the next
// delay, as a worker that loses Redis later does; a deployment then need
// not start Redis first. Other errors (a bad URL, a refused password, an
// evicting maxmemory-policy) end it at once with exit code 2, since no
// retry mends them. It returns ctx's error when ctx ends first.
func (f *storeFlags) openRetrying(ctx context.Context, log *slog.Logger) (store.Store, error) {
	if !f.isRedis() && !f.isPostgres() {
		return f.open(ctx)
	}
	// The shared backoff (doubling, ±20% jitter) keeps a fleet started
	// together from knocking in step.
	bo := backoff.New(openRetryFirst, openRetryMax)
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := f.openOnce(cctx)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("store reachable", "store", redis.RedactURL(f.url), "attempts", attempt)
			}
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, redis.ErrUnreachable) && !errors.Is(err, postgres.ErrUnreachable) {
			return nil, exit(2, err)
		}
		next := bo.Next()
		log.Warn("store unreachable, retrying", "store", redis.RedactURL(f.url), "attempt", attempt, "retry_in", next, "err", err)
		if !backoff.Sleep(ctx, next) {
			return nil, ctx.Err()
		}
	}
}
