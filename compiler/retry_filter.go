package compiler

import (
	"fmt"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/dsl"
)

// actionRetry is the retry policy that applies to an Action: its own, else
// the workflow's default. A node's retry replaces the default as a whole,
// so what a node says is all that applies. The default does not apply to
// the `fail` action: it can never succeed, so retrying it only delays the
// failure (and the catch).
func (c *compiler) actionRetry(n *dsl.Node) *dsl.Retry {
	if n.Retry != nil {
		return n.Retry
	}
	if d := c.wf.Defaults; d != nil && n.Action != "fail" {
		return d.Retry
	}
	return nil
}

// retryExpr checks the error types of an Action's own retry filter and
// compiles the condition of the retry that applies to it, with `error`
// (the failed attempt's) and `attempt` in scope. A default retry's
// condition is compiled for each node it applies to, as it reads that
// node's error.
func (c *compiler) retryExpr(x *inode, env *lex) {
	c.checkRetryTypes(x.n.Retry)
	r := c.actionRetry(x.n)
	if r == nil || r.When == nil {
		return
	}
	x.retryWhen = c.bare(r.When, "when", x, &lex{kind: lexRetry, node: x, up: env})
}

// checkRetryTypes refuses an error type no failure has: a typo in a retry
// filter would silently retry everything or nothing. A dotted name outside
// the built-in prefixes is a host action's own type, and accepted.
func (c *compiler) checkRetryTypes(r *dsl.Retry) {
	if r == nil {
		return
	}
	check := func(field string, types []string, pos []dsl.Pos) {
		for i, typ := range types {
			if !action.KnownErrorType(typ) {
				hint := dsl.Hint(typ, action.ErrorTypes)
				if hint == "" {
					hint = fmt.Sprintf("; the error types are %v, or a host action's dotted type such as billing.declined", action.ErrorTypes)
				}
				c.errorf(pos[i], "retry %s: unknown error type %q%s", field, typ, hint)
			}
		}
	}
	check("errors", r.Errors, r.ErrorsPos)
	check("except", r.Except, r.ExceptPos)
}
