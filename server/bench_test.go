package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/server"
	"github.com/skript-dev/skript/service"
)

// BenchmarkStartRun compares starting a run over the API (an HTTP
// request on loopback with the workflow's source) with the path of
// skript submit (compile the file, then Service.Submit), on the memory
// store with workers running the runs.
func BenchmarkStartRun(b *testing.B) {
	b.Run("api", func(b *testing.B) {
		ts := startServer(b, options{cfg: server.Config{StartRate: -1}})
		body, err := json.Marshal(map[string]any{"workflow": src(greetSrc)})
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := http.Post(ts.URL+"/api/v1/runs", "application/json", bytes.NewReader(body))
			if err != nil || resp.StatusCode != http.StatusCreated {
				b.Fatal(err, resp)
			}
			// Read to the end, so the connection is reused as a
			// client's would be.
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	})
	b.Run("cli-submit", func(b *testing.B) {
		ts := startServer(b, options{})
		b.ReportAllocs()
		for b.Loop() {
			bp, err := ts.svc.Compile("flow.yaml", []byte(greetSrc), service.CompileOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ts.svc.Submit(b.Context(), service.SubmitRequest{Blueprint: bp}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
