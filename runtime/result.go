package runtime

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// Result is a run's state as `skript run --output json` prints it.
type Result struct {
	RunID    string                 `json:"run_id"`
	Workflow string                 `json:"workflow"`
	Version  string                 `json:"version,omitempty"` // the workflow's version:, if it has one
	Status   store.Status           `json:"status"`
	Output   any                    `json:"output"`
	Nodes    map[string]*NodeResult `json:"nodes"`
	Error    *store.ErrorInfo       `json:"error"`
	Created  time.Time              `json:"created_at"`
	Ended    *time.Time             `json:"ended_at,omitempty"`
	// RetryOf is the run this one retries (Engine.Retry).
	RetryOf string `json:"retry_of,omitempty"`
	// Skipped names, sorted, the nodes that did not run in any frame
	// because their If/Switch arm was not taken or their trigger rule did
	// not hold. Nodes keeps to the nodes that ran, as the JSON output's
	// contract says; a node that ran in one iteration and was skipped in
	// another is in Nodes with the values of the last iteration it ran.
	Skipped []string `json:"skipped,omitempty"`
}

// NodeResult is one node's entry in a Result.
type NodeResult struct {
	Status   store.Status     `json:"status"`
	Output   any              `json:"output"`
	Error    *store.ErrorInfo `json:"error,omitempty"`
	Attempts int              `json:"attempts,omitempty"`
	Started  *time.Time       `json:"started_at,omitempty"`
	Finished *time.Time       `json:"finished_at,omitempty"`
	// Reused: a retry kept this outcome from the run it retries, without
	// running the node again.
	Reused bool `json:"reused,omitempty"`
	frame  []int
}

// Result reads a run's current state. A node that ran in several loop
// iterations shows its last iteration's values.
func (e *Engine) Result(ctx context.Context, id string) (*Result, error) {
	hdr, err := e.store.GetRun(ctx, id)
	if err != nil {
		return nil, err
	}
	recs, err := e.store.AllRecords(ctx, id)
	if err != nil {
		return nil, err
	}
	res := &Result{RunID: hdr.ID, Workflow: hdr.Workflow, Version: hdr.Version, Status: hdr.Status, Output: hdr.Output, Error: hdr.Error,
		Created: hdr.Created.UTC(), Nodes: map[string]*NodeResult{}, RetryOf: hdr.RetryOf}
	if !hdr.Ended.IsZero() {
		t := hdr.Ended.UTC()
		res.Ended = &t
	}
	var depth map[string]int
	if p, err := e.programs.get(ctx, e.store, hdr.Hash); err == nil {
		depth = make(map[string]int, len(p.bp.Nodes))
		for i, n := range p.bp.Nodes {
			depth[n.ID] = p.depth[i]
		}
	}
	skipped := map[string]bool{}
	for _, r := range recs {
		if store.InternalKey(r.Key) {
			continue
		}
		idx := frameIndexes(r.Frame)
		if d, ok := depth[r.Key]; ok && d != len(idx) {
			continue
		}
		if r.Status == store.Skipped {
			skipped[r.Key] = true
			continue
		}
		nr := &NodeResult{Status: r.Status, Output: r.Output, Error: r.Error, Attempts: r.Attempts, Reused: r.Reused, frame: idx}
		if !r.Started.IsZero() {
			t := r.Started.UTC()
			nr.Started = &t
		}
		if !r.Finished.IsZero() {
			t := r.Finished.UTC()
			nr.Finished = &t
		}
		if old := res.Nodes[r.Key]; old != nil && !laterFrame(idx, old.frame) {
			continue
		}
		res.Nodes[r.Key] = nr
	}
	for id := range skipped {
		if res.Nodes[id] == nil {
			res.Skipped = append(res.Skipped, id)
		}
	}
	sort.Strings(res.Skipped)
	return res, nil
}

func frameIndexes(frame string) []int {
	if frame == "" {
		return nil
	}
	segs := strings.Split(frame, "/")
	out := make([]int, len(segs))
	for i, s := range segs {
		if o := strings.IndexByte(s, '['); o >= 0 && strings.HasSuffix(s, "]") {
			out[i], _ = strconv.Atoi(s[o+1 : len(s)-1])
		}
	}
	return out
}

func laterFrame(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}

// SortedNodeIDs returns the node ids of a result ordered by start time.
func (r *Result) SortedNodeIDs() []string {
	ids := make([]string, 0, len(r.Nodes))
	for id := range r.Nodes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := r.Nodes[ids[i]], r.Nodes[ids[j]]
		if a.Started != nil && b.Started != nil && !a.Started.Equal(*b.Started) {
			return a.Started.Before(*b.Started)
		}
		return ids[i] < ids[j]
	})
	return ids
}

// MarshalJSON writes the result with its values as plain JSON data
// (value.Export): a duration as "1h30m0s", a time as RFC 3339.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	cp := plain(*r)
	cp.Output = value.Export(r.Output)
	return json.Marshal(&cp)
}

// MarshalJSON writes the node's output as plain JSON data, as Result does.
func (n *NodeResult) MarshalJSON() ([]byte, error) {
	type plain NodeResult
	cp := plain(*n)
	cp.Output = value.Export(n.Output)
	return json.Marshal(&cp)
}
