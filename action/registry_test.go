package action

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func nop(ctx context.Context, c *Call) (any, error) { return nil, nil }

func TestRegistryAdd(t *testing.T) {
	r := NewRegistry()
	require.Empty(t, r.Names())
	require.NoError(t, r.Add(Action{Name: "b", Run: nop}))
	require.NoError(t, r.Add(Action{Name: "a", Run: nop}))

	require.EqualError(t, r.Add(Action{Name: "a", Run: nop}), `action "a" is already registered`)
	require.EqualError(t, r.Add(Action{Run: nop}), "action has no name")
	require.EqualError(t, r.Add(Action{Name: "my action", Run: nop}), `action name "my action" contains spaces`)
	require.EqualError(t, r.Add(Action{Name: "c"}), `action "c" has no Run function`)
	require.EqualError(t,
		r.Add(Action{Name: "d", Run: nop, Schema: Schema{Fields: []Field{{Name: "x", Type: Integer, Default: "ten"}}}}),
		`action "d": schema: field "x": default must be an integer, got "ten"`)

	require.Equal(t, []string{"a", "b"}, r.Names())
	a, ok := r.Lookup("a")
	require.True(t, ok)
	require.Equal(t, "a", a.Name)
	_, ok = r.Lookup("zzz")
	require.False(t, ok)
}

func TestRegistryCloneAndRemove(t *testing.T) {
	r := Builtins()
	c := r.Clone()
	c.Remove("shell", "not-there")
	require.NoError(t, c.Add(Action{Name: "extra", Run: nop}))

	_, ok := r.Lookup("shell")
	require.True(t, ok, "removing from a clone leaves the original alone")
	_, ok = r.Lookup("extra")
	require.False(t, ok)
	_, ok = c.Lookup("shell")
	require.False(t, ok)
}

func TestBuiltins(t *testing.T) {
	r := Builtins()
	require.Equal(t, []string{"fail", "http", "http_post", "log", "noop", "set", "shell", "sleep"}, r.Names())
	for _, n := range r.Names() {
		a, _ := r.Lookup(n)
		require.NotEmpty(t, a.Doc, n)
		for _, f := range a.Schema.Fields {
			require.NotEmpty(t, f.Doc, "%s.%s", n, f.Name)
		}
	}
	r.Remove("noop")
	_, ok := Builtins().Lookup("noop")
	require.True(t, ok, "each call builds a fresh registry")
}

func TestBuiltinSchemas(t *testing.T) {
	r := Builtins()
	field := func(action, name string) *Field {
		a, ok := r.Lookup(action)
		require.True(t, ok, action)
		f, ok := a.Schema.Field(name)
		require.True(t, ok, "%s.%s", action, name)
		return f
	}
	noop, _ := r.Lookup("noop")
	require.Empty(t, noop.Schema.Fields)
	require.False(t, noop.Schema.Open)
	set, _ := r.Lookup("set")
	require.True(t, set.Schema.Open)

	require.Equal(t, Field{Name: "msg", Type: String, Required: true, Doc: "the line to write"}, *field("log", "msg"))
	require.Equal(t, []string{"debug", "info", "warn", "error"}, field("log", "level").Enum)
	require.Equal(t, "info", field("log", "level").Default)
	require.Equal(t, Duration, field("sleep", "duration").Type)
	require.True(t, field("sleep", "duration").Required)
	require.True(t, field("fail", "message").Required)

	require.Equal(t, "GET", field("http", "method").Default)
	require.True(t, field("http", "url").Required)
	require.Equal(t, Map, field("http", "headers").Type)
	require.Equal(t, String, field("http", "headers").Elem)
	require.Equal(t, Any, field("http", "body").Type)
	require.Equal(t, "30s", field("http", "timeout").Default)
	require.Equal(t, Integer, field("http", "allow_status").Elem)
	post, _ := r.Lookup("http_post")
	_, hasMethod := post.Schema.Field("method")
	require.False(t, hasMethod)

	shell, _ := r.Lookup("shell")
	require.Equal(t, [][]string{{"command", "args"}}, shell.Schema.OneOf)
	require.Equal(t, String, field("shell", "args").Elem)
	require.Equal(t, String, field("shell", "env").Elem)
}

func TestRegistryConcurrentUse(t *testing.T) {
	r := Builtins()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				_ = r.Add(Action{Name: "x" + string(rune('a'+i)), Run: nop})
			}
			_, _ = r.Lookup("http")
			_ = r.Names()
			_ = r.Clone()
		})
	}
	wg.Wait()
	require.Len(t, r.Names(), 12)
}
