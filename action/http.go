package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/skript-dev/skript/value"
)

// traceContext writes the traceparent (and tracestate) header of a traced
// step's span; without a span it writes nothing.
var traceContext propagation.TraceContext

// UserAgent is sent by the http actions unless a workflow sets its own
// User-Agent header, so the operators of a called service can tell which
// program is calling them.
const UserAgent = "skript/0.1.0"

const (
	defaultHTTPTimeout = 30 * time.Second
	defaultMaxBody     = 10 << 20 // 10 MiB
	// errorBodySnippet is how much of a failing response's body goes into
	// the error: enough for a server's one-line reason, not a whole page.
	errorBodySnippet = 200
)

// HTTPOptions configures the http actions. The zero value gives the
// defaults that Builtins uses.
type HTTPOptions struct {
	// Timeout is the default of the `timeout` param; zero means 30s.
	Timeout time.Duration
	// MaxBody caps the response body a workflow may receive, so a runaway
	// response cannot exhaust a worker's memory or the store; zero means
	// 10 MiB, a negative value means no limit.
	MaxBody int64
	// Client sends the requests; nil means a client on a Transport shared
	// by every http action, so connections are pooled across nodes and runs.
	Client *http.Client
	// DenyPrivate is an egress policy for workers that run workflows from
	// authors they do not trust: requests to loopback, private, link-local
	// (cloud metadata), unspecified and multicast addresses fail, checked
	// on the address dialed, after DNS, for every connection and redirect.
	// Proxy settings of the environment are then ignored. It applies to
	// the default client only: with Client set, its transport decides.
	DenyPrivate bool
}

// sharedTransport is a clone rather than http.DefaultTransport so tuning it
// cannot affect the host program's own HTTP traffic.
var sharedTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64 // a Loop with concurrency calls one host many times at once
	return t
}()

var sharedClient = &http.Client{Transport: sharedTransport}

// HTTP returns the `http` action: one HTTP request, whose response becomes
// `{status, headers, body}` with a JSON body parsed. A status >= 400 fails
// the node unless `allow_status` lists it, because a workflow that ignores
// a failed call is almost always a bug.
func HTTP(opts HTTPOptions) Action {
	h := newHTTPAction(opts)
	return Action{
		Name:   "http",
		Doc:    "Sends an HTTP request; outputs {status, headers, body}, a JSON body parsed.",
		Schema: h.schema(true),
		Run: func(ctx context.Context, c *Call) (any, error) {
			return h.run(ctx, c, stringParam(c.Params, "method"))
		},
	}
}

// HTTPPost returns the `http_post` action: `http` with the method fixed to
// POST, which reads better in a workflow that only sends data.
func HTTPPost(opts HTTPOptions) Action {
	h := newHTTPAction(opts)
	return Action{
		Name:   "http_post",
		Doc:    "Sends an HTTP POST request; outputs {status, headers, body}, a JSON body parsed.",
		Schema: h.schema(false),
		Run: func(ctx context.Context, c *Call) (any, error) {
			return h.run(ctx, c, http.MethodPost)
		},
	}
}

type httpAction struct {
	timeout time.Duration
	maxBody int64
	client  *http.Client
}

func newHTTPAction(opts HTTPOptions) *httpAction {
	h := &httpAction{timeout: opts.Timeout, maxBody: opts.MaxBody, client: opts.Client}
	if h.timeout <= 0 {
		h.timeout = defaultHTTPTimeout
	}
	if h.maxBody == 0 {
		h.maxBody = defaultMaxBody
	}
	if h.client == nil {
		h.client = sharedClient
		if opts.DenyPrivate {
			h.client = denyPrivateClient
		}
	}
	return h
}

func (h *httpAction) schema(withMethod bool) Schema {
	var fs []Field
	if withMethod {
		fs = append(fs, Field{Name: "method", Type: String, Default: "GET", Doc: "the HTTP method"})
	}
	fs = append(fs,
		Field{Name: "url", Type: String, Required: true, Doc: "an absolute http or https URL"},
		Field{Name: "headers", Type: Map, Elem: String, Doc: "request headers"},
		Field{Name: "body", Type: Any, Doc: "a map or list is sent as JSON; a string is sent as it is"},
		Field{Name: "timeout", Type: Duration, Default: h.timeout.String(), Doc: "for the whole exchange, body included; 0s means none"},
		Field{Name: "allow_status", Type: List, Elem: Integer, Doc: "statuses >= 400 that do not fail the node"},
	)
	return Schema{Fields: fs}
}

func (h *httpAction) run(ctx context.Context, c *Call, method string) (any, error) {
	p := c.Params
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		method = http.MethodGet
	}
	rawURL := stringParam(p, "url")
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &ParamError{Param: "url", Err: mismatch("an absolute http or https URL", rawURL)}
	}
	what := method + " " + u.Redacted()

	body, isJSON, err := requestBody(p["body"])
	if err != nil {
		return nil, &ParamError{Param: "body", Err: err}
	}
	timeout, err := durationParam(p, "timeout")
	if err != nil {
		return nil, err
	}
	if _, set := p["timeout"]; !set {
		timeout = h.timeout
	}
	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		reqCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()

	req, err := http.NewRequestWithContext(reqCtx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	// The step's span, when it is traced, becomes the parent of whatever
	// the called service traces (W3C Trace Context). A traceparent among
	// the step's own headers, set below, wins.
	traceContext.Inject(ctx, propagation.HeaderCarrier(req.Header))
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	if hs, ok := p["headers"].(map[string]any); ok {
		for k, v := range hs {
			s, _ := toString(v)
			if http.CanonicalHeaderKey(k) == "Host" {
				req.Host = s
				continue
			}
			req.Header.Set(k, s)
		}
	}

	resp, err := h.client.Do(req)
	if err != nil {
		return nil, h.transportError(ctx, reqCtx, what, timeout, err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or abandoned: nothing to report

	data, err := h.readBody(resp)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, fmt.Errorf("%s: response body is larger than the %s limit", what, byteSize(h.maxBody))
		}
		return nil, h.transportError(ctx, reqCtx, what, timeout, err)
	}

	if resp.StatusCode >= 400 && !allowed(p["allow_status"], resp.StatusCode) {
		msg := fmt.Sprintf("%s: status %d", what, resp.StatusCode)
		if s := oneLine(data, errorBodySnippet); s != "" {
			msg += ": " + s
		}
		return nil, errors.New(msg)
	}

	headers := make(map[string]any, len(resp.Header))
	for k, vs := range resp.Header {
		if len(vs) > 0 {
			headers[k] = vs[0]
		}
	}
	return map[string]any{
		"status":  resp.StatusCode,
		"headers": headers,
		"body":    parseBody(resp.Header.Get("Content-Type"), data),
	}, nil
}

// requestBody encodes the `body` param: a string is sent as it is (the
// workflow chose the bytes), anything else as JSON.
func requestBody(v any) (io.Reader, bool, error) {
	switch b := v.(type) {
	case nil:
		return nil, false, nil
	case string:
		return strings.NewReader(b), false, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, false, fmt.Errorf("cannot be sent as JSON: %w", err)
	}
	return bytes.NewReader(data), true, nil
}

var errBodyTooLarge = errors.New("response body too large")

func (h *httpAction) readBody(resp *http.Response) ([]byte, error) {
	if h.maxBody < 0 {
		return io.ReadAll(resp.Body)
	}
	if resp.ContentLength > h.maxBody {
		return nil, errBodyTooLarge // refuse before reading a byte of it
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > h.maxBody {
		return nil, errBodyTooLarge
	}
	return data, nil
}

// transportError tells apart the three ways a request dies: the run or
// node was cancelled (ctx), the request's own timeout fired (reqCtx), or
// the network failed.
func (h *httpAction) transportError(ctx, reqCtx context.Context, what string, timeout time.Duration, err error) error {
	if ctx.Err() != nil {
		return interrupted(ctx, what)
	}
	if errors.Is(reqCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out after %v: %w", what, timeout, context.DeadlineExceeded)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the method and URL we already give
	}
	return fmt.Errorf("%s: %w", what, err)
}

// parseBody returns a JSON body parsed and anything else as a string. A
// body without a JSON content type is still parsed when it is an object or
// an array, since many servers label JSON as text; a bare `42` or `true`
// from a text endpoint stays a string, as its author most likely meant.
func parseBody(contentType string, data []byte) any {
	if len(data) == 0 {
		return ""
	}
	trimmed := bytes.TrimSpace(data)
	looksJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	if strings.Contains(strings.ToLower(contentType), "json") || looksJSON {
		if v, err := value.Unmarshal(data); err == nil {
			return v
		}
	}
	return string(data)
}

func allowed(list any, status int) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if n, ok := toInt(v); ok && n == status {
			return true
		}
	}
	return false
}

// oneLine squeezes the start of a body into one short line for an error
// message.
func oneLine(data []byte, n int) string {
	s := strings.Join(strings.Fields(string(data)), " ")
	return shorten(s, n)
}

// byteSize writes a limit the way people think of it (10 MiB).
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
