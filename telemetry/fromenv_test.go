package telemetry_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/telemetry"
)

// spanNames collects the names of the spans an OTLP receiver got.
type spanNames struct {
	mu    sync.Mutex
	names []string
}

func (s *spanNames) add(req *coltrace.ExportTraceServiceRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				s.names = append(s.names, sp.GetName())
			}
		}
	}
}

func (s *spanNames) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.names...)
}

// grpcReceiver is an OTLP/gRPC trace service on loopback.
type grpcReceiver struct {
	coltrace.UnimplementedTraceServiceServer
	got *spanNames
}

func (g *grpcReceiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	g.got.add(req)
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// emitRun sends one run span through a Telemetry made from the
// environment, and flushes it.
func emitRun(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	tel, err := telemetry.FromEnv(ctx, "skript-test", nil)
	require.NoError(t, err)
	require.True(t, tel.Tracing())
	tel.RunEnded(ctx, telemetry.RunSpan{ID: "r1", Workflow: "wf", Trace: telemetry.DerivedTrace("r1"), Created: time.Now()},
		store.Succeeded, "", time.Now())
	require.NoError(t, tel.Shutdown(ctx))
}

// The OTEL_* variables alone send spans over OTLP/HTTP or OTLP/gRPC, and
// turn tracing off.
func TestFromEnv(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		got := &spanNames{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var req coltrace.ExportTraceServiceRequest
			if proto.Unmarshal(body, &req) != nil {
				http.Error(w, "bad", http.StatusBadRequest)
				return
			}
			got.add(&req)
			w.Header().Set("Content-Type", "application/x-protobuf")
		}))
		defer srv.Close()
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
		emitRun(t)
		require.Equal(t, []string{"run wf"}, got.get())
	})
	t.Run("grpc", func(t *testing.T) {
		got := &spanNames{}
		var lc net.ListenConfig
		ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
		require.NoError(t, err)
		gs := grpc.NewServer()
		coltrace.RegisterTraceServiceServer(gs, &grpcReceiver{got: got})
		go func() { _ = gs.Serve(ln) }()
		defer gs.Stop()
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+ln.Addr().String())
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
		emitRun(t)
		require.Equal(t, []string{"run wf"}, got.get())
	})
	t.Run("off", func(t *testing.T) {
		for _, env := range [][2]string{{"OTEL_EXPORTER_OTLP_ENDPOINT", ""}, {"OTEL_TRACES_EXPORTER", "none"}, {"OTEL_SDK_DISABLED", "true"}} {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
			t.Setenv(env[0], env[1])
			tel, err := telemetry.FromEnv(context.Background(), "x", nil)
			require.NoError(t, err)
			require.False(t, tel.Tracing(), "%s=%q", env[0], env[1])
		}
		t.Setenv("OTEL_SDK_DISABLED", "")
		t.Setenv("OTEL_TRACES_EXPORTER", "")
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
		_, err := telemetry.FromEnv(context.Background(), "x", nil)
		require.ErrorContains(t, err, "want http/protobuf or grpc")
	})
}
