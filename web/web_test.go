package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skript-dev/skript/web"
)

// reply is a response read to its end.
type reply struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, srv *httptest.Server, path, enc string) (reply, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Accept-Encoding", enc) // set by hand: the client then leaves the body as sent
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{res.StatusCode, res.Header}, body
}

func TestHandlerServesTheBundle(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()

	res, body := get(t, srv, "/", "identity")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `<div id="root">`) {
		t.Fatalf("/: %d %q", res.StatusCode, body)
	}
	// A page's own route reloads into index.html.
	if res, body = get(t, srv, "/runs/abc", "identity"); res.StatusCode != http.StatusOK || !strings.Contains(string(body), "root") {
		t.Fatalf("/runs/abc: %d", res.StatusCode)
	}

	// The compiler: brotli when accepted, gzip else, inflated for a client
	// that takes neither; always application/wasm (instantiateStreaming
	// requires it).
	res, br := get(t, srv, "/skript.wasm", "gzip, br")
	if res.Header.Get("Content-Encoding") != "br" || res.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("wasm headers: %v", res.Header)
	}
	res, gz := get(t, srv, "/skript.wasm", "gzip")
	if res.Header.Get("Content-Encoding") != "gzip" || len(gz) <= len(br) {
		t.Fatalf("gzip: %v, %d bytes (br %d)", res.Header, len(gz), len(br))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	inflated, _ := io.ReadAll(zr)
	res, raw := get(t, srv, "/skript.wasm", "identity")
	if res.Header.Get("Content-Encoding") != "" || !bytes.Equal(raw, inflated) || !bytes.HasPrefix(raw, []byte("\x00asm")) {
		t.Fatalf("raw wasm: %d bytes, encoding %q", len(raw), res.Header.Get("Content-Encoding"))
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", nil)
	post, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", post.StatusCode)
	}
}
