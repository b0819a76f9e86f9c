package compiler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/action"
)

type paramsInner struct {
	Wait time.Duration
	Tag  string `skript:"required"`
}

type paramsOuter struct {
	In    paramsInner
	Items []paramsInner
	Small uint8
}

// A host action's nested struct params are checked at compile time like
// its top-level ones, each problem at the key or value it is about.
func TestNestedStructParams(t *testing.T) {
	reg := action.Builtins()
	require.NoError(t, action.Register(reg, "custom", func(context.Context, paramsOuter) (any, error) { return nil, nil }))
	compile := func(params string) string {
		src := "name: t\ninputs: {x: {type: string}}\nnodes:\n  - id: a\n    kind: Action\n    action: custom\n    params: " + params + "\n"
		bp, errs := Compile("t.yaml", []byte(src), Options{Registry: reg})
		if len(errs) == 0 {
			require.NotNil(t, bp)
			return ""
		}
		return errs.Error()
	}
	for _, tc := range []struct{ params, want string }{
		{`{in: {wait: 1s, tag: x}, items: [{tag: a}], small: 255}`, ""},
		{`{in: {wait: 5, bogus: 1}}`, `t.yaml:7:18: param "in" of action "custom" needs key "tag"
t.yaml:7:25: param "in.wait" of action "custom" must be a duration like "200ms", got 5; did you mean "5s"? a duration needs a unit (ms, s, m, h)
t.yaml:7:28: unknown key "bogus" in param "in" of action "custom"; it takes "wait" and "tag"`},
		{`{in: {wait: 1s, tga: x}}`, `t.yaml:7:18: param "in" of action "custom" needs key "tag"
t.yaml:7:29: unknown key "tga" in param "in" of action "custom"; did you mean "tag"?`},
		{`{in: {tag: x}, items: [{tag: a}, {wait: soon, tag: b}]}`, `t.yaml:7:53: param "items[1].wait" of action "custom" must be a duration like "200ms", got "soon"`},
		{`{in: {tag: x}, items: [{}]}`, `t.yaml:7:36: param "items[0]" of action "custom" needs key "tag"`},
		{`{in: {tag: x}, small: 300}`, `t.yaml:7:35: param "small" of action "custom" must be an integer from 0 to 255, got 300`},
		{`{in: "x"}`, `t.yaml:7:18: param "in" of action "custom" must be a map, got "x"`},
		// Templated values are checked when they fold to constants, and
		// otherwise when the run evaluates them; keys are checked anyway.
		{`{in: {wait: "${{ 'soon' }}", tag: x}}`, `t.yaml:7:25: param "in.wait" of action "custom" must be a duration like "200ms", got "soon"`},
		{`{in: {tag: "${{ input.x }}"}}`, ""},
		{`{in: {wait: "${{ input.x }}"}}`, `t.yaml:7:18: param "in" of action "custom" needs key "tag"`},
	} {
		require.Equal(t, tc.want, compile(tc.params), tc.params)
	}
}
