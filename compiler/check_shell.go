package compiler

import (
	"strings"

	"github.com/skript-dev/skript/dsl"
)

// checkShellCommand refuses a `${{ }}` inside shell's `command`. The
// command line is code for /bin/sh, and a template pastes data into it:
// an input `x; touch pwned` would run. Values reach a command safely
// through `env`, where the shell expands "$NAME" as one word and never
// parses it, so the message shows that rewrite with the author's own
// expression. Refusing, rather than rewriting the template into a
// variable behind the author's back, keeps what runs exactly what is
// written: `echo ${{ x }}` and `echo "$X"` differ in word splitting.
func (c *compiler) checkShellCommand(n *dsl.Node) {
	if n.Action != "shell" {
		return
	}
	if a, ok := c.reg.Lookup("shell"); !ok || a.Schema.Open {
		return
	} else if _, has := a.Schema.Field("command"); !has {
		return // a host's own "shell" action with other params
	}
	v := n.Params.Get("command")
	if v == nil || v.Kind != dsl.String || !strings.Contains(v.Str, "${{") {
		return
	}
	expr, name := "input.x", "NAME"
	if e, ok := firstTemplate(v.Str); ok {
		expr, name = e, envName(e)
	}
	c.errorf(v.Pos, `shell.command must not embed ${{ }}: pass the value through env (env: {%s: "${{ %s }}"}) and use "$%s" in the command`,
		name, expr, name)
}

// firstTemplate returns the expression of the first `${{ ... }}` in s.
func firstTemplate(s string) (string, bool) {
	i := strings.Index(s, "${{")
	if i < 0 {
		return "", false
	}
	rest := s[i+3:]
	j := strings.Index(rest, "}}")
	if j < 0 {
		return "", false
	}
	e := strings.TrimSpace(rest[:j])
	return e, e != ""
}

// envName makes a variable name from an expression's last identifier
// (`input.user_name` → USER_NAME), or VALUE when it ends in none.
func envName(expr string) string {
	end := len(expr)
	start := end
	for start > 0 && isIdentByte(expr[start-1]) {
		start--
	}
	for start < end && expr[start] >= '0' && expr[start] <= '9' {
		start++
	}
	if start == end {
		return "VALUE"
	}
	return strings.ToUpper(expr[start:end])
}

func isIdentByte(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}
