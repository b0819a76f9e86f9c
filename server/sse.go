package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
)

// EventPage is a page of a run's events as JSON.
type EventPage struct {
	Events []*store.Event `json:"events"`
	// Last is the after of the next page.
	Last int64 `json:"last"`
}

// heartbeat is how often a quiet event stream gets a comment, so proxies
// and browsers keep the connection open.
const heartbeat = 15 * time.Second

// wantsStream reports whether the client asked for Server-Sent Events.
func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// afterOf is where a read of a journal starts: the Last-Event-ID of a
// reconnecting EventSource wins over ?after.
func afterOf(r *http.Request) (int64, error) {
	name, v := "after", r.URL.Query().Get("after")
	if h := r.Header.Get("Last-Event-ID"); h != "" {
		name, v = "Last-Event-ID", h
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("%s %q: want an event's seq, 0 or more", name, v)
	}
	return n, nil
}

func (s *Server) runEvents(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	after, err := afterOf(r)
	if err != nil {
		return err
	}
	if wantsStream(r) {
		return s.stream(w, r, id, func(ctx context.Context, follow bool, fn func(*store.Event) error) error {
			return s.svc.Stream(ctx, id, service.StreamRequest{After: after, Follow: follow}, fn)
		})
	}
	limit, err := intParam(r.URL.Query().Get("limit"), "limit")
	if err != nil {
		return err
	}
	evs, err := s.svc.Events(r.Context(), id, after, limit, 0)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page(evs, after))
}

func (s *Server) runLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	after, err := afterOf(r)
	if err != nil {
		return err
	}
	req := service.LogsRequest{Node: r.URL.Query().Get("node"), After: after}
	if wantsStream(r) {
		return s.stream(w, r, id, func(ctx context.Context, follow bool, fn func(*store.Event) error) error {
			req.Follow = follow
			return s.svc.Logs(ctx, id, req, fn)
		})
	}
	var evs []*store.Event
	if err := s.svc.Logs(r.Context(), id, req, func(ev *store.Event) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page(evs, after))
}

func page(evs []*store.Event, after int64) EventPage {
	p := EventPage{Events: evs, Last: after}
	if p.Events == nil {
		p.Events = []*store.Event{}
	}
	if len(evs) > 0 {
		p.Last = evs[len(evs)-1].Seq
	}
	return p
}

// stream answers with Server-Sent Events: one "event" message per event,
// its seq as the id so that a reconnecting client resumes after it, and
// an "end" message once the run has ended. The run is looked up first,
// so an unknown run is a JSON 404 rather than an empty stream; a run
// already ended is read to its journal's end without waiting (a client
// resuming after the last event gets "end" at once).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, id string, run func(ctx context.Context, follow bool, fn func(*store.Event) error) error) error {
	hdr, err := s.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if s.streams.Err() != nil {
		return &httpError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "the server is shutting down"}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.streams, cancel)()
	rc := http.NewResponseController(w)
	// A stream lasts as long as the run: the server's write timeout,
	// meant for ordinary answers, must not cut it.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var mu sync.Mutex
	write := func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write([]byte(": run " + id + "\n\n")); err != nil {
		return nil
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = write([]byte(": keep-alive\n\n"))
			}
		}
	}()
	var buf bytes.Buffer
	err = run(ctx, !hdr.Status.Done(), func(ev *store.Event) error {
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		buf.Reset()
		fmt.Fprintf(&buf, "id: %d\nevent: event\ndata: %s\n\n", ev.Seq, data)
		return write(buf.Bytes())
	})
	if err != nil {
		if ctx.Err() == nil {
			// Headers are sent: the failure goes in the stream.
			body, _ := json.Marshal(ErrorBody{Code: string(service.CodeOf(err)), Message: "the stream stopped"})
			s.log.Warn("event stream stopped", "run", id, "err", err)
			_ = write(fmt.Appendf(nil, "event: error\ndata: %s\n\n", body))
		}
		return nil
	}
	_ = write([]byte("event: end\ndata: {}\n\n"))
	return nil
}
