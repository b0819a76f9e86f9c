package action

import "context"

// Noop returns the `noop` action: it takes no params and outputs null. It
// is a placeholder in a branch and a cheap task for benchmarks.
func Noop() Action {
	return Action{
		Name:   "noop",
		Inline: true,
		Doc:    "Does nothing; outputs null.",
		Run: func(ctx context.Context, c *Call) (any, error) {
			return nil, nil
		},
	}
}
