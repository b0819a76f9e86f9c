package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/api"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/server"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
)

// quiet takes the logs of the runs the tests start.
var quiet = slog.New(slog.DiscardHandler)

var (
	specOnce sync.Once
	spec     validator.Validator
	specErr  error
)

// openAPI is the document's validator, built once per test binary.
func openAPI(t testing.TB) validator.Validator {
	t.Helper()
	specOnce.Do(func() {
		doc, err := libopenapi.NewDocument(api.OpenAPI)
		if err != nil {
			specErr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			specErr = fmt.Errorf("%v", errs)
			return
		}
		spec = v
	})
	require.NoError(t, specErr)
	return spec
}

// testServer is a real server on loopback over a store, with workers.
type testServer struct {
	*httptest.Server
	srv   *server.Server
	svc   *service.Service
	token string
}

type options struct {
	cfg    server.Config
	denied []string
	st     store.Store
}

func startServer(t testing.TB, o options) *testServer {
	t.Helper()
	st := o.st
	if st == nil {
		st = memory.New(memory.WithRoundTrip())
	}
	eng := runtime.New(runtime.WithStore(st), runtime.WithLogger(quiet))
	denied := o.denied
	if denied == nil {
		denied = []string{"shell"}
	}
	svc, err := service.New(service.Config{Engine: eng, Denied: denied})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = eng.Work(ctx, runtime.WorkerOptions{Concurrency: 16, Grace: time.Second}) })
	cfg := o.cfg
	cfg.Service = svc
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	srv := server.New(cfg)
	hs := httptest.NewServer(srv)
	hs.Config.RegisterOnShutdown(srv.CloseStreams)
	t.Cleanup(func() {
		srv.CloseStreams()
		hs.Close()
		cancel()
		wg.Wait()
		_ = svc.Close()
	})
	ts := &testServer{Server: hs, srv: srv, svc: svc}
	if len(cfg.Tokens) > 0 {
		ts.token = cfg.Tokens[0]
	}
	return ts
}

// reply is an answer, its body read.
type reply struct {
	*http.Response
	body []byte
}

func (r *reply) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "%s", r.body)
}

func (r *reply) errBody(t testing.TB) server.ErrorBody {
	t.Helper()
	var e server.ErrorBody
	r.decode(t, &e)
	require.NotEmpty(t, e.Code, "%s", r.body)
	require.NotEmpty(t, e.Message, "%s", r.body)
	return e
}

// do sends a request with the server's token and checks both it and the
// answer against the OpenAPI document: no answer may drift from it.
func (ts *testServer) do(t testing.TB, method, path string, body any, hdr ...string) *reply {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		data, err = json.Marshal(b)
		require.NoError(t, err)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, bytes.NewReader(data))
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ts.token != "" {
		req.Header.Set("Authorization", "Bearer "+ts.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	ts.check(t, req, data, resp, got)
	return &reply{Response: resp, body: got}
}

// check validates an exchange against the document.
func (ts *testServer) check(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	t.Helper()
	// 501 is a server without a feature and 503 one shutting down or
	// without its store: neither is a failure of the server's own.
	require.True(t, resp.StatusCode < 500 || resp.StatusCode == http.StatusNotImplemented || resp.StatusCode == http.StatusServiceUnavailable, "%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	// No route: the document has no path to check it against.
	if resp.StatusCode == http.StatusNotFound && bytes.Contains(body, []byte("no route")) {
		return
	}
	if resp.StatusCode == http.StatusMethodNotAllowed || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return
	}
	v := openAPI(t)
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vresp := *resp
	vresp.Body = io.NopCloser(bytes.NewReader(body))
	ok, errs := v.ValidateHttpResponse(vreq, &vresp)
	if !ok {
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
			for _, se := range e.SchemaValidationErrors {
				msgs = append(msgs, "  "+se.Reason+" at "+se.KeywordLocation)
			}
		}
		t.Fatalf("%s %s -> %d does not match the OpenAPI document:\n%s\nbody: %s", req.Method, req.URL.Path,
			resp.StatusCode, strings.Join(msgs, "\n"), body)
	}
}

// src is a workflow body for the API.
func src(source string) map[string]any { return map[string]any{"file": "flow.yaml", "source": source} }

// start starts a run and returns it.
func (ts *testServer) start(t testing.TB, source string, inputs map[string]any, hdr ...string) server.Run {
	t.Helper()
	r := ts.do(t, http.MethodPost, "/api/v1/runs", map[string]any{"workflow": src(source), "inputs": inputs}, hdr...)
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.StatusCode, "%s", r.body)
	var run server.Run
	r.decode(t, &run)
	return run
}

// wait waits for a run to end and returns it with its nodes.
func (ts *testServer) wait(t testing.TB, id string) server.RunDetail {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := ts.svc.Wait(ctx, id)
	require.NoError(t, err)
	var d server.RunDetail
	ts.do(t, http.MethodGet, "/api/v1/runs/"+id, nil).decode(t, &d)
	return d
}
