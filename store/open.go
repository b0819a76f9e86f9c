package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// The one set of defaults of every store, whoever opens it (the Go API,
// the CLI, the coming HTTP server): a run's result can be read back for as
// long whichever store holds it.
const (
	// DefaultRetention is how long ended runs, their records and their
	// journals are kept.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultLease is how long a task stays leased to a worker that stops
	// heartbeating, on a driver whose leases run out.
	DefaultLease = 30 * time.Second
	// DefaultMaxDeliveries is how many workers may stop while running a
	// task before its node fails instead of running it once more.
	DefaultMaxDeliveries = 5
)

// Options tune a store opened by Open. Zero fields take the defaults
// above, so Options{} is the same store for every caller.
type Options struct {
	// Retention is how long ended runs are kept: 0 means
	// DefaultRetention; a negative value keeps them as long as the store
	// lives, which only a store that lives in this process can (memory).
	Retention time.Duration
	// Lease is how long a leased task survives its worker's silence
	// (0: DefaultLease). Drivers whose leases never run out ignore it.
	Lease time.Duration
	// MaxDeliveries bounds the deliveries of one task (0 or less:
	// DefaultMaxDeliveries). Drivers that do not count ignore it.
	MaxDeliveries int
	// AllowEviction lets a driver whose server may evict keys under
	// memory pressure open anyway (evicted keys lose or corrupt runs).
	AllowEviction bool
	// ReadOnly opens the store for reading runs only: opening writes
	// nothing, so a read-only account suffices.
	ReadOnly bool
	// Logger receives the problems a driver recovers from
	// (slog.Default() when nil).
	Logger *slog.Logger
	// Journal bounds each run's event journal (zero fields: the
	// JournalLimits defaults).
	Journal JournalLimits
}

// Resolved returns the options with every zero field set to its default:
// what the driver is opened with.
func (o Options) Resolved() Options {
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = DefaultMaxDeliveries
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Journal = o.Journal.Resolved()
	return o
}

// Opener opens a store of one scheme. url is the whole URL as given; opts
// are already Resolved. Its errors must not hold the URL's secrets.
type Opener func(ctx context.Context, url string, opts Options) (Store, error)

var (
	driversMu sync.RWMutex
	drivers   = map[string]Opener{}
)

// Register makes a driver available to Open under a URL scheme ("memory",
// "redis"). Drivers call it from init; a second registration of a scheme
// is a programming error and panics, as database/sql's does.
func Register(scheme string, open Opener) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if open == nil {
		panic("store: Register of a nil opener for " + scheme)
	}
	if _, dup := drivers[scheme]; dup {
		panic("store: Register called twice for " + scheme)
	}
	drivers[scheme] = open
}

// Schemes returns the registered URL schemes, sorted.
func Schemes() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	out := make([]string, 0, len(drivers))
	for s := range drivers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// ErrUnknownScheme is returned (wrapped) by Open for a URL no registered
// driver opens.
var ErrUnknownScheme = errors.New("unknown store")

// Open opens the store a URL names: "memory" (or "memory:"), or a URL
// whose scheme a driver registered ("redis://HOST:PORT/DB"). An empty URL
// is the memory store. The error for a URL no driver opens names the
// known schemes and never repeats the URL, which may hold a password. A
// driver registers its schemes when its package is imported: a Go
// program that opens "redis://..." imports store/redis (the root package
// skript imports both drivers).
func Open(ctx context.Context, url string, opts Options) (Store, error) {
	if url == "" {
		url = "memory"
	}
	scheme := SchemeOf(url)
	driversMu.RLock()
	open := drivers[scheme]
	driversMu.RUnlock()
	if open == nil {
		known := strings.Join(Schemes(), ", ")
		if scheme == "" || !strings.Contains(url, ":") {
			// A bare word that is no scheme may be a mistyped secret.
			return nil, fmt.Errorf("%w: the store URL has no known scheme; the schemes are %s (for example memory or redis://HOST:PORT/DB)",
				ErrUnknownScheme, known)
		}
		return nil, fmt.Errorf("%w: no store has the scheme %q; the schemes are %s", ErrUnknownScheme, scheme, known)
	}
	return open(ctx, url, opts.Resolved())
}

// SchemeOf returns the scheme of a store URL ("memory" for "memory" and
// "memory:..."), or "" when it has none that could be one: RFC 3986's
// letter followed by letters, digits, '+', '-' or '.'. A bare word is
// its own scheme, so "memory" needs no colon.
func SchemeOf(url string) string {
	s, _, _ := strings.Cut(url, ":")
	s = strings.ToLower(s)
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return ""
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return s
}
