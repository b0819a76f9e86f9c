package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// view shows a run's progress: on a terminal, one line per node updated in
// place; otherwise plain log lines.
//
// A line has two sources. Events come from the tasks this process runs, as
// they happen; the run's records come from its journal (feed), whoever runs
// its tasks (`skript worker` processes on a shared store), or, on a store
// with no journal, from reading them every few hundred milliseconds
// (follow). The records are the truth, but a read behind: a line shows
// whichever source has the later news, and once the run has ended, only
// the final records.
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
	// final is set once the lines hold the run's final records.
	final bool
	// depth says how many loops enclose each node (nil when unknown): a
	// record in a deeper frame is not the node's own.
	depth map[string]int
	// failedIn remembers the loop iterations whose failure of a node was
	// printed, so a failure a catch block handled is not printed twice.
	failedIn map[string]bool
	// size reports the terminal's width and height in cells (0 when
	// unknown): a redraw must move up by the rows the last frame took,
	// wrapped lines included, and a frame taller than the terminal cannot
	// be erased at all.
	size func() (width, height int)
}

// state is what one source knows of a node. For a node inside a loop the
// counts are over its iterations, and status, took and lastError are those
// of the latest one.
type state struct {
	status    store.Status
	attempt   int
	started   time.Time
	took      time.Duration
	running   int
	done      int
	failed    int
	lastError string
	// failedAt is the frame of the latest failure of a node in a loop
	// (e.g. "lines[3]"), to say which item failed.
	failedAt string
	// asOf is the time of the latest news in this state, to tell which
	// source is ahead.
	asOf time.Time
}

type nodeLine struct {
	id     string
	looped bool
	// local is what this process's events said; rec what the records said
	// at the last poll (nil until one showed the node).
	local   state
	rec     *state
	printed store.Status
	// active holds the frames in which this process runs the node: a
	// retried attempt starts again in the same frame and ends once.
	active map[string]bool
}

func newView(w io.Writer, tty bool) *view {
	v := &view{w: w, tty: tty, start: time.Now(), byID: map[string]*nodeLine{}}
	if f, ok := w.(*os.File); ok && tty {
		v.size = func() (int, int) {
			w, h, err := term.GetSize(int(f.Fd()))
			if err != nil {
				return 0, 0
			}
			return w, h
		}
	}
	return v
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
	l := &n.local
	if ev.Time.After(l.asOf) {
		l.asOf = ev.Time
	}
	switch ev.Status {
	case store.Running:
		if n.active == nil {
			n.active = map[string]bool{}
		}
		n.active[ev.Frame] = true
		l.running = len(n.active)
		l.attempt = ev.Attempt
		if l.started.IsZero() {
			l.started = ev.Time
		}
		if l.status == "" {
			l.status = store.Running
		}
	default:
		delete(n.active, ev.Frame)
		l.running = len(n.active)
		if ev.Status == store.Failed {
			l.failed++
			l.lastError = ev.Error
			l.failedAt = ev.Frame
		} else {
			l.done++
		}
		l.status = ev.Status
		if ev.Attempt > 0 {
			l.attempt = ev.Attempt
		}
		switch {
		case !ev.Started.IsZero() && !ev.Time.IsZero():
			l.took = ev.Time.Sub(ev.Started)
		case !l.started.IsZero() && !ev.Time.IsZero() && !n.looped:
			// A composite node reports its start when it is entered.
			l.took = ev.Time.Sub(l.started)
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
	if n.local.attempt > 1 {
		msg += fmt.Sprintf("  attempt %d", n.local.attempt)
	}
	if n.local.took > 0 {
		msg += "  " + fmtDur(n.local.took)
	}
	if ev.Error != "" {
		msg += "  "
		if n.looped && ev.Frame != "" {
			msg += "failed in " + ev.Frame + ": "
		}
		msg += ev.Error
	}
	fmt.Fprintln(v.w, msg)
}

// log prints a run's log line above the live block.
func (v *view) log(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clear()
	fmt.Fprintln(v.w, line)
	// Drawn again at once: waiting for the next tick leaves the block
	// missing after every log line.
	v.dirty = true
	if !v.closed {
		v.draw()
	}
}

// clear erases the live block. It starts from the line's first column: a
// ^C the terminal echoed below the block has moved the cursor.
func (v *view) clear() {
	if !v.tty {
		return
	}
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\r\x1b[%dA\x1b[J", v.drawn)
		v.drawn = 0
	} else {
		fmt.Fprint(v.w, "\r\x1b[J")
	}
}

func (v *view) draw() {
	if !v.tty || !v.dirty {
		return
	}
	width, height := 0, 0
	if v.size != nil {
		width, height = v.size()
	}
	lines := make([]string, len(v.nodes))
	done := make([]bool, len(v.nodes))
	for i, n := range v.nodes {
		lines[i] = v.render(n)
		st := v.shown(n)
		// A skipped node is as finished as a succeeded one: it goes first
		// when the block is taller than the terminal.
		done[i] = st.running == 0 && (st.status == store.Succeeded || st.status == store.Skipped)
	}
	if v.final {
		// The last frame is never erased: all of it, however tall.
		height = 0
	}
	out, rows := frame(lines, done, width, height)
	v.clear()
	fmt.Fprint(v.w, out)
	v.drawn = rows
	v.dirty = false
}

// frame lays out a live block of lines on a terminal width cells wide and
// height rows high (0: unknown), and says how many rows it takes, wrapped
// lines counted. A block taller than the terminal could not be erased and
// would fill the scrollback with copies of itself, so it keeps to height-1
// rows: lines of nodes that succeeded (done) go first, then the oldest,
// and a "… N more" line says how many are not shown.
func frame(lines []string, done []bool, width, height int) (string, int) {
	rs := make([]int, len(lines))
	total := 0
	for i, l := range lines {
		rs[i] = rowsOf(l, width)
		total += rs[i]
	}
	keep := make([]bool, len(lines))
	for i := range keep {
		keep[i] = true
	}
	hidden := 0
	if height > 1 && total > height-1 {
		// One row for the "… N more" line, one left for the cursor.
		budget := height - 2
		for pass := 0; pass < 2 && total > budget; pass++ {
			for i := range lines {
				if total <= budget {
					break
				}
				if keep[i] && (pass == 1 || done[i]) {
					keep[i] = false
					total -= rs[i]
					hidden++
				}
			}
		}
	}
	var b strings.Builder
	rows := 0
	if hidden > 0 {
		more := "   … " + strconv.Itoa(hidden) + " more"
		b.WriteString(more + "\n")
		rows += rowsOf(more, width)
	}
	for i, l := range lines {
		if keep[i] {
			b.WriteString(l)
			b.WriteByte('\n')
			rows += rs[i]
		}
	}
	return b.String(), rows
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// rowsOf says how many terminal rows s takes, its own line breaks and
// wrapping at width cells (0: unknown, no wrapping) counted. A line that
// fills the width exactly takes one row: the terminal wraps only when the
// next character comes.
func rowsOf(s string, width int) int {
	rows := 0
	for _, l := range strings.Split(s, "\n") {
		w := runewidth.StringWidth(sgr.ReplaceAllString(l, ""))
		if width <= 0 || w <= width {
			rows++
			continue
		}
		rows += (w + width - 1) / width
	}
	return rows
}

func (v *view) render(n *nodeLine) string {
	st := v.shown(n)
	icon := map[store.Status]string{store.Running: "\x1b[33m●\x1b[0m", store.Succeeded: "\x1b[32m✓\x1b[0m",
		store.Failed: "\x1b[31m✗\x1b[0m", store.Cancelled: "\x1b[90m-\x1b[0m",
		store.Skipped: "\x1b[90m○\x1b[0m"}[st.status]
	status := string(st.status)
	if st.running > 0 {
		status = "running"
		icon = "\x1b[33m●\x1b[0m"
	}
	if n.looped && st.failed > 0 && st.running == 0 && st.status == store.Cancelled {
		// An iteration failed and the others were cancelled with the run:
		// the run's error names this node, and so does its line.
		status, icon = string(store.Failed), "\x1b[31m✗\x1b[0m"
		st.status = store.Failed
	}
	s := fmt.Sprintf(" %s %-28s %-10s", icon, n.id, status)
	if n.looped {
		s += fmt.Sprintf(" %d done", st.done)
		if st.failed > 0 {
			s += fmt.Sprintf(", %d failed", st.failed)
		}
		if st.running > 0 {
			s += fmt.Sprintf(", %d running", st.running)
		}
	}
	if st.attempt > 1 {
		s += fmt.Sprintf("  attempt %d", st.attempt)
	}
	switch {
	case st.running > 0 && !st.started.IsZero():
		s += "  " + fmtDur(time.Since(st.started))
	case st.took > 0:
		s += "  " + fmtDur(st.took)
	}
	if st.lastError != "" && st.status == store.Failed {
		msg := st.lastError
		if n.looped && st.failedAt != "" {
			msg = "failed in " + st.failedAt + ": " + msg
		}
		s += "  \x1b[31m" + msg + "\x1b[0m"
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
		if v.shown(n).running > 0 {
			return true
		}
	}
	return false
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
