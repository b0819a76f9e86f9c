package action

import (
	"context"
	"time"
)

// Sleep returns the `sleep` action: it waits for `duration` or until its
// context ends (node timeout, run cancellation), whichever comes first.
// Unlike the durable `Wait` node it holds a worker while it waits, so it is
// meant for short pauses.
func Sleep() Action {
	return Action{
		Name: "sleep",
		Doc:  "Waits for the given duration; honours timeouts and cancellation.",
		Schema: Schema{Fields: []Field{
			{Name: "duration", Type: Duration, Required: true, Doc: `how long to wait, e.g. "200ms" or "1m30s"`},
		}},
		Run: func(ctx context.Context, c *Call) (any, error) {
			d, err := durationParam(c.Params, "duration")
			if err != nil {
				return nil, err
			}
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil, nil
			case <-ctx.Done():
				return nil, interrupted(ctx, "sleep "+d.String())
			}
		},
	}
}
