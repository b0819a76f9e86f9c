package action

import (
	"context"
)

// Fail returns the `fail` action: it always fails with its `message`,
// verbatim, so a workflow can stop on a condition it detects and a `catch`
// sees exactly the text that was written. Its error has type `type` (ErrFail
// when not given) and data `data`, so that the workflow's own failures can
// be filtered like the engine's; its type is never retried unless a retry
// filter asks for it, since the same inputs fail the same way.
func Fail() Action {
	return Action{
		Name:   "fail",
		Inline: true,
		Doc:    "Always fails with the given message, error type and data.",
		Schema: Schema{Fields: []Field{
			{Name: "message", Type: String, Required: true, Doc: "the error message"},
			{Name: "type", Type: String, Doc: "the error's type (default fail), as retry and catch filters see it"},
			{Name: "data", Type: Map, Doc: "the error's data, in scope as error.data"},
		}},
		Run: func(ctx context.Context, c *Call) (any, error) {
			typ := stringParam(c.Params, "type")
			if typ == "" {
				typ = ErrFail
			}
			data, _ := c.Params["data"].(map[string]any)
			return nil, &Error{Type: typ, Message: stringParam(c.Params, "message"), Data: data}
		},
	}
}
