package action

import (
	"context"
	"log/slog"
)

// logLevels maps the DSL's level names to slog levels.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// Log returns the `log` action: it writes `msg` to the run's log at `level`
// (default info), tagged with the node id so a line can be traced back to
// the node that wrote it, and to the run's journal.
func Log() Action {
	return Action{
		Name:   "log",
		Inline: true,
		Doc:    "Writes a line to the run's log; outputs null.",
		Schema: Schema{Fields: []Field{
			{Name: "msg", Type: String, Required: true, Doc: "the line to write"},
			{Name: "level", Type: String, Default: "info", Enum: []string{"debug", "info", "warn", "error"}, Doc: "the severity"},
		}},
		Run: func(ctx context.Context, c *Call) (any, error) {
			msg := stringParam(c.Params, "msg")
			name := stringParam(c.Params, "level")
			lvl, ok := logLevels[name]
			if !ok {
				lvl, name = slog.LevelInfo, "info"
			}
			c.logger().Log(ctx, lvl, msg, slog.String("node", c.NodeID))
			c.JournalLine(name, "", msg)
			return nil, nil
		},
	}
}
