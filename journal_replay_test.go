package skript_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/compiler"
	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/store/memory"
	"github.com/skript-dev/skript/store/redis"
	"github.com/skript-dev/skript/store/redis/redistest"
	"github.com/skript-dev/skript/value"
)

// envCases names the directory of the black-box suite's cases (NAME.yaml
// and NAME.json), kept outside this repository.
const envCases = "SKRIPT_CONFORMANCE_CASES"

// conformanceCase is what TestJournalsReplay reads of a case's NAME.json.
type conformanceCase struct {
	Command  string          `json:"command"`
	Inputs   json.RawMessage `json:"inputs"`
	Variants [][]string      `json:"variants"`
	Expect   struct {
		Status store.Status `json:"status"`
	} `json:"expect"`
}

// TestJournalsReplay runs every workflow of the black-box suite through
// the Go API, on memory and on Redis, with and without the optimizer where
// the case asks, and requires of each run's journal that it is numbered
// without gaps from run.created to the run's end and that replaying it to
// the end gives exactly the run's stored records.
func TestJournalsReplay(t *testing.T) {
	dir := os.Getenv(envCases)
	if dir == "" {
		dir = filepath.Join("..", "shared", "conformance", "cases")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the black-box cases are not at %s (set %s): %v", dir, envCases, err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	base := caseServer(t)

	stores := []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"memory", func(*testing.T) store.Store { return memory.New() }},
		{"memory-codec", func(*testing.T) store.Store { return memory.New(memory.WithRoundTrip()) }},
		{"redis", func(t *testing.T) store.Store {
			tg := redistest.New(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := redis.Open(ctx, tg.URL, redis.WithPrefix(tg.Prefix(t)), redis.WithClusterAddrs(tg.Addrs...))
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			return st
		}},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.open(t)
			eng, err := skript.New(skript.WithStore(st), skript.WithConcurrency(16))
			require.NoError(t, err)
			t.Cleanup(func() { _ = eng.Close() })
			ran := 0
			for _, path := range names {
				name := strings.TrimSuffix(filepath.Base(path), ".yaml")
				spec := readCase(t, strings.TrimSuffix(path, ".yaml")+".json")
				if spec.Command != "" && spec.Command != "run" {
					continue
				}
				variants := spec.Variants
				if len(variants) == 0 {
					variants = [][]string{nil}
				}
				for _, variant := range variants {
					noOpt := strings.Join(variant, " ") == "--no-opt"
					t.Run(name+map[bool]string{true: "/no-opt", false: ""}[noOpt], func(t *testing.T) {
						if replayCase(t, eng, st, path, spec, noOpt, base) {
							ran++
						}
					})
				}
			}
			require.Greater(t, ran, 20, "runs replayed")
		})
	}
}

func readCase(t *testing.T, path string) conformanceCase {
	var c conformanceCase
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return c
	}
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &c), path)
	return c
}

// replayCase runs one case and checks its journal; it reports false when
// the case is refused before a run starts (bad workflow, bad inputs).
func replayCase(t *testing.T, eng *skript.Engine, st store.Store, path string, spec conformanceCase, noOpt bool, base string) bool {
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	bp, errs := compiler.Compile("flow.yaml", src, compiler.Options{Registry: action.Builtins(), NoOpt: noOpt})
	if len(errs) > 0 {
		return false
	}
	var inputs map[string]any
	if len(spec.Inputs) > 0 {
		raw := strings.ReplaceAll(string(spec.Inputs), "{HTTP}", base)
		v, err := value.Unmarshal([]byte(raw))
		require.NoError(t, err)
		inputs = v.(map[string]any)
	}
	// A case's shell steps write files in their working directory.
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := eng.Start(ctx, bp, inputs)
	if err != nil {
		return false
	}
	res, err := run.Wait(ctx)
	require.NoError(t, err)
	if spec.Expect.Status != "" {
		require.Equal(t, spec.Expect.Status, res.Status, "the case ran as the suite expects")
	}

	var j store.Journal = st
	var evs []*store.Event
	for {
		page, err := j.Events(ctx, run.ID, int64(len(evs)), 500, 0)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		evs = append(evs, page...)
	}
	require.NotEmpty(t, evs)
	for i, ev := range evs {
		require.EqualValues(t, i+1, ev.Seq)
		require.NotEqual(t, store.EventTruncated, ev.Type, "the journal is whole")
	}
	require.Equal(t, store.EventRunCreated, evs[0].Type)
	last := evs[len(evs)-1]
	require.Contains(t, []store.EventType{store.EventRunEnded, store.EventRunCancelled}, last.Type)
	require.Equal(t, res.Status, last.End.Status)

	all, err := st.AllRecords(ctx, run.ID)
	require.NoError(t, err)
	m := make(map[store.RecordKey]*store.Record, len(all))
	for _, r := range all {
		m[r.RecordKey] = r
	}
	want, got := store.SortRecords(m), store.Replay(evs, 0)
	require.Equal(t, encodeRecords(t, want), encodeRecords(t, got), "replaying the journal gives the stored records")
	return true
}

// encodeRecords is records in the store codec, one a line: times compare
// as instants, and a mismatch reads as a diff of lines.
func encodeRecords(t *testing.T, recs []*store.Record) string {
	var b strings.Builder
	for _, r := range recs {
		out, err := value.MarshalString(r.Output)
		require.NoError(t, err)
		cp := *r
		cp.Output = nil
		cp.Started, cp.Finished = cp.Started.UTC(), cp.Finished.UTC()
		head, err := json.Marshal(cp)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s output=%s\n", head, out)
	}
	return b.String()
}

// caseServer is the black-box suite's HTTP server: /status/N answers N,
// /count counts its calls, /sleep/MS waits, and anything else echoes the
// request.
func caseServer(t *testing.T) string {
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var parsed any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &parsed); err != nil {
				parsed = string(raw)
			}
		}
		reply := func(code int, v any) {
			var b bytes.Buffer
			_ = json.NewEncoder(&b).Encode(v)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = w.Write(b.Bytes())
		}
		parts := strings.Split(r.URL.Path, "/")
		switch {
		case strings.HasPrefix(r.URL.Path, "/status/") && len(parts) > 2:
			code, _ := strconv.Atoi(parts[2])
			reply(code, map[string]any{"status": code})
			return
		case r.URL.Path == "/count":
			reply(200, map[string]any{"count": count.Add(1)})
			return
		case strings.HasPrefix(r.URL.Path, "/sleep/") && len(parts) > 2:
			ms, _ := strconv.Atoi(parts[2])
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		var hdr any
		if v := r.Header.Get("X-Test"); v != "" {
			hdr = v
		}
		reply(200, map[string]any{"method": r.Method, "path": r.URL.RequestURI(), "json": parsed, "header_x_test": hdr})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
