package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/store"
)

// A line wider than the terminal wraps onto more rows, an error of several
// lines takes one row per line, and wide characters count two cells: the
// rows a frame says it took are the rows the next redraw moves up by.
func TestFrameCountsTerminalRows(t *testing.T) {
	require.Equal(t, 1, rowsOf("", 20))
	require.Equal(t, 1, rowsOf(strings.Repeat("x", 20), 20), "a line that fills the width exactly")
	require.Equal(t, 3, rowsOf(strings.Repeat("x", 45), 20))
	require.Equal(t, 1, rowsOf("\x1b[31m"+strings.Repeat("x", 20)+"\x1b[0m", 20), "colour codes take no cells")
	require.Equal(t, 2, rowsOf(strings.Repeat("日", 15), 20), "wide characters take two cells")
	require.Equal(t, 3, rowsOf("boom\nat line 2\nat line 3", 20))
	require.Equal(t, 4, rowsOf("boom\n"+strings.Repeat("y", 30)+"\nend", 20))

	out, rows := frame([]string{strings.Repeat("a", 45), "b\nc"}, []bool{false, false}, 20, 0)
	require.Equal(t, strings.Repeat("a", 45)+"\nb\nc\n", out)
	require.Equal(t, 5, rows)
}

// A block taller than the terminal keeps to its height less one row:
// finished lines go first, then the oldest, and a line says how many are
// not shown.
func TestFrameKeepsToTerminalHeight(t *testing.T) {
	var lines []string
	var done []bool
	for i := range 10 {
		lines = append(lines, "node"+strconv.Itoa(i))
		done = append(done, i%2 == 0) // node0, node2, ... succeeded
	}
	out, rows := frame(lines, done, 80, 6)
	require.Equal(t, "   … 6 more\nnode3\nnode5\nnode7\nnode9\n", out)
	require.Equal(t, 5, rows)
	require.LessOrEqual(t, rows, 6-1)

	// Fewer lines than rows: all of them, nothing hidden.
	out, rows = frame(lines[:3], done[:3], 80, 6)
	require.Equal(t, "node0\nnode1\nnode2\n", out)
	require.Equal(t, 3, rows)

	// Wrapped lines count against the height too.
	out, rows = frame([]string{strings.Repeat("w", 50), "x", "y"}, []bool{true, false, false}, 20, 5)
	require.Equal(t, "   … 1 more\nx\ny\n", out)
	require.Equal(t, 3, rows)
}

var upRE = regexp.MustCompile(`\x1b\[(\d+)A`)

// Each redraw moves up by the rows the previous frame took on a terminal of
// the view's width, so wrapped lines and multi-line errors leave no stale
// rows behind.
func TestRedrawMovesUpByWrappedRows(t *testing.T) {
	var buf bytes.Buffer
	v := newView(&buf, true)
	v.size = func() (int, int) { return 40, 100 }
	t0 := time.Now()
	v.event(runtime.Event{Node: "a", Status: store.Running, Attempt: 1, Time: t0})
	v.event(runtime.Event{Node: "a", Status: store.Failed, Attempt: 1, Started: t0, Time: t0.Add(time.Millisecond),
		Error: "first line of a long error message\nsecond line\nthird line"})
	v.draw()
	first := buf.String()
	want := 0
	for _, l := range strings.Split(strings.TrimSuffix(first, "\n"), "\n") {
		want += rowsOf(l, 40)
	}
	require.Greater(t, want, 3, "the line wrapped:\n%s", first)
	require.Equal(t, want, v.drawn)

	buf.Reset()
	v.dirty = true
	v.draw()
	m := upRE.FindStringSubmatch(buf.String())
	require.NotNil(t, m, "%q", buf.String())
	require.Equal(t, strconv.Itoa(want), m[1])
	require.True(t, strings.HasPrefix(buf.String(), "\r"), "erasing starts at the first column (a ^C may have moved the cursor)")
}

// A log line prints above the block and the block is drawn again at once.
func TestLogLineKeepsTheBlock(t *testing.T) {
	var buf bytes.Buffer
	v := newView(&buf, true)
	v.event(runtime.Event{Node: "a", Status: store.Running, Attempt: 1, Time: time.Now()})
	v.draw()
	buf.Reset()
	v.log("hello")
	require.True(t, strings.HasPrefix(buf.String(), "\r\x1b[1A\x1b[J"), "%q", buf.String())
	out := ansiRE.ReplaceAllString(buf.String(), "")
	require.Regexp(t, `^\rhello\n\r ● a +running`, out)
}

// A node that succeeded after retries ends succeeded: each attempt starts
// it again in the same frame, and it ends once.
func TestRetriedNodeEndsSucceeded(t *testing.T) {
	v := newView(&bytes.Buffer{}, true)
	t0 := time.Now()
	for a := 1; a <= 3; a++ {
		v.event(runtime.Event{Node: "a", Status: store.Running, Attempt: a, Time: t0})
	}
	v.event(runtime.Event{Node: "a", Status: store.Succeeded, Attempt: 3, Started: t0, Time: t0.Add(time.Millisecond)})
	line := ansiRE.ReplaceAllString(v.render(v.byID["a"]), "")
	require.Contains(t, line, "succeeded")
	require.NotContains(t, line, "running")
	require.Contains(t, line, "attempt 3")
}

// When an iteration of a loop fails and the others are cancelled with the
// run, the node's line says it failed and in which item, as the run's
// error does, on a terminal and off one.
func TestFailedIterationIsNamed(t *testing.T) {
	var plain bytes.Buffer
	for _, tty := range []bool{true, false} {
		v := newView(&plain, tty)
		t0 := time.Now()
		for i := 1; i <= 3; i++ {
			v.event(runtime.Event{Node: "body", Frame: "lines[" + strconv.Itoa(i) + "]", Status: store.Running, Attempt: 1, Time: t0})
		}
		v.event(runtime.Event{Node: "body", Frame: "lines[3]", Status: store.Failed, Attempt: 1, Started: t0, Time: t0, Error: "boom"})
		v.event(runtime.Event{Node: "body", Frame: "lines[1]", Status: store.Cancelled, Attempt: 1, Started: t0, Time: t0})
		v.event(runtime.Event{Node: "body", Frame: "lines[2]", Status: store.Cancelled, Attempt: 1, Started: t0, Time: t0})
		v.final = true
		line := ansiRE.ReplaceAllString(v.render(v.byID["body"]), "")
		require.Regexp(t, `body +failed .*failed in lines\[3\]: boom`, line)
	}
	require.Contains(t, plain.String(), "failed in lines[3]: boom")
}

// A skipped node shows its own icon and state, and counts as finished.
func TestSkippedNodeIsShown(t *testing.T) {
	v := newView(&bytes.Buffer{}, true)
	v.event(runtime.Event{Node: "deploy", Status: store.Skipped, Time: time.Now()})
	line := ansiRE.ReplaceAllString(v.render(v.byID["deploy"]), "")
	require.Regexp(t, `^ ○ deploy +skipped`, line)
}
