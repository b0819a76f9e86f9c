package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// view shows a run's progress: on a terminal, one line per node updated in
// place; otherwise plain log lines.
type view struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	start  time.Time
	nodes  []*nodeLine
	byID   map[string]*nodeLine
	drawn  int
	dirty  bool
	closed bool
	// failedIn remembers the loop iterations whose failure of a node was
	// printed, so a failure a catch block handled is not printed twice.
	failedIn map[string]bool
}

type nodeLine struct {
	id        string
	status    store.Status
	attempt   int
	started   time.Time
	took      time.Duration
	running   int
	done      int
	failed    int
	looped    bool
	lastError string
	printed   store.Status
}

func newView(w io.Writer, tty bool) *view {
	return &view{w: w, tty: tty, start: time.Now(), byID: map[string]*nodeLine{}}
}

func (v *view) line(id string) *nodeLine {
	n := v.byID[id]
	if n == nil {
		n = &nodeLine{id: id}
		v.byID[id] = n
		v.nodes = append(v.nodes, n)
	}
	return n
}

// event takes a runtime event; it never blocks for long.
func (v *view) event(ev runtime.Event) {
	if ev.Node == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	n := v.line(ev.Node)
	if ev.Frame != "" {
		n.looped = true
	}
	switch ev.Status {
	case store.Running:
		n.running++
		n.attempt = ev.Attempt
		if n.started.IsZero() {
			n.started = ev.Time
		}
		if n.status == "" {
			n.status = store.Running
		}
	default:
		if n.running > 0 {
			n.running--
		}
		if ev.Status == store.Failed {
			n.failed++
			n.lastError = ev.Error
		} else {
			n.done++
		}
		n.status = ev.Status
		if ev.Attempt > 0 {
			n.attempt = ev.Attempt
		}
		switch {
		case !ev.Started.IsZero() && !ev.Time.IsZero():
			n.took = ev.Time.Sub(ev.Started)
		case !n.started.IsZero() && !ev.Time.IsZero() && !n.looped:
			// A composite node reports its start when it is entered.
			n.took = ev.Time.Sub(n.started)
		}
		// A node whose failure a catch block handled is left again when the
		// block ends; report it once.
		if !v.tty && v.firstReport(n, ev) {
			v.plain(n, ev)
		}
	}
	v.dirty = true
}

// firstReport says whether a plain line should be printed for ev: once per
// top-level node, and once per failed iteration of a node in a loop.
func (v *view) firstReport(n *nodeLine, ev runtime.Event) bool {
	if !n.looped {
		if n.printed == ev.Status {
			return false
		}
		n.printed = ev.Status
		return true
	}
	if ev.Status != store.Failed {
		return false
	}
	key := ev.Node + "|" + ev.Frame
	if v.failedIn[key] {
		return false
	}
	if v.failedIn == nil {
		v.failedIn = map[string]bool{}
	}
	v.failedIn[key] = true
	return true
}

func (v *view) plain(n *nodeLine, ev runtime.Event) {
	msg := fmt.Sprintf("%8.3fs  %-24s %s", time.Since(v.start).Seconds(), n.id, ev.Status)
	if n.attempt > 1 {
		msg += fmt.Sprintf("  attempt %d", n.attempt)
	}
	if n.took > 0 {
		msg += "  " + fmtDur(n.took)
	}
	if ev.Error != "" {
		msg += "  " + ev.Error
	}
	fmt.Fprintln(v.w, msg)
}

// log prints a run's log line above the live block.
func (v *view) log(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clear()
	fmt.Fprintln(v.w, line)
	v.dirty = true
}

func (v *view) clear() {
	if v.tty && v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\x1b[J", v.drawn)
		v.drawn = 0
	}
}

func (v *view) draw() {
	if !v.tty || !v.dirty {
		return
	}
	v.clear()
	var b strings.Builder
	for _, n := range v.nodes {
		b.WriteString(v.render(n))
		b.WriteByte('\n')
	}
	fmt.Fprint(v.w, b.String())
	v.drawn = len(v.nodes)
	v.dirty = false
}

func (v *view) render(n *nodeLine) string {
	icon := map[store.Status]string{store.Running: "\x1b[33m●\x1b[0m", store.Succeeded: "\x1b[32m✓\x1b[0m",
		store.Failed: "\x1b[31m✗\x1b[0m", store.Cancelled: "\x1b[90m-\x1b[0m"}[n.status]
	status := string(n.status)
	if n.running > 0 {
		status = "running"
		icon = "\x1b[33m●\x1b[0m"
	}
	s := fmt.Sprintf(" %s %-28s %-10s", icon, n.id, status)
	if n.looped {
		s += fmt.Sprintf(" %d done", n.done)
		if n.failed > 0 {
			s += fmt.Sprintf(", %d failed", n.failed)
		}
		if n.running > 0 {
			s += fmt.Sprintf(", %d running", n.running)
		}
	}
	if n.attempt > 1 {
		s += fmt.Sprintf("  attempt %d", n.attempt)
	}
	switch {
	case n.running > 0 && !n.started.IsZero():
		s += "  " + fmtDur(time.Since(n.started))
	case n.took > 0:
		s += "  " + fmtDur(n.took)
	}
	if n.lastError != "" && n.status == store.Failed {
		s += "  \x1b[31m" + n.lastError + "\x1b[0m"
	}
	return s
}

// loop redraws the live block until ctx is done.
func (v *view) loop(ctx context.Context) {
	if !v.tty {
		return
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			v.mu.Lock()
			v.dirty = v.dirty || v.anyRunning()
			v.draw()
			v.mu.Unlock()
		}
	}
}

func (v *view) anyRunning() bool {
	for _, n := range v.nodes {
		if n.running > 0 {
			return true
		}
	}
	return false
}

// finish draws the final state once and stops updating.
func (v *view) finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.dirty = true
	v.draw()
	v.closed = true
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}

// viewHandler sends the runs' log lines through the view, so they print
// above the live block instead of tearing it.
type viewHandler struct {
	v     *view
	attrs []slog.Attr
	level slog.Level
}

func (h *viewHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *viewHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%8.3fs  %-5s %s", time.Since(h.v.start).Seconds(), r.Level.String(), r.Message)
	add := func(a slog.Attr) bool {
		if a.Key == "run" {
			return true
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	h.v.log(b.String())
	return nil
}

func (h *viewHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &viewHandler{v: h.v, attrs: append(append([]slog.Attr(nil), h.attrs...), as...), level: h.level}
}

func (h *viewHandler) WithGroup(string) slog.Handler { return h }
