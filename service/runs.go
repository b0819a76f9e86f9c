package service

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// SubmitRequest starts a run.
type SubmitRequest struct {
	Blueprint *blueprint.Blueprint
	Inputs    map[string]any
	// Key is an optional idempotency key: while a run submitted with it
	// is kept, submitting again with the same key and workflow returns
	// that run instead of starting another (a client retrying after a
	// lost answer starts the work once).
	Key string
}

// MaxKeyBytes bounds an idempotency key, which the store keeps with the run.
const MaxKeyBytes = 256

// Submitted is a submitted run.
type Submitted struct {
	Run *store.Run
	// Existing: the key was held by this earlier run, and nothing new
	// was started.
	Existing bool
}

// Submit starts a run of a Blueprint. Inputs the workflow refuses are
// Invalid. With a Key an earlier kept run holds, it returns that run
// (Existing) when it runs the same Blueprint, and Conflict otherwise:
// a key is one piece of work, not any work.
func (s *Service) Submit(ctx context.Context, req SubmitRequest) (*Submitted, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	if req.Blueprint == nil {
		return nil, errorf(Invalid, nil, "submit: no workflow")
	}
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	run, err := s.rt.StartWith(ctx, req.Blueprint, req.Inputs, runtime.StartOptions{Key: req.Key})
	var exists *store.RunExistsError
	switch {
	case err == nil:
		hdr, err := s.st.GetRun(ctx, run.ID)
		if err != nil {
			return nil, runErr(run.ID, err)
		}
		return &Submitted{Run: hdr}, nil
	case errors.As(err, &exists):
		hdr, gerr := s.st.GetRun(ctx, exists.ID)
		if gerr != nil {
			// Expired between the two calls: the key is free again.
			return nil, runErr(exists.ID, gerr)
		}
		if hdr.Hash != req.Blueprint.Hash {
			return nil, errorf(Conflict, err, "the idempotency key is held by run %s of another workflow (%s)", hdr.ID, hdr.Workflow)
		}
		return &Submitted{Run: hdr, Existing: true}, nil
	}
	var ie *runtime.InputError
	if errors.As(err, &ie) {
		return nil, &Error{Code: Invalid, Message: err.Error(), Err: err}
	}
	if errors.Is(err, runtime.ErrNoFinishing) {
		return nil, &Error{Code: Unsupported, Message: err.Error(), Err: err}
	}
	return nil, errorf(Internal, err, "start run: %v", err)
}

// checkKey refuses keys a store or a terminal should not hold.
func checkKey(key string) error {
	if len(key) > MaxKeyBytes {
		return errorf(Invalid, nil, "idempotency key: %d bytes, over the limit of %d", len(key), MaxKeyBytes)
	}
	if strings.IndexFunc(key, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }) >= 0 {
		return errorf(Invalid, nil, "idempotency key: want printable characters only")
	}
	return nil
}

// Get returns a run's header (its links, key and trace included).
func (s *Service) Get(ctx context.Context, id string) (*store.Run, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	hdr, err := s.st.GetRun(ctx, id)
	return hdr, runErr(id, err)
}

// Result returns a run's state with its nodes, as `skript status
// --output json` prints it.
func (s *Service) Result(ctx context.Context, id string) (*runtime.Result, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	res, err := s.rt.Result(ctx, id)
	return res, runErr(id, err)
}

// Wait blocks until a run ends (or ctx is done) and returns its result.
func (s *Service) Wait(ctx context.Context, id string) (*runtime.Result, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	if _, err := s.st.WaitRun(ctx, id); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, runErr(id, err)
	}
	return s.Result(ctx, id)
}

// Cancelled is the answer to Cancel.
type Cancelled struct {
	// Run is the run after the cancel.
	Run *store.Run
	// Cancelled: this call ended the run. False when it had already
	// ended (how, Run.Status says).
	Cancelled bool
}

// Cancel ends a running run as cancelled, with reason as its error;
// the actions running for it, in any worker, see their context
// cancelled. An ended run is left as it is.
func (s *Service) Cancel(ctx context.Context, id, reason string) (*Cancelled, error) {
	if err := s.needStore(); err != nil {
		return nil, err
	}
	before, err := s.st.GetRun(ctx, id)
	if err != nil {
		return nil, runErr(id, err)
	}
	if !before.Status.Done() {
		if err := s.rt.Cancel(ctx, id, reason); err != nil {
			return nil, runErr(id, err)
		}
	}
	// Read again: the run may have ended on its own just before the
	// cancel, which then changed nothing.
	after, err := s.st.GetRun(ctx, id)
	if err != nil {
		return nil, runErr(id, err)
	}
	return &Cancelled{Run: after, Cancelled: !before.Status.Done() && after.Status == store.Cancelled}, nil
}

// ListRequest selects runs.
type ListRequest struct {
	Workflow string
	// Status is "" for every status, else one of the five.
	Status store.Status
	// Since keeps runs created less than Since ago (0: any).
	Since time.Duration
	// Before keeps runs created before it (zero: any).
	Before time.Time
	// Cursor is a page's Next ("" for the first page).
	Cursor string
	// Limit is the most runs returned (0: DefaultLimit; at most MaxLimit).
	Limit int
	// Counts asks for the number of matching runs by status.
	Counts bool
}

// Bounds of ListRequest.Limit.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// RunList is a page of runs, newest first.
type RunList struct {
	Runs []*RunSummary `json:"runs"`
	// Next is the cursor of the next page, "" after the last one.
	Next string `json:"next,omitempty"`
	// Counts by status of every run the filter matches (not only this
	// page's; its Status ignored), when asked for; a status no run has
	// is left out.
	Counts map[store.Status]int `json:"counts,omitempty"`
}

// RunSummary is one line of a run list.
type RunSummary struct {
	ID       string       `json:"run_id"`
	Workflow string       `json:"workflow"`
	Version  string       `json:"version,omitempty"`
	Status   store.Status `json:"status"`
	Created  time.Time    `json:"created_at"`
	Ended    *time.Time   `json:"ended_at,omitempty"`
	// Duration is the run's, for an ended run, in seconds.
	Duration *float64 `json:"duration_seconds,omitempty"`
	// FailedNode is the node whose error ended a failed run.
	FailedNode string `json:"failed_node,omitempty"`
	RetryOf    string `json:"retry_of,omitempty"`
	Parent     string `json:"parent,omitempty"`
}

// Summarize makes a run's list line from its header.
func Summarize(r *store.Run) *RunSummary {
	sum := &RunSummary{ID: r.ID, Workflow: r.Workflow, Version: r.Version, Status: r.Status, Created: r.Created.UTC(),
		RetryOf: r.RetryOf, Parent: r.Parent}
	if !r.Ended.IsZero() {
		t := r.Ended.UTC()
		sum.Ended = &t
		d := r.Ended.Sub(r.Created).Seconds()
		sum.Duration = &d
	}
	if r.Status == store.Failed && r.Error != nil {
		sum.FailedNode = r.Error.Node
	}
	return sum
}

var statuses = []store.Status{store.Pending, store.Running, store.Succeeded, store.Failed, store.Cancelled}

// ParseStatus checks a status named by a client ("" for any).
func ParseStatus(s string) (store.Status, error) {
	if s == "" {
		return "", nil
	}
	for _, st := range statuses {
		if string(st) == strings.ToLower(s) {
			return st, nil
		}
	}
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	return "", errorf(Invalid, nil, "status %q: want one of %s", s, strings.Join(names, ", "))
}

// List returns a page of the store's kept runs, newest first.
func (s *Service) List(ctx context.Context, req ListRequest) (*RunList, error) {
	ix, err := s.index()
	if err != nil {
		return nil, err
	}
	if _, err := ParseStatus(string(req.Status)); err != nil {
		return nil, err
	}
	switch {
	case req.Limit < 0 || req.Limit > MaxLimit:
		return nil, errorf(Invalid, nil, "limit %d: want 1 to %d", req.Limit, MaxLimit)
	case req.Limit == 0:
		req.Limit = DefaultLimit
	}
	if req.Since < 0 {
		return nil, errorf(Invalid, nil, "since %s: want a positive duration", req.Since)
	}
	f := store.RunFilter{Workflow: req.Workflow, Status: req.Status, CreatedBefore: req.Before}
	if req.Since > 0 {
		f.CreatedAfter = time.Now().Add(-req.Since)
	}
	page, err := ix.ListRuns(ctx, f, req.Cursor, req.Limit)
	if err != nil {
		if req.Cursor != "" {
			// The drivers' cursor errors are not typed: the same list
			// without the cursor tells a bad cursor from a store that
			// cannot answer.
			if _, err2 := ix.ListRuns(ctx, f, "", 1); err2 == nil {
				return nil, errorf(Invalid, err, "cursor %q: not a cursor of this store's run list", req.Cursor)
			}
		}
		return nil, errorf(Internal, err, "list runs: %v", err)
	}
	out := &RunList{Runs: make([]*RunSummary, len(page.Runs)), Next: page.Next}
	for i, r := range page.Runs {
		out.Runs[i] = Summarize(r)
	}
	if req.Counts {
		counts, err := ix.CountRuns(ctx, f)
		if err != nil {
			return nil, errorf(Internal, err, "count runs: %v", err)
		}
		// One shape whatever the driver: only the statuses some run has.
		out.Counts = map[store.Status]int{}
		for st, n := range counts {
			if n > 0 {
				out.Counts[st] = n
			}
		}
	}
	return out, nil
}
