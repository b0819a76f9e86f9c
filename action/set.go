package action

import "context"

// Set returns the `set` action: its output is its params, after the runtime
// has evaluated their expressions. It is how a workflow names and shapes
// data for later nodes without calling anything.
func Set() Action {
	return Action{
		Name:   "set",
		Inline: true,
		Doc:    "Outputs its params (any map), expressions evaluated.",
		Schema: Schema{Open: true},
		Run: func(ctx context.Context, c *Call) (any, error) {
			if c.Params == nil {
				return map[string]any{}, nil // `set` with no params still outputs a map
			}
			return c.Params, nil
		},
	}
}
