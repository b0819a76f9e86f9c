// Package memory is Skript's embedded store driver: everything lives in the
// process, with no setup. Each run has its own lock, so transitions of
// different runs never contend; the queue is taken in batches.
package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/skript-dev/skript/store"
)

// Store is the in-memory driver. The zero value is not usable; call New.
type Store struct {
	blueprints sync.Map // hash -> []byte
	runs       sync.Map // id -> *run
	q          *queue

	subMu sync.Mutex
	subs  map[chan string]struct{}
}

type run struct {
	mu      sync.Mutex
	hdr     store.Run
	tokens  map[string]uint32
	records map[store.RecordKey]*store.Record
	groups  map[string]*group
	ended   bool
	done    chan struct{}
}

type group struct {
	g         *store.Group
	remaining int
	next      int
	slots     []any
	started   time.Time
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{q: newQueue(), subs: map[chan string]struct{}{}}
}

// PutBlueprint implements store.Store.
func (s *Store) PutBlueprint(_ context.Context, hash string, data []byte) error {
	s.blueprints.LoadOrStore(hash, append([]byte(nil), data...))
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
	r := &run{
		hdr:     *hdr,
		tokens:  map[string]uint32{},
		records: map[store.RecordKey]*store.Record{},
		groups:  map[string]*group{},
		done:    make(chan struct{}),
	}
	r.hdr.Status = store.Running
	if r.hdr.Created.IsZero() {
		r.hdr.Created = time.Now()
	}
	if _, loaded := s.runs.LoadOrStore(hdr.ID, r); loaded {
		return fmt.Errorf("run %s already exists", hdr.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.apply(r, first, time.Now())
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
	return s.GetRun(ctx, id)
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
	s.end(r, &store.RunEnd{Status: store.Cancelled, Error: &store.ErrorInfo{Message: reason}}, time.Now())
	return nil
}

// Lease implements store.Store. Tasks of runs that have ended are dropped.
func (s *Store) Lease(ctx context.Context, _ string, max int, wait time.Duration) ([]*store.Task, error) {
	if max <= 0 {
		max = 1
	}
	return s.q.lease(ctx, max, wait, s.live)
}

func (s *Store) live(t *store.Task) bool {
	v, ok := s.runs.Load(t.Run)
	if !ok {
		return false
	}
	r := v.(*run)
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// Complete implements store.Store.
func (s *Store) Complete(_ context.Context, done []store.Completion) ([]bool, error) {
	applied := make([]bool, len(done))
	now := time.Now()
	for i, c := range done {
		if c.Transition == nil {
			continue
		}
		r, err := s.run(c.Task.Run)
		if err != nil {
			continue
		}
		r.mu.Lock()
		if !r.ended {
			if seq, ok := r.tokens[c.Transition.Token]; ok && seq == c.Transition.Seq {
				s.apply(r, c.Transition, now)
				applied[i] = true
			}
		}
		r.mu.Unlock()
	}
	return applied, nil
}

// Extend implements store.Store: in one process a lease never expires.
func (s *Store) Extend(context.Context, []*store.Task) error { return nil }

// Release implements store.Store.
func (s *Store) Release(_ context.Context, tasks []*store.Task) error {
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

// apply runs a transition; the caller holds r.mu and has checked the fence.
func (s *Store) apply(r *run, t *store.Transition, now time.Time) {
	for _, rec := range t.Records {
		if rec.Started.IsZero() {
			if old := r.records[rec.RecordKey]; old != nil && !old.Started.IsZero() {
				cp := *rec
				cp.Started = old.Started
				rec = &cp
			}
		}
		r.records[rec.RecordKey] = rec
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
	}
	var more []*store.Task
	for _, a := range t.Arrivals {
		g := r.groups[a.Group]
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
			r.records[g.g.Result] = &store.Record{RecordKey: g.g.Result, Status: store.Succeeded, Output: g.slots, Started: startedOf(r, g), Finished: now}
			if p := g.g.Parent; p != nil {
				r.tokens[p.Token] = p.Seq
				more = append(more, p)
			}
		}
	}
	if t.End != nil {
		s.end(r, t.End, now)
		return
	}
	s.q.push(now, more...)
}

func startedOf(r *run, g *group) time.Time {
	if old := r.records[g.g.Result]; old != nil && !old.Started.IsZero() {
		return old.Started
	}
	return g.started
}

// end finishes a run; the caller holds r.mu.
func (s *Store) end(r *run, e *store.RunEnd, now time.Time) {
	r.ended = true
	r.hdr.Status = e.Status
	r.hdr.Output = e.Output
	r.hdr.Error = e.Error
	r.hdr.Ended = now
	clear(r.tokens)
	clear(r.groups)
	for k, rec := range r.records {
		if rec.Status == store.Running {
			cp := *rec
			cp.Status = store.Cancelled
			cp.Finished = now
			r.records[k] = &cp
		}
	}
	close(r.done)
	s.subMu.Lock()
	for ch := range s.subs {
		select {
		case ch <- r.hdr.ID:
		default:
		}
	}
	s.subMu.Unlock()
}
