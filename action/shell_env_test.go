//go:build unix

package action

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// envOf runs `env` through the shell action and returns what the command
// saw, as a map.
func envOf(t *testing.T, opts ShellOptions, params map[string]any) map[string]string {
	t.Helper()
	out, err := invoke(t, context.Background(), Shell(opts), params)
	require.NoError(t, err)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.(map[string]any)["stdout"].(string)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	return got
}

// A command sees a minimal environment plus its env: not the worker's
// store URL (with its password) nor any other secret of the worker.
func TestShellMinimalEnvironment(t *testing.T) {
	t.Setenv("SKRIPT_STORE", "redis://:hunter2@127.0.0.1:6390/0")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
	t.Setenv("LC_TIME", "C")
	t.Setenv("TZ", "UTC")

	for _, params := range []map[string]any{
		{"command": "env", "env": map[string]any{"MINE": "a b; c"}},
		{"args": []any{"env"}, "env": map[string]any{"MINE": "a b; c"}},
	} {
		got := envOf(t, ShellOptions{}, params)
		require.NotContains(t, got, "SKRIPT_STORE")
		require.NotContains(t, got, "AWS_SECRET_ACCESS_KEY")
		require.Contains(t, got, "PATH")
		require.Equal(t, "C", got["LC_TIME"])
		require.Equal(t, "UTC", got["TZ"])
		require.Equal(t, "a b; c", got["MINE"])
	}

	got := envOf(t, ShellOptions{PassEnv: []string{"AWS_*"}}, map[string]any{"command": "env"})
	require.Equal(t, "s3cr3t", got["AWS_SECRET_ACCESS_KEY"], "an operator passes more by name or prefix")
	require.NotContains(t, got, "SKRIPT_STORE")

	got = envOf(t, ShellOptions{PassEnv: []string{"SKRIPT_STORE"}}, map[string]any{"command": "env", "env": map[string]any{"TZ": "Europe/Paris"}})
	require.Equal(t, "redis://:hunter2@127.0.0.1:6390/0", got["SKRIPT_STORE"])
	require.Equal(t, "Europe/Paris", got["TZ"], "a step's env wins over the worker's")
}

func TestShellEnvSafeFromInjection(t *testing.T) {
	dir := t.TempDir()
	out, err := invoke(t, context.Background(), Shell(ShellOptions{}), map[string]any{
		"command": `echo "$NAME"`, "env": map[string]any{"NAME": "x; touch pwned"}, "dir": dir,
	})
	require.NoError(t, err)
	require.Equal(t, "x; touch pwned\n", out.(map[string]any)["stdout"])
	require.NoFileExists(t, dir+"/pwned")
}

func TestCheckEnvNames(t *testing.T) {
	require.NoError(t, CheckEnvNames([]string{"AWS_REGION", "AWS_*", "*"}))
	require.EqualError(t, CheckEnvNames([]string{"A=b"}), `environment variable name "A=b": want a name such as AWS_REGION, or a prefix such as AWS_*`)
	require.Error(t, CheckEnvNames([]string{""}))
}
