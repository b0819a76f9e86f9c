// Package server is Skript's HTTP API: handlers per resource over the
// service layer, described by the OpenAPI 3.1 document of package api.
// `skript serve` runs it; its tests run it on loopback against that
// document, on the memory store and on Redis.
package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/skript-dev/skript/api"
	"github.com/skript-dev/skript/schedule"
	"github.com/skript-dev/skript/service"
)

// Defaults of the limits of Config.
const (
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxWorkflowBytes = 256 << 10
	DefaultStartRate        = 20
	DefaultStartBurst       = 100
)

// Config is what a Server serves.
type Config struct {
	// Service answers the requests. Its Denied actions apply to the
	// workflows clients send (the operator's `--allow-action` lifts
	// them); its engine runs whatever the store holds.
	Service *service.Service
	// Tokens are the bearer tokens a request may carry; empty means no
	// authentication, which the caller allows on loopback only.
	Tokens []string
	// MaxBodyBytes bounds a request's body (0: DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxWorkflowBytes bounds a workflow's source (0:
	// DefaultMaxWorkflowBytes).
	MaxWorkflowBytes int
	// StartRate is how many runs per second one token (or one client
	// address without tokens) may start, retries and schedule additions
	// included, with bursts of StartBurst (0: the defaults; negative: no
	// limit).
	StartRate  float64
	StartBurst int
	// Schedules manages schedules (nil: the schedule routes answer
	// unsupported).
	Schedules *schedule.Manager
	// UI, when set, answers every path that is no API route (the web UI).
	UI http.Handler
	// Logger receives the server's failures (slog.Default() when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil), for tests of the rate limit.
	Now func() time.Time
}

// Server is an http.Handler serving the API.
type Server struct {
	cfg     Config
	svc     *service.Service
	mux     *http.ServeMux
	routes  []Route
	auth    *authenticator
	limiter *limiter
	log     *slog.Logger
	cache   compileCache

	// streams is cancelled by CloseStreams, ending every event stream.
	streams     context.Context
	stopStreams context.CancelFunc
}

// Route is one method and path pattern the server answers (in the
// syntax of net/http.ServeMux and OpenAPI paths alike: /api/v1/runs/{id}).
type Route struct {
	Method string
	Path   string
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxWorkflowBytes <= 0 {
		cfg.MaxWorkflowBytes = DefaultMaxWorkflowBytes
	}
	if cfg.StartRate == 0 {
		cfg.StartRate = DefaultStartRate
	}
	if cfg.StartBurst <= 0 {
		cfg.StartBurst = DefaultStartBurst
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, svc: cfg.Service, mux: http.NewServeMux(), log: cfg.Logger,
		auth: newAuthenticator(cfg.Tokens), limiter: newLimiter(cfg.StartRate, cfg.StartBurst, cfg.Now)}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	s.register()
	return s
}

// CloseStreams ends every event stream being served and refuses new
// ones, for a graceful shutdown (http.Server.RegisterOnShutdown): a
// stream otherwise lasts as long as its run.
func (s *Server) CloseStreams() { s.stopStreams() }

// Routes returns every route the server answers.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// register builds the mux: one handler per path that dispatches on the
// method, so a wrong method gets a JSON 405 with Allow like every other
// error.
func (s *Server) register() {
	type entry struct {
		methods map[string]handlerFunc
		public  bool
	}
	paths := map[string]*entry{}
	var order []string
	add := func(method, path string, public bool, h handlerFunc) {
		e := paths[path]
		if e == nil {
			e = &entry{methods: map[string]handlerFunc{}, public: public}
			paths[path] = e
			order = append(order, path)
		}
		e.methods[method] = h
		s.routes = append(s.routes, Route{Method: method, Path: path})
	}
	add(http.MethodGet, "/healthz", true, s.healthz)
	add(http.MethodGet, "/readyz", true, s.readyz)
	add(http.MethodGet, "/api/openapi.json", true, s.openapi)
	add(http.MethodGet, "/api/v1/schema", false, s.schema)
	add(http.MethodGet, "/api/v1/actions", false, s.listActions)
	add(http.MethodGet, "/api/v1/actions/{name}", false, s.getAction)
	add(http.MethodPost, "/api/v1/validate", false, s.validate)
	add(http.MethodPost, "/api/v1/compile", false, s.compile)
	add(http.MethodGet, "/api/v1/runs", false, s.listRuns)
	add(http.MethodPost, "/api/v1/runs", false, s.startRun)
	add(http.MethodGet, "/api/v1/runs/{id}", false, s.getRun)
	add(http.MethodPost, "/api/v1/runs/{id}/cancel", false, s.cancelRun)
	add(http.MethodPost, "/api/v1/runs/{id}/retry", false, s.retryRun)
	add(http.MethodGet, "/api/v1/runs/{id}/events", false, s.runEvents)
	add(http.MethodGet, "/api/v1/runs/{id}/logs", false, s.runLogs)
	add(http.MethodGet, "/api/v1/runs/{id}/records", false, s.runRecords)
	add(http.MethodGet, "/api/v1/schedules", false, s.listSchedules)
	add(http.MethodPost, "/api/v1/schedules", false, s.addSchedule)
	add(http.MethodGet, "/api/v1/schedules/{name}", false, s.getSchedule)
	add(http.MethodDelete, "/api/v1/schedules/{name}", false, s.deleteSchedule)
	add(http.MethodPost, "/api/v1/schedules/{name}/pause", false, s.pauseSchedule)
	add(http.MethodPost, "/api/v1/schedules/{name}/resume", false, s.resumeSchedule)

	for _, path := range order {
		e := paths[path]
		allow := make([]string, 0, len(e.methods))
		for m := range e.methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		allowed := strings.Join(allow, ", ")
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			h, ok := e.methods[r.Method]
			if !ok && r.Method == http.MethodHead {
				h, ok = e.methods[http.MethodGet]
			}
			if !ok {
				w.Header().Set("Allow", allowed)
				s.fail(w, r, &httpError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
					msg: r.Method + " " + path + ": want " + allowed})
				return
			}
			s.serve(w, r, e.public, h)
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.UI != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
			s.cfg.UI.ServeHTTP(w, r)
			return
		}
		s.fail(w, r, &httpError{status: http.StatusNotFound, code: string(service.NotFound), msg: "no route " + r.URL.Path})
	})
}

// serve runs one handler behind authentication and the body limit.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, public bool, h handlerFunc) {
	if !public {
		who, err := s.auth.check(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="skript"`)
			s.fail(w, r, err)
			return
		}
		r = r.WithContext(withClient(r.Context(), who))
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := h(w, r); err != nil {
		s.fail(w, r, err)
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyTimeout bounds the store's answer to a readiness probe.
const readyTimeout = 2 * time.Second

// readyz asks the store for one run: a store that cannot answer makes
// the server unready, so a load balancer sends requests elsewhere.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Store() == nil {
		return writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "store": "none"})
	}
	// A probe wants an answer soon: a store that takes longer is not ready.
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if _, err := s.svc.List(ctx, service.ListRequest{Limit: 1}); err != nil && service.CodeOf(err) != service.Unsupported {
		s.log.Warn("readyz: the store does not answer", "err", err)
		return &httpError{status: http.StatusServiceUnavailable, code: "unavailable", msg: "the store does not answer"}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(api.OpenAPI)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(data, '\n'))
	return err
}
