package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skript-dev/skript/store"
)

var _ store.RunIndex = (*Store)(nil)

// defaultRunsPage is how many runs ListRuns returns when limit is 0.
const defaultRunsPage = 100

// entry is one kept run in the index, with what a listing filters on
// copied beside it so a scan reads one contiguous slice.
type entry struct {
	created  int64 // UnixNano
	id       string
	workflow string
	r        *run // nil once the run is dropped
}

func compareEntry(e entry, created int64, id string) int {
	if c := cmp.Compare(e.created, created); c != 0 {
		return c
	}
	return cmp.Compare(e.id, id)
}

// insert adds a run to the index, kept sorted by creation time and id;
// the caller holds s.idxMu. Runs mostly come in the order they were
// created, so this is an append.
func (s *Store) insert(r *run) {
	e := entry{created: r.hdr.Created.UnixNano(), id: r.hdr.ID, workflow: r.hdr.Workflow, r: r}
	n := len(s.index)
	if n == 0 || compareEntry(s.index[n-1], e.created, e.id) < 0 {
		s.index = append(s.index, e)
		return
	}
	i, _ := slices.BinarySearchFunc(s.index, e, func(a, b entry) int { return compareEntry(a, b.created, b.id) })
	s.index = slices.Insert(s.index, i, e)
}

// unindex drops expired runs from the index and frees their idempotency
// keys. Entries are blanked, and the index compacted once they are half
// of it, so expiring runs one by one does not move the whole index each
// time.
func (s *Store) unindex(dropped []*run) {
	if len(dropped) == 0 {
		return
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	for _, r := range dropped {
		if k := r.hdr.Key; k != "" && s.keys[k] == r.hdr.ID {
			delete(s.keys, k)
		}
		created := r.hdr.Created.UnixNano()
		i, found := slices.BinarySearchFunc(s.index, r, func(e entry, r *run) int { return compareEntry(e, created, r.hdr.ID) })
		if found && s.index[i].r == r {
			s.index[i] = entry{created: created, id: r.hdr.ID}
			s.dead++
		}
	}
	if s.dead > 64 && s.dead*2 > len(s.index) {
		s.index = slices.DeleteFunc(s.index, func(e entry) bool { return e.r == nil })
		s.dead = 0
	}
}

// span returns the part of the index f's creation bounds and the cursor
// leave; the caller holds s.idxMu.
func (s *Store) span(f store.RunFilter, cursor string) (lo, hi int, err error) {
	hi = len(s.index)
	if !f.CreatedAfter.IsZero() {
		after := f.CreatedAfter.UnixNano()
		lo, _ = slices.BinarySearchFunc(s.index, after, func(e entry, t int64) int {
			if e.created <= t {
				return -1
			}
			return 1
		})
	}
	if !f.CreatedBefore.IsZero() {
		before := f.CreatedBefore.UnixNano()
		hi, _ = slices.BinarySearchFunc(s.index[:hi], before, func(e entry, t int64) int { return cmp.Compare(e.created, t) })
	}
	if cursor != "" {
		created, id, err := parseCursor(cursor)
		if err != nil {
			return 0, 0, err
		}
		c, _ := slices.BinarySearchFunc(s.index[:hi], id, func(e entry, id string) int { return compareEntry(e, created, id) })
		hi = c
	}
	return lo, max(hi, lo), nil
}

func matches(e *entry, f *store.RunFilter) bool {
	if e.r == nil || (f.Workflow != "" && e.workflow != f.Workflow) {
		return false
	}
	return f.Status == "" || e.r.status() == f.Status
}

// ListRuns implements store.RunIndex: a scan of the index, newest first,
// from the cursor's place. The headers leave Inputs and Output out, as
// every driver's may.
func (s *Store) ListRuns(_ context.Context, f store.RunFilter, cursor string, limit int) (*store.RunPage, error) {
	s.expire(time.Now())
	if limit <= 0 {
		limit = defaultRunsPage
	}
	var found []*run
	s.idxMu.RLock()
	lo, hi, err := s.span(f, cursor)
	if err != nil {
		s.idxMu.RUnlock()
		return nil, err
	}
	for i := hi - 1; i >= lo && len(found) <= limit; i-- {
		if e := &s.index[i]; matches(e, &f) {
			found = append(found, e.r)
		}
	}
	s.idxMu.RUnlock()
	page := &store.RunPage{Runs: make([]*store.Run, 0, min(len(found), limit))}
	for _, r := range found[:min(len(found), limit)] {
		r.mu.Lock()
		h := r.hdr
		r.mu.Unlock()
		h.Inputs, h.Output = nil, nil
		page.Runs = append(page.Runs, &h)
	}
	if len(found) > limit {
		last := page.Runs[limit-1]
		page.Next = strconv.FormatInt(last.Created.UnixNano(), 10) + "/" + last.ID
	}
	return page, nil
}

// CountRuns implements store.RunIndex.
func (s *Store) CountRuns(_ context.Context, f store.RunFilter) (map[store.Status]int, error) {
	s.expire(time.Now())
	f.Status = ""
	counts := map[store.Status]int{}
	s.idxMu.RLock()
	defer s.idxMu.RUnlock()
	lo, hi, err := s.span(f, "")
	if err != nil {
		return nil, err
	}
	for i := lo; i < hi; i++ {
		if e := &s.index[i]; matches(e, &f) {
			counts[e.r.status()]++
		}
	}
	return counts, nil
}

var errCursor = errors.New("not a cursor of this store's ListRuns")

func parseCursor(c string) (int64, string, error) {
	n, id, ok := strings.Cut(c, "/")
	if !ok {
		return 0, "", errCursor
	}
	created, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, "", errCursor
	}
	return created, id, nil
}

// status is the run's status, read without its lock (a listing reads
// thousands).
func (r *run) status() store.Status {
	if s, ok := r.state.Load().(store.Status); ok {
		return s
	}
	return store.Running
}
