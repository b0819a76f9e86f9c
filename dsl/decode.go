package dsl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// decoder turns Values into the syntax tree. It checks only the shape of
// the file (required fields, types, allowed fields); whatever needs the
// whole workflow in view (unique ids, references, known actions) is the
// compiler's. Every method records its problems and carries on, so one
// parse reports every mistake of the file.
type decoder struct {
	file string
	errs *ErrorList
}

func (d *decoder) add(p Pos, format string, args ...any) {
	d.errs.Add(d.file, p, format, args...)
}

// isID reports whether s matches [A-Za-z0-9_-]+, the node id rule. Ids
// end up in run records and in CALLID.INNERID names, so they stay plain.
// (A loop instead of a regexp: it runs once per node.)
func isID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return s != ""
}

// isIdent reports whether s matches [A-Za-z_][A-Za-z0-9_]*: a name that
// expressions can use bare, such as params.NAME or a loop's "as".
func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' || i == 0 && c >= '0' && c <= '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// article puts "a" or "an" before a word, for messages such as "must be an
// integer" or "on an Action node".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// describe names a wrong value in a message: scalars by what was written,
// so the user recognises it, collections by their kind.
func describe(v *Value) string {
	switch v.Kind {
	case String:
		return strconv.Quote(v.Str)
	case Int, Float, Bool:
		return scalarString(v)
	}
	return v.Kind.String()
}

// scalarString is the text of a non-string scalar, as an expression or a
// version would read it.
func scalarString(v *Value) string {
	switch v.Kind {
	case Bool:
		return strconv.FormatBool(v.Bool)
	case Int:
		return strconv.FormatInt(v.Int, 10)
	case Float:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case String:
		return v.Str
	}
	return ""
}

// unknown reports a key that is not one of allowed, with a hint when the
// key looks like a misspelling of one. It returns the hinted name, so the
// caller can skip saying that the intended field is missing: the hint
// already says so.
func (d *decoder) unknown(f *Field, allowed []string) string {
	s := Suggest(f.Key, allowed)
	if s != "" {
		d.add(f.KeyPos, "unknown field %q; did you mean %q?", f.Key, s)
	} else {
		d.add(f.KeyPos, "unknown field %q", f.Key)
	}
	return s
}

// fieldSet remembers which keys a mapping has, counting a misspelt key
// as the field it was hinted to be.
type fieldSet map[string]bool

// require reports each name that the mapping at p lacks.
func (d *decoder) require(have fieldSet, p Pos, names ...string) {
	for _, name := range names {
		if !have[name] {
			d.add(p, "missing required field %q", name)
		}
	}
}

// isAbsent treats "key:" with nothing after it like a missing key, which is
// what a user who commented out the contents means.
func isAbsent(v *Value) bool { return v == nil || v.Kind == Null }

// str reads a string field; an empty string is refused when nonEmpty.
func (d *decoder) str(name string, v *Value, nonEmpty bool) (string, bool) {
	if v.Kind != String {
		d.add(v.Pos, "%q must be a string, got %s", name, v.Kind)
		return "", false
	}
	if nonEmpty && strings.TrimSpace(v.Str) == "" {
		d.add(v.Pos, "%q must not be empty", name)
		return "", false
	}
	return v.Str, true
}

// integer reads an integer field of at least lo.
// A bad value is reported and reads as 0.
func (d *decoder) integer(name string, v *Value, lo int) int {
	if v.Kind != Int || v.Int < int64(lo) || v.Int > 1<<31-1 {
		d.add(v.Pos, "%q must be an integer >= %d, got %s", name, lo, describe(v))
		return 0
	}
	return int(v.Int)
}

// expression reads a field holding a bare expression. Booleans and numbers
// are expressions too ("while: true"); they are kept as their text so that
// the compiler sees one form.
func (d *decoder) expression(name string, v *Value) *Value {
	switch v.Kind {
	case String:
		if strings.TrimSpace(v.Str) == "" {
			d.add(v.Pos, "%q must not be empty", name)
			return nil
		}
		return v
	case Bool, Int, Float:
		return &Value{Kind: String, Pos: v.Pos, Str: scalarString(v)}
	}
	d.add(v.Pos, "%q must be an expression (a string), got %s", name, v.Kind)
	return nil
}

// duration reads a literal Go duration that must be more than zero.
func (d *decoder) duration(name string, v *Value) *Duration {
	if v.Kind != String {
		d.add(v.Pos, "%q must be a duration such as \"30s\", got %s%s", name, describe(v), UnitHint(v.Go()))
		return nil
	}
	dur, err := time.ParseDuration(strings.TrimSpace(v.Str))
	if err != nil {
		d.add(v.Pos, "%q must be a duration such as \"30s\", got %s%s", name, describe(v), UnitHint(v.Str))
		return nil
	}
	if dur <= 0 {
		d.add(v.Pos, "%q must be more than 0, got %s", name, describe(v))
		return nil
	}
	return &Duration{D: dur, Src: v.Str, Pos: v.Pos}
}

// mapping reads an optional field holding a map of free-form values.
func (d *decoder) mapping(name string, v *Value) *Value {
	if isAbsent(v) {
		return nil
	}
	if v.Kind != Map {
		d.add(v.Pos, "%q must be a map, got %s", name, v.Kind)
		return nil
	}
	return v
}

// retry reads a retry policy.
func (d *decoder) retry(v *Value) *Retry {
	if isAbsent(v) {
		return nil
	}
	if v.Kind != Map {
		d.add(v.Pos, "%q must be a map (max_attempts, initial_interval, backoff, max_interval, jitter), got %s", "retry", v.Kind)
		return nil
	}
	r := &Retry{Pos: v.Pos}
	for _, f := range v.Map {
		fv := f.Value
		switch f.Key {
		case "max_attempts":
			r.MaxAttempts = d.integer(f.Key, fv, 1)
		case "initial_interval":
			r.InitialInterval = d.duration(f.Key, fv)
		case "max_interval":
			r.MaxInterval = d.duration(f.Key, fv)
		case "backoff":
			switch {
			case fv.Kind == Int && fv.Int >= 1:
				r.Backoff = float64(fv.Int)
			case fv.Kind == Float && fv.Float >= 1 && !math.IsInf(fv.Float, 1):
				r.Backoff = fv.Float
			default:
				d.add(fv.Pos, "%q must be a number >= 1, got %s", f.Key, describe(fv))
			}
		case "jitter":
			switch {
			case fv.Kind == Int && (fv.Int == 0 || fv.Int == 1):
				j := float64(fv.Int)
				r.Jitter = &j
			case fv.Kind == Float && fv.Float >= 0 && fv.Float <= 1:
				j := fv.Float
				r.Jitter = &j
			default:
				d.add(fv.Pos, "%q must be a number from 0 to 1, got %s", f.Key, describe(fv))
			}
		default:
			d.unknown(f, names(retryFields))
		}
	}
	if r.InitialInterval != nil && r.MaxInterval != nil && r.MaxInterval.D < r.InitialInterval.D {
		d.add(r.MaxInterval.Pos, "\"max_interval\" (%s) is shorter than \"initial_interval\" (%s)", r.MaxInterval.Src, r.InitialInterval.Src)
	}
	return r
}

// onError reads an on_error policy.
func (d *decoder) onError(v *Value) string {
	if v.Kind == String && (v.Str == "fail" || v.Str == "continue") {
		return v.Str
	}
	hint := ""
	if v.Kind == String {
		hint = Hint(v.Str, []string{"fail", "continue"})
	}
	d.add(v.Pos, "%q must be \"fail\" or \"continue\", got %s%s", "on_error", describe(v), hint)
	return ""
}

// nodeList reads a list of nodes. Elements that are not maps are reported
// and left out.
func (d *decoder) nodeList(name string, v *Value) []*Node {
	if v.Kind != List {
		d.add(v.Pos, "%q must be a list of nodes, got %s", name, v.Kind)
		return nil
	}
	out := make([]*Node, 0, len(v.List))
	for _, e := range v.List {
		if n := d.node(e); n != nil {
			out = append(out, n)
		}
	}
	return out
}

// UnitHint suggests the unit a duration written as a bare number lacks
// (20 or "20": `; did you mean "20s"?`), or says nothing. A Go duration
// has no default unit, and seconds are what such a number most often
// means in a workflow.
func UnitHint(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int:
		s = strconv.Itoa(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return ""
	}
	if f, err := strconv.ParseFloat(s, 64); err != nil || f <= 0 || strings.ContainsAny(s, "eEnN") {
		return ""
	}
	return fmt.Sprintf("; did you mean %q? a duration needs a unit (ms, s, m, h)", s+"s")
}
