// Package web is Skript's browser UI, built from the TypeScript sources
// beside this file into dist/ and embedded, so `go build` needs no Node
// (CI rebuilds dist/ and checks that nothing changed: web/build.sh).
package web

import (
	"compress/gzip"
	"embed"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the UI: its files, and index.html for any other path so
// that the page's own routes survive a reload. Files were compressed when
// the bundle was built: a client that accepts brotli or gzip gets those
// bytes as they are (the compiler's WebAssembly is kept only compressed).
func Handler() http.Handler {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: " + err.Error()) // the embed directive guarantees dist/
	}
	return &handler{root: root}
}

type handler struct{ root fs.FS }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || !h.exists(name) {
		name = "index.html"
	}
	if strings.HasPrefix(name, "assets/") {
		// Content-hashed names never change under the same name.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Add("Vary", "Accept-Encoding")
	accept := r.Header.Get("Accept-Encoding")
	for _, enc := range []struct{ ext, name string }{{".br", "br"}, {".gz", "gzip"}} {
		if !strings.Contains(accept, enc.name) {
			continue
		}
		if data, err := fs.ReadFile(h.root, name+enc.ext); err == nil {
			w.Header().Set("Content-Encoding", enc.name)
			h.write(w, r, data)
			return
		}
	}
	if data, err := fs.ReadFile(h.root, name); err == nil {
		h.write(w, r, data)
		return
	}
	// Only the compressed form is kept: inflate it for this client.
	f, err := h.root.Open(name + ".gz")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer func() { _ = f.Close() }() // embedded: closing cannot fail
	zr, err := gzip.NewReader(f)
	if err != nil {
		http.Error(w, "corrupt embedded file", http.StatusInternalServerError)
		return
	}
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, zr) // the client went away: nothing to do
	}
}

func (h *handler) exists(name string) bool {
	for _, n := range []string{name, name + ".gz"} {
		if st, err := fs.Stat(h.root, n); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
}

func (h *handler) write(w http.ResponseWriter, r *http.Request, data []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(data) // the client went away: nothing to do
}
