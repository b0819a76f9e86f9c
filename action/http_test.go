package action

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newTestServer serves the endpoints the http tests call, on loopback.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var parsed any
		if json.Unmarshal(raw, &parsed) != nil {
			parsed = string(raw)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Add("X-Multi", "first")
		w.Header().Add("X-Multi", "second")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method":       r.Method,
			"path":         r.URL.RequestURI(),
			"x_test":       r.Header.Get("X-Test"),
			"user_agent":   r.Header.Get("User-Agent"),
			"content_type": r.Header.Get("Content-Type"),
			"host":         r.Host,
			"body":         parsed,
			"big":          9007199254740993,
		})
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"status": %d}`, code)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "42")
	})
	mux.HandleFunc("/untyped-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, ` {"items": [1, 2.5]}`)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if r.URL.Query().Get("stream") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		for range n / 100 {
			_, _ = w.Write([]byte(strings.Repeat("x", 100)))
			if f, ok := w.(http.Flusher); ok {
				f.Flush() // no Content-Length: the limit must hold while streaming
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPGetWithHeaders(t *testing.T) {
	srv := newTestServer(t)
	out, err := invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{
		"url":     srv.URL + "/echo?id=7",
		"headers": map[string]any{"X-Test": "yes-please", "Host": "example.test"},
	})
	require.NoError(t, err)
	res := out.(map[string]any)
	require.Equal(t, 200, res["status"])
	headers := res["headers"].(map[string]any)
	require.Equal(t, "first", headers["X-Multi"], "the first value of a repeated header")
	require.Contains(t, headers["Content-Type"], "application/json")
	body := res["body"].(map[string]any)
	require.Equal(t, "GET", body["method"])
	require.Equal(t, "/echo?id=7", body["path"])
	require.Equal(t, "yes-please", body["x_test"])
	require.Equal(t, UserAgent, body["user_agent"])
	require.Equal(t, "example.test", body["host"])
	require.Equal(t, "", body["content_type"])
	require.Equal(t, "", body["body"], "a GET sends no body")
	require.Equal(t, 9007199254740993, body["big"], "integers stay exact and are int")
}

func TestHTTPPutJSONBody(t *testing.T) {
	srv := newTestServer(t)
	out, err := invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{
		"method": "put",
		"url":    srv.URL + "/echo",
		"body":   map[string]any{"name": "/items?id=7", "n": 2},
	})
	require.NoError(t, err)
	body := out.(map[string]any)["body"].(map[string]any)
	require.Equal(t, "PUT", body["method"])
	require.Equal(t, "application/json", body["content_type"])
	require.Equal(t, map[string]any{"name": "/items?id=7", "n": 2}, body["body"])
}

func TestHTTPBodies(t *testing.T) {
	srv := newTestServer(t)
	post := HTTPPost(HTTPOptions{})
	call := func(params map[string]any) map[string]any {
		t.Helper()
		out, err := invoke(t, context.Background(), post, params)
		require.NoError(t, err)
		return out.(map[string]any)
	}

	echo := call(map[string]any{"url": srv.URL + "/echo", "body": "plain text"})["body"].(map[string]any)
	require.Equal(t, "POST", echo["method"])
	require.Equal(t, "plain text", echo["body"], "a string is sent as it is")
	require.Equal(t, "", echo["content_type"])

	echo = call(map[string]any{"url": srv.URL + "/echo", "body": []any{1, 2},
		"headers": map[string]any{"Content-Type": "application/vnd.api+json"}})["body"].(map[string]any)
	require.Equal(t, []any{1, 2}, echo["body"], "a list is sent as JSON")
	require.Equal(t, "application/vnd.api+json", echo["content_type"], "the workflow's header wins")

	echo = call(map[string]any{"url": srv.URL + "/echo", "headers": map[string]any{"User-Agent": "mine"}})["body"].(map[string]any)
	require.Equal(t, "mine", echo["user_agent"])

	require.Equal(t, "42", call(map[string]any{"url": srv.URL + "/text"})["body"], "text stays text")
	require.Equal(t, map[string]any{"items": []any{1, 2.5}}, call(map[string]any{"url": srv.URL + "/untyped-json"})["body"])
	empty := call(map[string]any{"url": srv.URL + "/empty"})
	require.Equal(t, 204, empty["status"])
	require.Equal(t, "", empty["body"])
}

func TestHTTPAllowStatus(t *testing.T) {
	srv := newTestServer(t)
	out, err := invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{
		"url": srv.URL + "/status/404", "allow_status": []any{int64(404)},
	})
	require.NoError(t, err)
	require.Equal(t, 404, out.(map[string]any)["status"])
	require.Equal(t, map[string]any{"status": 404}, out.(map[string]any)["body"])

	_, err = invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{
		"url": srv.URL + "/status/404", "allow_status": []any{409},
	})
	require.EqualError(t, err, "GET "+srv.URL+`/status/404: status 404: {"status": 404}`)
	var ae *Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrHTTPStatus, ae.Type)
	require.Equal(t, map[string]any{"status": 404, "body": `{"status": 404}`}, ae.Data)
}

func TestHTTPErrorStatus(t *testing.T) {
	srv := newTestServer(t)
	_, err := invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{"url": srv.URL + "/status/503"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "GET "+srv.URL+"/status/503: status 503")

	out, err := invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{"url": srv.URL + "/status/302"})
	require.NoError(t, err, "a redirect without a Location is a plain response")
	require.Equal(t, 302, out.(map[string]any)["status"])
}

func TestHTTPBodyLimit(t *testing.T) {
	srv := newTestServer(t)
	small := HTTP(HTTPOptions{MaxBody: 1 << 10})
	for _, stream := range []string{"", "?stream=1"} {
		_, err := invoke(t, context.Background(), small, map[string]any{"url": srv.URL + "/bytes/2000" + stream})
		require.EqualError(t, err, "GET "+srv.URL+"/bytes/2000"+stream+": response body is larger than the 1 KiB limit")
	}
	out, err := invoke(t, context.Background(), small, map[string]any{"url": srv.URL + "/bytes/1000?stream=1"})
	require.NoError(t, err)
	require.Len(t, out.(map[string]any)["body"], 1000)

	unlimited := HTTP(HTTPOptions{MaxBody: -1})
	out, err = invoke(t, context.Background(), unlimited, map[string]any{"url": srv.URL + "/bytes/20000"})
	require.NoError(t, err)
	require.Len(t, out.(map[string]any)["body"], 20000)
}

func TestHTTPTimeout(t *testing.T) {
	srv := newTestServer(t)
	start := time.Now()
	_, err := invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{
		"url": srv.URL + "/slow", "timeout": "100ms",
	})
	require.Less(t, time.Since(start), 3*time.Second)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.EqualError(t, err, "GET "+srv.URL+"/slow: timed out after 100ms")
	require.Equal(t, ErrTimeout, errType(err))

	// The options' timeout is the default of the param.
	quick := HTTP(HTTPOptions{Timeout: 50 * time.Millisecond})
	f, _ := quick.Schema.Field("timeout")
	require.Equal(t, "50ms", f.Default)
	_, err = invoke(t, context.Background(), quick, map[string]any{"url": srv.URL + "/slow"})
	require.ErrorContains(t, err, "timed out after 50ms")
}

func TestHTTPCancelled(t *testing.T) {
	srv := newTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := invoke(t, ctx, HTTP(HTTPOptions{}), map[string]any{"url": srv.URL + "/slow"})
	require.Less(t, time.Since(start), 3*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	require.EqualError(t, err, "GET "+srv.URL+"/slow: cancelled")

	// A node timeout (the runtime's deadline on ctx) reads as a timeout.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = invoke(t, ctx, HTTP(HTTPOptions{}), map[string]any{"url": srv.URL + "/slow"})
	require.EqualError(t, err, "GET "+srv.URL+"/slow: timed out")
}

func TestHTTPBadRequests(t *testing.T) {
	a := HTTP(HTTPOptions{})
	for _, u := range []string{"example.com/x", "ftp://example.com/x", "http://", "::"} {
		_, err := invoke(t, context.Background(), a, map[string]any{"url": u})
		require.EqualError(t, err, fmt.Sprintf("url: must be an absolute http or https URL, got %q", u))
	}

	_, err := invoke(t, context.Background(), a, map[string]any{"url": "http://127.0.0.1:1/x"})
	require.ErrorContains(t, err, "GET http://127.0.0.1:1/x: dial tcp 127.0.0.1:1:")

	_, err = invoke(t, context.Background(), a, map[string]any{"url": "http://user:secret@127.0.0.1:1/x"})
	require.NotContains(t, err.Error(), "secret", "credentials stay out of logs and run records")

	_, err = invoke(t, context.Background(), a, map[string]any{"url": "http://127.0.0.1:1/x", "method": "BAD METHOD"})
	require.ErrorContains(t, err, `invalid method "BAD METHOD"`)

	f, _ := a.Schema.Field("headers")
	require.EqualError(t, f.CheckValue(map[string]any{"X-A": []any{"b"}}), `must be a map of strings, got list at key "X-A"`)
	f, _ = a.Schema.Field("allow_status")
	require.EqualError(t, f.CheckValue([]any{"404"}), `must be a list of integers, got "404" at index 0`)
}

func TestByteSize(t *testing.T) {
	require.Equal(t, "10 MiB", byteSize(10<<20))
	require.Equal(t, "1 KiB", byteSize(1024))
	require.Equal(t, "1000 bytes", byteSize(1000))
}
