package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// Run is a run's header as the API shows it. The idempotency key is left
// out: it may be a client's secret.
type Run struct {
	ID       string           `json:"run_id"`
	Workflow string           `json:"workflow"`
	Version  string           `json:"version,omitempty"`
	Hash     string           `json:"hash"`
	Status   store.Status     `json:"status"`
	Inputs   any              `json:"inputs,omitempty"`
	Output   any              `json:"output,omitempty"`
	Error    *store.ErrorInfo `json:"error,omitempty"`
	Created  time.Time        `json:"created_at"`
	Ended    *time.Time       `json:"ended_at,omitempty"`
	RetryOf  string           `json:"retry_of,omitempty"`
	Parent   string           `json:"parent,omitempty"`
	Trace    string           `json:"trace,omitempty"`
}

func runOf(r *store.Run) *Run {
	out := &Run{ID: r.ID, Workflow: r.Workflow, Version: r.Version, Hash: r.Hash, Status: r.Status,
		Inputs: value.Export(r.Inputs), Output: value.Export(r.Output), Error: r.Error, Created: r.Created.UTC(),
		RetryOf: r.RetryOf, Parent: r.Parent, Trace: r.Trace}
	if len(r.Inputs) == 0 {
		out.Inputs = nil
	}
	if !r.Ended.IsZero() {
		t := r.Ended.UTC()
		out.Ended = &t
	}
	return out
}

// RunDetail is a run with its nodes.
type RunDetail struct {
	*Run
	Nodes map[string]*runtime.NodeResult `json:"nodes"`
}

// StartRun is the body of a run start.
type StartRun struct {
	Workflow *WorkflowSource `json:"workflow"`
	Inputs   json.RawMessage `json:"inputs,omitempty"`
	Key      string          `json:"idempotency_key,omitempty"`
}

func (s *Server) startRun(w http.ResponseWriter, r *http.Request) error {
	var req StartRun
	if err := decode(r, &req, false); err != nil {
		return err
	}
	key := req.Key
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		if key != "" && key != h {
			return badRequest("idempotency key: the Idempotency-Key header and the body's idempotency_key differ")
		}
		key = h
	}
	if err := s.limitStart(w, r); err != nil {
		return err
	}
	bp, err := s.compileSource(req.Workflow)
	if err != nil {
		return err
	}
	inputs := map[string]any{}
	if len(req.Inputs) > 0 && string(req.Inputs) != "null" {
		if inputs, err = runtime.ParseInputs(req.Inputs); err != nil {
			return badRequest("inputs: want a JSON object: %v", err)
		}
	}
	sub, err := s.svc.Submit(r.Context(), service.SubmitRequest{Blueprint: bp, Inputs: inputs, Key: key})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if sub.Existing {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/api/v1/runs/"+sub.Run.ID)
	return writeJSON(w, status, runOf(sub.Run))
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := service.ListRequest{Workflow: q.Get("workflow"), Cursor: q.Get("cursor")}
	st, err := service.ParseStatus(q.Get("status"))
	if err != nil {
		return err
	}
	req.Status = st
	if v := q.Get("since"); v != "" {
		if req.Since, err = time.ParseDuration(v); err != nil {
			return badRequest("since %q: want a duration such as 90m or 24h", v)
		}
	}
	if v := q.Get("before"); v != "" {
		if req.Before, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return badRequest("before %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", v)
		}
	}
	if req.Limit, err = intParam(q.Get("limit"), "limit"); err != nil {
		return err
	}
	if v := q.Get("counts"); v != "" {
		if req.Counts, err = strconv.ParseBool(v); err != nil {
			return badRequest("counts %q: want true or false", v)
		}
	}
	list, err := s.svc.List(r.Context(), req)
	if err != nil {
		return err
	}
	if list.Runs == nil {
		list.Runs = []*service.RunSummary{}
	}
	return writeJSON(w, http.StatusOK, list)
}

func intParam(v, name string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("%s %q: want a whole number, 0 or more", name, v)
	}
	return n, nil
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	hdr, err := s.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	res, err := s.svc.Result(r.Context(), id)
	if err != nil {
		return err
	}
	for _, n := range res.Nodes {
		n.Output = value.Export(n.Output)
	}
	if res.Nodes == nil {
		res.Nodes = map[string]*runtime.NodeResult{}
	}
	return writeJSON(w, http.StatusOK, RunDetail{Run: runOf(hdr), Nodes: res.Nodes})
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &req, true); err != nil {
		return err
	}
	if req.Reason == "" {
		req.Reason = "cancelled over the API"
	}
	c, err := s.svc.Cancel(r.Context(), r.PathValue("id"), req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"run": runOf(c.Run), "cancelled": c.Cancelled})
}

func (s *Server) retryRun(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		From string `json:"from"`
	}
	if err := decode(r, &req, true); err != nil {
		return err
	}
	if err := s.limitStart(w, r); err != nil {
		return err
	}
	run, err := s.svc.Retry(r.Context(), r.PathValue("id"), req.From)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/runs/"+run.ID)
	return writeJSON(w, http.StatusCreated, runOf(run))
}

func (s *Server) runRecords(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query().Get("at")
	at, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return badRequest("at %q: want an event's seq, 1 or more", v)
	}
	snap, err := s.svc.RecordsAt(r.Context(), r.PathValue("id"), at)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, snap)
}
