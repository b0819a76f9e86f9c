package redis

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
)

// Defaults of the options.
const (
	DefaultPartitions = 16
	DefaultLease      = 30 * time.Second
	DefaultRetention  = 7 * 24 * time.Hour
	DefaultPrefix     = "skript"
	// DefaultMaxDeliveries is how many workers may stop while running a
	// task before it is failed rather than run again (WithMaxDeliveries).
	DefaultMaxDeliveries = 5
)

// group is the consumer group every worker reads the streams through.
const group = "skript"

// Option configures Open.
type Option func(*options)

type options struct {
	partitions int
	lease      time.Duration
	retention  time.Duration
	prefix     string
	// maxDeliveries is at most math.MaxInt32: it goes into store.Task.
	maxDeliveries int
	addrs         []string
	logger        *slog.Logger
	clock         func() time.Time // see WithClock
	allowEviction bool
	readOnly      bool
	limits        store.JournalLimits
	journalOff    bool
}

// WithPartitions sets the number of queue partitions. It is fixed for a
// deployment: the first Open records it, and a later Open with another
// number fails, because runs would no longer be found where they were put.
func WithPartitions(n int) Option { return func(o *options) { o.partitions = n } }

// Capabilities implements store.Store.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{Shared: true, Finishing: true, LeaseDuration: s.opt.lease, Retention: s.opt.retention}
}

// WithLease sets how long a task stays leased to a worker that stops
// extending it before another worker may take it over.
func WithLease(d time.Duration) Option { return func(o *options) { o.lease = d } }

// WithMaxDeliveries sets how many times a task may be delivered to workers
// that stop before finishing it (killed, crashed, or cut off from Redis for
// longer than the lease) before it is given up: the next worker to lease it
// does not run its action but fails its node with the error "task abandoned
// after N deliveries", which the node's retry, on_error and catch handle as
// any other failure. A poison task, one whose action takes down every
// worker that runs it, so stops after n workers rather than running through
// the whole fleet forever. Zero or less means DefaultMaxDeliveries. A task
// handed back by a worker shutting down cleanly (Release) starts its count
// again.
func WithMaxDeliveries(n int) Option {
	return func(o *options) {
		if n <= 0 {
			n = DefaultMaxDeliveries
		}
		o.maxDeliveries = min(n, math.MaxInt32)
	}
}

// WithRetention sets how long an ended run's keys are kept.
func WithRetention(d time.Duration) Option { return func(o *options) { o.retention = d } }

// WithClusterAddrs adds Redis Cluster nodes to the one in the URL. A cluster
// is also detected from a single node; more addresses only help when some
// nodes are down at start.
func WithClusterAddrs(addrs ...string) Option {
	return func(o *options) { o.addrs = append(o.addrs, addrs...) }
}

// WithPrefix sets the first part of every key name ("skript" by default),
// so several deployments (or tests) can share one Redis.
func WithPrefix(p string) Option { return func(o *options) { o.prefix = p } }

// WithLogger sets where the driver reports problems it recovers from, such
// as unreadable queue entries (slog.Default() otherwise).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithAllowEviction lets Open go on, with a warning, when the server's
// maxmemory-policy may evict keys (anything but noeviction), which Open
// otherwise refuses: an evicted queue entry, record or token loses or
// corrupts the runs it belongs to. The URL option allow_eviction=true does
// the same.
func WithAllowEviction() Option { return func(o *options) { o.allowEviction = true } }

// WithReadOnly opens the store for reading runs only: Open writes nothing
// (it neither records the partition count nor creates the consumer
// groups) and skips the maxmemory-policy check, so a Redis user allowed
// only read commands (+@read) can use it. Starting, leasing or changing
// runs through such a Store fails.
func WithReadOnly() Option { return func(o *options) { o.readOnly = true } }

// Store is the Redis driver. It is safe for concurrent use.
type Store struct {
	c       rueidis.Client
	cluster bool
	opt     options
	log     *slog.Logger
	parts   []partition

	blueprints sync.Map // hash -> []byte; Blueprints never change
	bpTouched  sync.Map // hash -> time.Time its expiry was last pushed (bpkeep.go)

	// Lease bookkeeping, shared by all the consumers using this Store.
	rr          atomic.Uint32 // rotates the partition a sweep starts at
	lastPromote atomic.Int64  // unix ms
	nextDue     atomic.Int64  // Redis's unix ms of the earliest delayed task known, 0 if none (see due.go)
	skew        atomic.Int64  // Redis's clock minus this Store's, in ms, as the last promote saw it (see clock.go)
	dueMu       sync.Mutex    // serializes the changes of nextDue
	dueWatch    map[*dueWatch]struct{}
	lastReclaim atomic.Int64 // unix ms
	reclaimMu   sync.Mutex
	reclaim     []string // per partition: XAUTOCLAIM cursor, "" when not due
	consumer    atomic.Pointer[string]
	trimmed     []atomic.Int64 // per partition: when its run index was last trimmed, unix ms (index.go)
	idle        idlers         // Leases waiting with nothing to do
	fails       partFails      // when each partition's failure was last logged

	hub  *hub
	bell *bell
}

// partition holds the key names of one partition.
type partition struct {
	prefix  string // "skript:{p7}:"
	q       string
	delayed string
	dead    string
	idx     string // the run index (index.go)
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.RunIndex = (*Store)(nil)
)

// Open connects to Redis at url (redis://[user:pass@]host:port/db, or
// rediss:// for TLS) and prepares the partitions' streams. The URL's query
// may hold ca=FILE (trust only this CA), cert=FILE and key=FILE (a client
// certificate) for rediss://, allow_eviction=true (see WithAllowEviction)
// and rueidis' options (db, addr, dial_timeout, ...); any other is refused.
// Errors that a later try may mend wrap ErrUnreachable; no error holds the
// URL's password.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{partitions: DefaultPartitions, lease: DefaultLease, retention: DefaultRetention, prefix: DefaultPrefix,
		maxDeliveries: DefaultMaxDeliveries, limits: store.JournalLimits{}.Resolved()}
	for _, f := range opts {
		f(&o)
	}
	if o.partitions < 1 {
		return nil, fmt.Errorf("redis store: partitions must be at least 1, not %d", o.partitions)
	}
	if o.lease <= 0 || o.retention <= 0 {
		return nil, errors.New("redis store: lease and retention must be positive")
	}
	if o.prefix == "" || strings.ContainsAny(o.prefix, "{}") {
		// A brace would change the hash tag and so which slot a key is in.
		return nil, fmt.Errorf("redis store: bad key prefix %q", o.prefix)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	copt, uo, err := parseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	o.allowEviction = o.allowEviction || uo.allowEviction
	o.journalOff = o.journalOff || uo.journalOff
	copt.InitAddress = append(copt.InitAddress, o.addrs...)
	// The driver never uses client-side caching; leaving it off saves a
	// CLIENT TRACKING per connection.
	copt.DisableCache = true
	// rueidis' retries stay on: while Redis is unreachable, read-only
	// commands (GetRun, Records, Blueprints) wait for it until their context
	// ends, so a short restart does not fail the reads a transition depends
	// on. Scripts are not retried, so Lease and Complete fail fast, and the
	// worker loop backs off and tries again.
	c, err := rueidis.NewClient(copt)
	if err != nil {
		return nil, markUnreachable(fmt.Errorf("redis store: connect %s: %w", RedactURL(url), redactErr(err, url)))
	}
	s := &Store{c: c, cluster: c.Mode() == rueidis.ClientModeCluster, opt: o, log: o.logger}
	s.parts = make([]partition, o.partitions)
	for i := range s.parts {
		p := fmt.Sprintf("%s:{p%d}:", o.prefix, i)
		s.parts[i] = partition{prefix: p, q: p + "q", delayed: p + "delayed", dead: p + "dead", idx: p + "idx"}
	}
	s.reclaim = make([]string, o.partitions)
	s.trimmed = make([]atomic.Int64, o.partitions)
	s.hub = newHub(s)
	s.bell = newBell(s)
	if err := s.setup(ctx); err != nil {
		c.Close()
		return nil, markUnreachable(redactErr(err, url))
	}
	return s, nil
}

// setup checks the partition count against the deployment's and creates
// the consumer groups.
func (s *Store) setup(ctx context.Context) error {
	meta := s.opt.prefix + ":meta"
	n := strconv.Itoa(s.opt.partitions)
	if s.opt.readOnly {
		return s.checkPartitions(ctx, meta, n, true)
	}
	if err := s.checkEviction(ctx); err != nil {
		return err
	}
	if err := s.c.Do(ctx, s.c.B().Hsetnx().Key(meta).Field("partitions").Value(n).Build()).Error(); err != nil {
		return fmt.Errorf("redis store: %w", err)
	}
	if err := s.checkPartitions(ctx, meta, n, false); err != nil {
		return err
	}
	cmds := make(rueidis.Commands, len(s.parts))
	for i, p := range s.parts {
		cmds[i] = s.c.B().XgroupCreate().Key(p.q).Group(group).Id("0").Mkstream().Build()
	}
	for _, r := range s.c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("redis store: create consumer group: %w", err)
		}
	}
	return nil
}

// checkPartitions compares the deployment's partition count with ours; a
// reader may find none recorded yet (nothing was ever started), which is
// no error.
func (s *Store) checkPartitions(ctx context.Context, meta, n string, missingOK bool) error {
	got, err := s.c.Do(ctx, s.c.B().Hget().Key(meta).Field("partitions").Build()).ToString()
	if missingOK && rueidis.IsRedisNil(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("redis store: %w", err)
	}
	if got != n {
		return fmt.Errorf("redis store: this deployment (%s) has %s partitions, not %d: the number is fixed once chosen, open it with WithPartitions(%s)",
			meta, got, s.opt.partitions, got)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.hub.close()
	s.bell.close()
	s.c.Close()
	return nil
}

// partOf returns the partition of a run.
func (s *Store) partOf(run string) int {
	h := fnv.New32a()
	h.Write([]byte(run))
	return int(h.Sum32() % uint32(len(s.parts)))
}

func (s *Store) runKey(run string) string { return s.parts[s.partOf(run)].prefix + "run:" + run }
func (s *Store) recKey(run string) string { return s.parts[s.partOf(run)].prefix + "rec:" + run }
func (s *Store) endedChannel() string     { return s.opt.prefix + ":ended" }

// PutBlueprint implements store.Store.
func (s *Store) PutBlueprint(ctx context.Context, hash string, data []byte) error {
	key := s.bpKey(hash)
	// NX: a hash names its content, so an existing value is already right;
	// its expiry is pushed later instead (see bpkeep.go).
	err := s.c.Do(ctx, s.c.B().Set().Key(key).Value(rueidis.BinaryString(data)).Nx().Px(s.blueprintTTL()).Build()).Error()
	if rueidis.IsRedisNil(err) {
		err = s.c.Do(ctx, s.c.B().Pexpireat().Key(key).MillisecondsTimestamp(time.Now().Add(s.blueprintTTL()).UnixMilli()).Gt().Build()).Error()
	}
	if err != nil {
		return fmt.Errorf("put blueprint %s: %w", hash, err)
	}
	s.blueprints.Store(hash, append([]byte(nil), data...))
	return nil
}

// GetBlueprint implements store.Store. Blueprints are immutable, so they
// are read from Redis once per process.
func (s *Store) GetBlueprint(ctx context.Context, hash string) ([]byte, error) {
	if v, ok := s.blueprints.Load(hash); ok {
		return v.([]byte), nil
	}
	data, err := s.c.Do(ctx, s.c.B().Get().Key(s.opt.prefix+":bp:"+hash).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, fmt.Errorf("blueprint %s: %w", hash, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get blueprint %s: %w", hash, err)
	}
	s.blueprints.Store(hash, data)
	return data, nil
}
