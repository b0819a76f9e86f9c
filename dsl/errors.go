package dsl

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Error is one problem found in a workflow, pointing at the YAML node that
// caused it.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

// Error formats the problem as FILE:LINE:COL: message, the form editors and
// CI log parsers understand.
func (e *Error) Error() string {
	if !e.Pos.IsValid() {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// ErrorList collects every problem of a workflow instead of stopping at the
// first, so a user fixes them all in one round.
type ErrorList []*Error

// Add appends a positioned error.
func (l *ErrorList) Add(file string, pos Pos, format string, args ...any) {
	*l = append(*l, &Error{File: file, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Error joins all messages, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Sort orders the errors by position and drops exact duplicates.
func (l *ErrorList) Sort() {
	s := *l
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Pos.Col < b.Pos.Col
	})
	out := s[:0]
	for i, e := range s {
		if i > 0 && e.Error() == s[i-1].Error() {
			continue
		}
		out = append(out, e)
	}
	*l = out
}

// Print writes every error; with a source and snippet set, each is followed
// by the offending line and a caret under the column.
func (l ErrorList) Print(w io.Writer, src []byte, snippet bool) {
	var lines []string
	if snippet && src != nil {
		lines = strings.Split(string(src), "\n")
	}
	for _, e := range l {
		fmt.Fprintln(w, e.Error())
		if lines == nil || !e.Pos.IsValid() || e.Pos.Line > len(lines) {
			continue
		}
		text := strings.TrimRight(lines[e.Pos.Line-1], "\r")
		fmt.Fprintf(w, "  %4d | %s\n", e.Pos.Line, text)
		col := e.Pos.Col
		if col < 1 {
			col = 1
		}
		// Keep tabs so the caret lines up under tab-indented text.
		pad := make([]byte, 0, col)
		for i := 0; i < col-1 && i < len(text); i++ {
			if text[i] == '\t' {
				pad = append(pad, '\t')
			} else {
				pad = append(pad, ' ')
			}
		}
		fmt.Fprintf(w, "       | %s^\n", pad)
	}
}
