package skript_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript"
	"github.com/skript-dev/skript/store"
)

func TestDeniedActionsAreChecked(t *testing.T) {
	_, err := skript.New(skript.WithDeniedActions("shel"))
	require.EqualError(t, err, `WithDeniedActions: cannot deny unknown action "shel"; did you mean "shell"?`)
	_, err = skript.New(skript.WithShellEnv("A=b"))
	require.ErrorContains(t, err, `WithShellEnv: environment variable name "A=b"`)

	eng, err := skript.New(skript.WithDeniedActions("shell"))
	require.NoError(t, err)
	defer func() { _ = eng.Close() }()
	_, err = eng.Compile("f.yaml", []byte("name: f\nnodes:\n  - {id: a, kind: Action, action: shell, params: {command: 'true'}}\n"))
	require.ErrorContains(t, err, `f.yaml:3:35: action "shell" is denied on this host (--deny-action)`)
}

// runOutput runs src on eng and returns its output.
func runOutput(t *testing.T, eng *skript.Engine, src string) (*skript.Result, error) {
	t.Helper()
	bp, err := eng.Compile("f.yaml", []byte(src))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := eng.Start(ctx, bp, nil)
	require.NoError(t, err)
	return run.Wait(ctx)
}

func TestShellEnvAndHTTPPolicyOptions(t *testing.T) {
	t.Setenv("SKRIPT_HOST_SECRET", "hunter2")
	const flow = "name: f\nnodes:\n  - {id: e, kind: Action, action: shell, params: {command: 'echo \"[$SKRIPT_HOST_SECRET]\"'}}\noutput: \"${{ nodes.e.output.stdout }}\"\n"
	for _, tc := range []struct {
		opts []skript.Option
		want string
	}{{nil, "[]\n"}, {[]skript.Option{skript.WithShellEnv("SKRIPT_HOST_*")}, "[hunter2]\n"}} {
		eng, err := skript.New(tc.opts...)
		require.NoError(t, err)
		res, err := runOutput(t, eng, flow)
		require.NoError(t, err)
		require.Equal(t, tc.want, res.Output)
		require.NoError(t, eng.Close())
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	eng, err := skript.New(skript.WithHTTPDenyPrivate())
	require.NoError(t, err)
	defer func() { _ = eng.Close() }()
	res, err := runOutput(t, eng, "name: h\nnodes:\n  - {id: get, kind: Action, action: http, params: {url: \""+srv.URL+"\"}}\n")
	require.NoError(t, err)
	require.Equal(t, store.Failed, res.Status)
	require.Contains(t, res.Error.Message, "loopback")
}
