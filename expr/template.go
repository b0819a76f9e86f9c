// Package expr turns the expressions and `${{ }}` templates of a workflow
// into expr-lang programs: it translates a YAML value into one expr-lang
// source, finds the names that source reads, binds them for the runtime,
// folds what is constant, and runs the result.
//
// Templates. A string may embed `${{ expr }}`. A string that is exactly one
// template (nothing before "${{" or after "}}", not even a space) keeps the
// expression's type; any other string formats each expression with the helper function FormatFunc
// and concatenates the parts. A params map therefore becomes a single map
// expression, evaluated in one VM run:
//
//	{a: "${{ x*2 }}", b: "hi ${{ y }}!", c: plain}
//	→ {"a": (x*2), "b": "hi " + __fmt(y) + "!", "c": "plain"}
//
// The expression keeps where each template came from (blueprint.Span), so
// an error names the template that failed, not the map.
//
// Names beginning with two underscores are reserved for such helpers.
package expr

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/skript-dev/skript/dsl"
)

// FormatFunc is the name of the helper that formats one template part for
// concatenation. The double underscore keeps it out of the way of workflow
// authors; it is registered in every compiled program.
const FormatFunc = "__fmt"

const (
	openMark  = "${{"
	closeMark = "}}"
)

// segment is one `${{ }}` of a string value.
type segment struct {
	start int    // byte offset of "${{" in the string
	expr  string // the text between the marks
	off   int    // byte offset of expr in the string
}

// scanTemplates finds the templates of s. It returns a message (and the
// byte offset it concerns) when a template is not closed or is empty. The
// closing "}}" is searched outside string literals and balanced braces, so
// a map literal such as `${{ {a: {b: 1}} }}` stays whole.
func scanTemplates(s string) ([]segment, string, int) {
	var segs []segment
	i := 0
	for {
		j := strings.Index(s[i:], openMark)
		if j < 0 {
			return segs, "", 0
		}
		start := i + j
		if start > 0 && s[start-1] == '$' {
			// "$${{" is a literal "${{" (see Unescape).
			i = start + len(openMark)
			continue
		}
		body := start + len(openMark)
		end := findClose(s, body)
		if end < 0 {
			return segs, `template "${{" is not closed by "}}"`, start
		}
		text := s[body:end]
		if strings.TrimSpace(text) == "" {
			return segs, `empty template "${{ }}"`, start
		}
		segs = append(segs, segment{start: start, expr: text, off: body})
		i = end + len(closeMark)
	}
}

// findClose returns the offset of the "}}" that closes a template whose
// body starts at i, or -1.
func findClose(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch c := s[i]; c {
		case '"', '\'', '`':
			i = skipString(s, i)
			continue
		case '{':
			depth++
		case '}':
			if depth == 0 {
				if strings.HasPrefix(s[i:], closeMark) {
					return i
				}
				// A lone "}" at depth 0 is a syntax error the expression
				// parser will report; keep looking for the end.
			} else {
				depth--
			}
		}
		i++
	}
	return -1
}

// skipString returns the offset just past the string literal opening at i
// (or len(s) when it is not closed).
func skipString(s string, i int) int {
	q := s[i]
	i++
	for i < len(s) {
		switch s[i] {
		case '\\':
			if q != '`' {
				i += 2
				continue
			}
		case q:
			return i + 1
		}
		i++
	}
	return len(s)
}

// wholeTemplate reports whether s is exactly one template and returns it.
// Whitespace inside the braces belongs to the expression; whitespace
// outside them is text, so " ${{ 1 }}" is the string " 1", not the
// number 1. With aroundSpace set, whitespace around the template is
// allowed: a field that holds a bare expression (condition, for_each...)
// has no text to keep, only an expression to find.
func wholeTemplate(s string, segs []segment, aroundSpace bool) (segment, bool) {
	if len(segs) != 1 {
		return segment{}, false
	}
	g := segs[0]
	before := s[:g.start]
	after := s[g.off+len(g.expr)+len(closeMark):]
	if aroundSpace {
		before, after = strings.TrimSpace(before), strings.TrimSpace(after)
	}
	if before != "" || after != "" {
		return segment{}, false
	}
	return g, true
}

// quote renders a Go string as an expr-lang string literal. strconv.Quote
// only emits escapes (\n, \xNN, \uNNNN, \UNNNNNNNN, \", \\) that the
// expr-lang lexer reads back.
func quote(s string) string {
	if !utf8.ValidString(s) {
		// Invalid bytes would become \xNN escapes that expr-lang decodes as
		// code points, not bytes; replace them instead of changing meaning
		// silently in a different way.
		s = strings.ToValidUTF8(s, string(utf8.RuneError))
	}
	return strconv.Quote(s)
}

// literal renders a plain Go number as expr-lang source.
func intLiteral(i int64) string {
	if i == math.MinInt64 {
		// The lexer reads the digits before applying the minus, and
		// 9223372036854775808 does not fit an int.
		return "(-9223372036854775807 - 1)"
	}
	return strconv.FormatInt(i, 10)
}

func floatLiteral(f float64) string {
	switch {
	case math.IsNaN(f):
		return "(0.0 / 0.0)"
	case math.IsInf(f, 1):
		return "(1.0 / 0.0)"
	case math.IsInf(f, -1):
		return "(-1.0 / 0.0)"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0" // keep it a float literal
	}
	return s
}

// needsNewline reports whether an expression must be followed by a newline
// before text is appended to it: a trailing `//` comment would otherwise
// swallow the closing parenthesis.
func needsNewline(e string) bool {
	return strings.Contains(e, "//") || strings.ContainsRune(e, '\n')
}

// isBlank reports whether s holds only white space.
func isBlank(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) }) < 0
}

// Locator maps an offset inside a YAML string to a source position. Only a
// string whose text appears verbatim on its line (no escapes, no folding
// before the offset) gets an exact column; otherwise the value's own
// position is the best effort.
type Locator struct {
	lines []string
}

// NewLocator indexes the lines of a workflow source.
func NewLocator(src []byte) *Locator {
	return &Locator{lines: strings.Split(string(src), "\n")}
}

// raw returns the source text from the value's position to the end of its
// line.
func (l *Locator) raw(v *dsl.Value) (string, bool) {
	if l == nil || v.Pos.Line < 1 || v.Pos.Line > len(l.lines) {
		return "", false
	}
	line := l.lines[v.Pos.Line-1]
	// Columns count characters; walk to the value's start.
	start := 0
	for col := 1; col < v.Pos.Col; col++ {
		if start >= len(line) {
			return "", false
		}
		_, n := utf8.DecodeRuneInString(line[start:])
		start += n
	}
	return strings.TrimRight(line[start:], "\r"), true
}

// commentFollows reports whether the plain (unquoted) scalar v is followed
// on its line by " #": YAML took the rest of the line for a comment, which
// silently cuts expressions such as `map(list, #.v)` short.
func (l *Locator) commentFollows(v *dsl.Value) bool {
	raw, ok := l.raw(v)
	if !ok || !strings.HasPrefix(raw, v.Str) {
		return false
	}
	rest := raw[len(v.Str):]
	trimmed := strings.TrimLeft(rest, " \t")
	return len(trimmed) < len(rest) && strings.HasPrefix(trimmed, "#")
}

// At returns the position of byte offset off of the string value v.
func (l *Locator) At(v *dsl.Value, off int) dsl.Pos {
	if off <= 0 || off > len(v.Str) {
		return v.Pos
	}
	raw, ok := l.raw(v)
	if !ok {
		return v.Pos
	}
	col := v.Pos.Col
	if strings.HasPrefix(raw, `"`) || strings.HasPrefix(raw, `'`) {
		raw = raw[1:]
		col++
	}
	prefix := v.Str[:off]
	if !strings.HasPrefix(raw, prefix) {
		return v.Pos
	}
	return dsl.Pos{Line: v.Pos.Line, Col: col + utf8.RuneCountInString(prefix)}
}

// escapedMark is how a string writes a literal "${{": doubling the "$",
// as Compose and Make escape theirs.
const escapedMark = "$" + openMark

// Unescape turns the escaped marks of a string's literal text into the
// "${{" they stand for.
func Unescape(s string) string {
	if !strings.Contains(s, escapedMark) {
		return s
	}
	return strings.ReplaceAll(s, escapedMark, openMark)
}
