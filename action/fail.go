package action

import (
	"context"
	"errors"
)

// Fail returns the `fail` action: it always fails with its `message`,
// verbatim, so a workflow can stop on a condition it detects and a `catch`
// sees exactly the text that was written.
func Fail() Action {
	return Action{
		Name:   "fail",
		Inline: true,
		Doc:    "Always fails with the given message.",
		Schema: Schema{Fields: []Field{
			{Name: "message", Type: String, Required: true, Doc: "the error message"},
		}},
		Run: func(ctx context.Context, c *Call) (any, error) {
			return nil, errors.New(stringParam(c.Params, "message"))
		},
	}
}
