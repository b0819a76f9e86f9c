// Package memory is Skript's embedded store driver: everything lives in the
// process, with no setup. Each run has its own lock, so transitions of
// different runs never contend; the queue is taken in batches.
package memory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// Store is the in-memory driver. The zero value is not usable; call New.
type Store struct {
	blueprints sync.Map // hash -> []byte
	runs       sync.Map // id -> *run
	q          *queue
	retention  time.Duration
	roundTrip  bool
	limits     store.JournalLimits

	// idxMu guards the run index (kept runs by creation time) and the
	// idempotency keys of kept runs; it is never taken under a run's mu.
	idxMu sync.RWMutex
	index []entry
	dead  int // blanked entries in index
	keys  map[string]string

	subMu sync.Mutex
	subs  map[chan string]struct{}

	// endedMu guards the ended runs in the order they ended, for retention.
	endedMu sync.Mutex
	ended   []endedRun

	// With a retention, a Blueprint is dropped once no kept run uses it
	// and it has not been stored again for the retention: bpMu guards
	// bpRefs and the hashes that lost their last run, oldest first.
	bpMu   sync.Mutex
	bpRefs map[string]*bpRef
	bpIdle []string

	schedMu sync.Mutex
	sched   schedules
}

type endedRun struct {
	r  *run
	at time.Time
}

// bpRef counts the kept runs of one Blueprint.
type bpRef struct {
	runs int
	// touched is when the Blueprint was last stored or last lost a run:
	// PutBlueprint comes before CreateRun, and a Blueprint just stored
	// for a run about to be created must not be dropped in between.
	touched time.Time
}

// Option configures New.
type Option func(*Store)

// DefaultRetention is how long New keeps ended runs unless WithRetention
// says otherwise: the Redis driver's default, so that a run's result can be
// read back for as long whichever store holds it, while a long-lived
// process (a service embedding Skript) does not keep every run it ever ran.
const DefaultRetention = 7 * 24 * time.Hour

// WithRetention drops runs that ended more than d ago (DefaultRetention
// unless given). Zero keeps them all, for as long as the process lives.
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

// WithRoundTrip passes every value that enters the store through the
// codec a serializing driver uses (value.RoundTrip), so the store keeps
// exactly what Redis or SQL would read back. The conformance suite and the
// runtime's tests turn it on; it costs an encode and a decode per value, so
// it is off by default.
func WithRoundTrip() Option { return func(s *Store) { s.roundTrip = true } }

type run struct {
	mu      sync.Mutex
	hdr     store.Run
	tokens  map[string]uint32
	records map[store.RecordKey]*store.Record
	groups  map[string]*group
	// lastGroup is the group of the last arrival: a fan-out's arrivals
	// come one after the other, and the lookup is then free.
	lastGroup *group
	// running holds every key a running record was written at: the run's
	// end marks those still running cancelled without looking at every
	// record (a wide fan-out writes thousands, none of them running).
	running map[store.RecordKey]struct{}
	ended   bool
	done    chan struct{}
	journal journal
	// state is the run's status, for listings that read it without mu.
	state atomic.Value
	// finishing is set once the run runs its finally nodes: Lease then
	// drops the queued tasks of every other token, without mu.
	finishing atomic.Bool
}

type group struct {
	g         *store.Group
	remaining int
	next      int
	slots     []any
	started   time.Time
}

var _ store.Store = (*Store)(nil)

// Capabilities implements store.Store: everything is in this process.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{Local: true, Finishing: true, Retention: s.retention}
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{q: newQueue(), subs: map[chan string]struct{}{}, retention: DefaultRetention, bpRefs: map[string]*bpRef{},
		limits: store.JournalLimits{}.Resolved(), keys: map[string]string{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Retention returns how long ended runs are kept (0: for ever).
func (s *Store) Retention() time.Duration { return s.retention }

// PutBlueprint implements store.Store.
func (s *Store) PutBlueprint(_ context.Context, hash string, data []byte) error {
	if s.retention > 0 {
		s.bpMu.Lock()
		ref := s.bpRefs[hash]
		if ref == nil {
			ref = &bpRef{}
			s.bpRefs[hash] = ref
		}
		ref.touched = time.Now()
		s.bpMu.Unlock()
	}
	// A hash names its content: once stored, there is nothing to copy.
	if _, ok := s.blueprints.Load(hash); !ok {
		s.blueprints.LoadOrStore(hash, append([]byte(nil), data...))
	}
	return nil
}

// GetBlueprint implements store.Store.
func (s *Store) GetBlueprint(_ context.Context, hash string) ([]byte, error) {
	v, ok := s.blueprints.Load(hash)
	if !ok {
		return nil, fmt.Errorf("blueprint %s: %w", hash, store.ErrNotFound)
	}
	return v.([]byte), nil
}

// CreateRun implements store.Store.
func (s *Store) CreateRun(_ context.Context, hdr *store.Run, first *store.Transition) error {
	s.expire(time.Now())
	if s.roundTrip {
		var err error
		if hdr, first, err = s.roundTripRun(hdr, first); err != nil {
			return err
		}
	}
	var nrec, ntok int
	if first != nil {
		// Each task the run starts with writes at least one record: size the
		// maps for them, so a wide fan-out does not grow them step by step.
		nrec, ntok = len(first.Records)+len(first.Tasks), len(first.Tokens)
	}
	r := &run{
		hdr:     *hdr,
		tokens:  make(map[string]uint32, ntok),
		records: make(map[store.RecordKey]*store.Record, nrec),
		groups:  map[string]*group{},
		done:    make(chan struct{}),
	}
	r.hdr.Status = store.Running
	r.state.Store(store.Running)
	now := time.Now()
	if r.hdr.Created.IsZero() {
		r.hdr.Created = now
	}
	// Locked before anyone can see it, so that its journal opens with its
	// creation.
	r.mu.Lock()
	defer r.mu.Unlock()
	s.idxMu.Lock()
	if k := hdr.Key; k != "" {
		if id, ok := s.keys[k]; ok {
			s.idxMu.Unlock()
			return &store.RunExistsError{Key: k, ID: id}
		}
	}
	if _, loaded := s.runs.LoadOrStore(hdr.ID, r); loaded {
		s.idxMu.Unlock()
		return fmt.Errorf("run %s already exists", hdr.ID)
	}
	if k := hdr.Key; k != "" {
		s.keys[k] = hdr.ID
	}
	s.insert(r)
	s.idxMu.Unlock()
	if s.retention > 0 {
		s.bpMu.Lock()
		ref := s.bpRefs[hdr.Hash]
		if ref == nil {
			ref = &bpRef{touched: time.Now()}
			s.bpRefs[hdr.Hash] = ref
		}
		ref.runs++
		s.bpMu.Unlock()
	}
	s.emitCreated(r, now)
	if first != nil {
		s.apply(r, first, now, "")
	}
	r.notify()
	return nil
}

func (s *Store) run(id string) (*run, error) {
	v, ok := s.runs.Load(id)
	if !ok {
		return nil, fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	return v.(*run), nil
}

// GetRun implements store.Store.
func (s *Store) GetRun(_ context.Context, id string) (*store.Run, error) {
	r, err := s.run(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hdr
	return &h, nil
}

// Records implements store.Store.
func (s *Store) Records(_ context.Context, id string, keys []store.RecordKey) ([]*store.Record, error) {
	r, err := s.run(id)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Record, len(keys))
	r.mu.Lock()
	for i, k := range keys {
		out[i] = r.records[k]
	}
	r.mu.Unlock()
	return out, nil
}

// AllRecords implements store.Store.
func (s *Store) AllRecords(_ context.Context, id string) ([]*store.Record, error) {
	r, err := s.run(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*store.Record, 0, len(r.records))
	for _, rec := range r.records {
		out = append(out, rec)
	}
	return out, nil
}

// WaitRun implements store.Store.
func (s *Store) WaitRun(ctx context.Context, id string) (*store.Run, error) {
	r, err := s.run(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// From r, not by id: with a short retention the run may already be
	// gone from the index.
	r.mu.Lock()
	h := r.hdr
	r.mu.Unlock()
	return &h, nil
}

// expire drops the runs whose retention has passed.
func (s *Store) expire(now time.Time) {
	if s.retention <= 0 {
		return
	}
	s.endedMu.Lock()
	n := 0
	for n < len(s.ended) && now.Sub(s.ended[n].at) > s.retention {
		s.runs.Delete(s.ended[n].r.hdr.ID)
		n++
	}
	var dropped []*run
	if n > 0 {
		for _, e := range s.ended[:n] {
			dropped = append(dropped, e.r)
		}
		k := copy(s.ended, s.ended[n:])
		clear(s.ended[k:])
		s.ended = s.ended[:k]
	}
	s.endedMu.Unlock()
	s.unindex(dropped)
	s.expireBlueprints(dropped, now)
}

// expireBlueprints counts the dropped runs off their Blueprints, then drops
// the Blueprints that have had no run and no PutBlueprint for the retention.
func (s *Store) expireBlueprints(dropped []*run, now time.Time) {
	s.bpMu.Lock()
	defer s.bpMu.Unlock()
	for _, r := range dropped {
		// The hash never changes: read without the run's lock.
		hash := r.hdr.Hash
		if ref := s.bpRefs[hash]; ref != nil && ref.runs > 0 {
			ref.runs--
			if ref.runs == 0 {
				ref.touched = now
				s.bpIdle = append(s.bpIdle, hash)
			}
		}
	}
	// In the order they lost their last run; one stored again since waits
	// at the front for the retention after that, holding back the rest
	// for at most as long.
	for len(s.bpIdle) > 0 {
		h := s.bpIdle[0]
		if ref := s.bpRefs[h]; ref != nil && ref.runs == 0 {
			if now.Sub(ref.touched) <= s.retention {
				return
			}
			delete(s.bpRefs, h)
			s.blueprints.Delete(h)
		}
		s.bpIdle[0] = ""
		s.bpIdle = s.bpIdle[1:]
	}
}

// Cancel implements store.Store.
func (s *Store) Cancel(_ context.Context, id string, reason string) error {
	r, err := s.run(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return nil
	}
	if reason == "" {
		reason = "cancelled"
	}
	s.end(r, &store.RunEnd{Status: store.Cancelled, Error: &store.ErrorInfo{Type: "cancelled", Message: reason}}, store.EventRunCancelled, time.Now())
	r.notify()
	return nil
}

// Lease implements store.Store. Tasks of runs that have ended are dropped.
func (s *Store) Lease(ctx context.Context, consumer string, max int, wait time.Duration) ([]*store.Task, error) {
	if max <= 0 {
		max = 1
	}
	// Tasks taken in a row mostly belong to one run: look it up once.
	var last *run
	return s.q.lease(ctx, max, wait, func(t *store.Task) bool {
		if last == nil || last.hdr.ID != t.Run {
			v, ok := s.runs.Load(t.Run)
			if !ok {
				return false
			}
			last = v.(*run)
		}
		select {
		case <-last.done:
			return false
		default:
			if last.finishing.Load() && !store.InFinally(t.Token) {
				return false
			}
			t.Worker = consumer
			return true
		}
	})
}

// Complete implements store.Store.
func (s *Store) Complete(_ context.Context, done []store.Completion) ([]bool, error) {
	applied := make([]bool, len(done))
	now := time.Now()
	// Completions of one run mostly come in a row (a fan-out's children):
	// the run is looked up and locked once for each such span.
	var r *run
	defer func() {
		if r != nil {
			r.notify()
			r.mu.Unlock()
		}
	}()
	for i, c := range done {
		if c.Transition == nil {
			continue
		}
		if r == nil || r.hdr.ID != c.Task.Run {
			if r != nil {
				r.notify()
				r.mu.Unlock()
				r = nil
			}
			next, err := s.run(c.Task.Run)
			if err != nil {
				continue
			}
			r = next
			r.mu.Lock()
		}
		if !r.ended {
			if seq, ok := r.tokens[c.Transition.Token]; ok && seq == c.Transition.Seq {
				tr := c.Transition
				if s.roundTrip {
					var err error
					if tr, err = roundTripTransition(tr); err != nil {
						return nil, err
					}
				}
				s.apply(r, tr, now, c.Task.Worker)
				applied[i] = true
			}
		}
	}
	return applied, nil
}

// StartStep implements store.Store.
func (s *Store) StartStep(_ context.Context, task *store.Task, recs []*store.Record) (bool, error) {
	v, ok := s.runs.Load(task.Run)
	if !ok {
		return false, nil
	}
	r := v.(*run)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return false, nil
	}
	if seq, ok := r.tokens[task.Token]; !ok || seq != task.Seq {
		return false, nil
	}
	now := time.Now()
	defer r.notify()
	for _, rec := range recs {
		// A copy: the caller may hand the same records to its transition.
		cp := *rec
		if s.roundTrip {
			var err error
			if cp.Output, err = value.RoundTrip(cp.Output); err != nil {
				return false, fmt.Errorf("record %s/%s: %w", cp.Frame, cp.Key, err)
			}
		}
		s.emitRecord(r, r.write(&cp), task.Worker, now)
	}
	return true, nil
}

// Extend implements store.Store: in one process a lease never expires.
func (s *Store) Extend(context.Context, []*store.Task) error { return nil }

// Release implements store.Store.
func (s *Store) Release(_ context.Context, tasks []*store.Task) error {
	// Handed back, a task is ready again from now on.
	for _, t := range tasks {
		t.Enqueued = time.Time{}
	}
	s.q.push(time.Now(), tasks...)
	return nil
}

// Ended implements store.Store.
func (s *Store) Ended(ctx context.Context) <-chan string {
	ch := make(chan string, 1024)
	s.subMu.Lock()
	s.subs[ch] = struct{}{}
	s.subMu.Unlock()
	go func() {
		<-ctx.Done()
		s.subMu.Lock()
		delete(s.subs, ch)
		close(ch)
		s.subMu.Unlock()
	}()
	return ch
}

// Close implements store.Store.
func (s *Store) Close() error { return nil }

// apply runs a transition of a task leased by worker, journaling it; the
// caller holds r.mu, has checked the fence, and calls r.notify.
func (s *Store) apply(r *run, t *store.Transition, now time.Time, worker string) {
	s.emitEvents(r, t.Events, worker, now)
	for _, rec := range t.Records {
		s.emitRecord(r, r.write(rec), worker, now)
	}
	for _, ts := range t.Tokens {
		r.tokens[ts.ID] = ts.Seq
	}
	for _, id := range t.Drop {
		delete(r.tokens, id)
	}
	if t.End == nil {
		s.q.push(now, t.Tasks...)
	}
	for _, g := range t.Groups {
		r.groups[g.ID] = &group{g: g, remaining: g.Total, next: g.Started, slots: make([]any, g.Total), started: now}
		r.lastGroup = nil // a group id is reused once its group is done
	}
	var more []*store.Task
	for _, a := range t.Arrivals {
		g := r.lastGroup
		if g == nil || g.g.ID != a.Group {
			g = r.groups[a.Group]
			r.lastGroup = g
		}
		if g == nil || a.Slot < 0 || int(a.Slot) >= len(g.slots) {
			continue
		}
		g.slots[a.Slot] = a.Value
		g.remaining--
		if g.next < g.g.Total {
			more = append(more, store.ChildTask(r.hdr.ID, r.hdr.Hash, g.g, g.next))
			r.tokens[more[len(more)-1].Token] = 0
			g.next++
		}
		if g.remaining == 0 {
			delete(r.groups, a.Group)
			r.lastGroup = nil
			res := &store.Record{RecordKey: g.g.Result, Status: store.Succeeded, Output: g.slots, Started: startedOf(r, g), Finished: now}
			r.records[g.g.Result] = res
			s.emitRecord(r, res, worker, now)
			if p := g.g.Parent; p != nil {
				r.tokens[p.Token] = p.Seq
				more = append(more, p)
			}
		}
	}
	if t.End != nil {
		s.end(r, t.End, store.EventRunEnded, now)
		return
	}
	for _, tok := range t.Stop {
		s.announce(store.StopNotice(r.hdr.ID, tok))
	}
	s.q.push(now, more...)
}

// write stores a record, keeping the stored Started when rec has none,
// and returns it as stored; the caller holds r.mu.
func (r *run) write(rec *store.Record) *store.Record {
	if rec.Started.IsZero() {
		if old := r.records[rec.RecordKey]; old != nil && !old.Started.IsZero() {
			cp := *rec
			cp.Started = old.Started
			rec = &cp
		}
	}
	r.records[rec.RecordKey] = rec
	if rec.Status == store.Running {
		if r.running == nil {
			r.running = map[store.RecordKey]struct{}{}
		}
		r.running[rec.RecordKey] = struct{}{}
	}
	return rec
}

func startedOf(r *run, g *group) time.Time {
	if old := r.records[g.g.Result]; old != nil && !old.Started.IsZero() {
		return old.Started
	}
	return g.started
}

// end finishes a run, journaling it as typ; the caller holds r.mu and
// calls r.notify.
func (s *Store) end(r *run, e *store.RunEnd, typ store.EventType, now time.Time) {
	if r.hdr.Finally != nil && r.hdr.Finishing == nil {
		s.finish(r, e, now)
		return
	}
	r.ended = true
	r.hdr.Status = e.Status
	r.state.Store(e.Status)
	r.hdr.Output = e.Output
	r.hdr.Error = e.Error
	r.hdr.Ended = now
	// Dropped, not cleared: clear keeps a map's memory, and an ended run is
	// kept for its retention with nothing more to fence.
	r.tokens, r.groups, r.lastGroup = nil, nil, nil
	s.emitEnd(r, r.cancelRunning(now), e, typ, now)
	close(r.done)
	if s.retention > 0 {
		s.endedMu.Lock()
		s.ended = append(s.ended, endedRun{r: r, at: now})
		s.endedMu.Unlock()
	}
	s.announce(r.hdr.ID)
}

// finish starts a run's finally nodes at its first end e (see
// store.Transition): its other work stops as at an end, and the Finally
// task is queued; the caller holds r.mu.
func (s *Store) finish(r *run, e *store.RunEnd, now time.Time) {
	end := *e
	r.hdr.Finishing = &end
	r.finishing.Store(true)
	r.tokens = map[string]uint32{store.FinallyToken: r.hdr.Finally.Seq}
	r.groups, r.lastGroup = map[string]*group{}, nil
	s.emitEnd(r, r.cancelRunning(now), e, store.EventRunFinishing, now)
	t := *r.hdr.Finally
	t.Enqueued = time.Time{}
	s.q.push(now, &t)
	s.announce(store.FinishingNotice(r.hdr.ID))
}

// cancelRunning marks the run's running records cancelled and returns
// them; the caller holds r.mu.
func (r *run) cancelRunning(now time.Time) []*store.Record {
	var cancelled []*store.Record
	for k := range r.running {
		if rec := r.records[k]; rec != nil && rec.Status == store.Running {
			cp := *rec
			cp.Status = store.Cancelled
			cp.Finished = now
			r.records[k] = &cp
			cancelled = append(cancelled, &cp)
		}
	}
	r.running = nil
	return cancelled
}

// announce hands a notice to the Ended feed's subscribers.
func (s *Store) announce(notice string) {
	s.subMu.Lock()
	for ch := range s.subs {
		select {
		case ch <- notice:
		default:
		}
	}
	s.subMu.Unlock()
}

// roundTripRun is CreateRun's arguments as a serializing driver reads them
// back (WithRoundTrip).
func (s *Store) roundTripRun(hdr *store.Run, first *store.Transition) (*store.Run, *store.Transition, error) {
	h := *hdr
	if h.Inputs != nil {
		in, err := value.RoundTrip(h.Inputs)
		if err != nil {
			return nil, nil, fmt.Errorf("run inputs: %w", err)
		}
		h.Inputs = in.(map[string]any)
	}
	if first == nil {
		return &h, nil, nil
	}
	tr, err := roundTripTransition(first)
	return &h, tr, err
}

// roundTripTransition copies the parts of t that hold values, each value
// encoded and decoded again; the caller's records and arrivals are left as
// they were.
func roundTripTransition(t *store.Transition) (*store.Transition, error) {
	cp := *t
	cp.Records = make([]*store.Record, len(t.Records))
	for i, rec := range t.Records {
		r := *rec
		var err error
		if r.Output, err = value.RoundTrip(r.Output); err != nil {
			return nil, fmt.Errorf("record %s/%s: %w", r.Frame, r.Key, err)
		}
		cp.Records[i] = &r
	}
	cp.Arrivals = make([]*store.Arrival, len(t.Arrivals))
	for i, a := range t.Arrivals {
		b := *a
		var err error
		if b.Value, err = value.RoundTrip(b.Value); err != nil {
			return nil, fmt.Errorf("arrival %s[%d]: %w", b.Group, b.Slot, err)
		}
		cp.Arrivals[i] = &b
	}
	if len(t.Events) > 0 {
		cp.Events = make([]*store.Event, len(t.Events))
		for i, ev := range t.Events {
			e := *ev
			if e.Record != nil {
				rec := *e.Record
				var err error
				if rec.Output, err = value.RoundTrip(rec.Output); err != nil {
					return nil, fmt.Errorf("event %s: %w", e.Type, err)
				}
				e.Record = &rec
			}
			cp.Events[i] = &e
		}
	}
	if t.End != nil {
		e := *t.End
		var err error
		if e.Output, err = value.RoundTrip(e.Output); err != nil {
			return nil, fmt.Errorf("run output: %w", err)
		}
		cp.End = &e
	}
	return &cp, nil
}
