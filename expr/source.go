package expr

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr/conf"

	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/value"
)

// Translator turns the YAML values of one workflow into expression
// sources. It caches the analysis of each expression text, since function
// bodies are inlined once per call and generated workflows repeat
// themselves. It is not safe for concurrent use.
type Translator struct {
	file  string
	loc   *Locator
	cache map[string]*parsed
	conf  *conf.Config
	typed *conf.Config // knows the inputs' declared types; nil when none is
}

// NewTranslator returns a translator for the workflow file with the given
// source (used to position errors inside strings; nil is allowed).
func NewTranslator(file string, src []byte) *Translator {
	t := &Translator{file: file, cache: map[string]*parsed{}, conf: newConfig()}
	if src != nil {
		t.loc = NewLocator(src)
	}
	return t
}

// DeclareInputs gives the checker the declared types of the run's inputs
// (name → string, integer, number, boolean, list or map; any other type
// means any), so that `input.n + 1` as a condition or `input.s - 1` is an
// error when n is an integer and s a string. Call it before translating:
// it forgets what was translated so far.
func (t *Translator) DeclareInputs(inputs map[string]string) {
	t.typed = newTypedConfig(inputs)
	clear(t.cache)
}

// Source is the expr-lang source of one YAML value, before the names it
// reads are bound by Bind.
type Source struct {
	file  string
	loc   *Locator
	pos   dsl.Pos
	root  *dsl.Value // the value translated
	parts []string   // concatenated, they give the source text
	exprs []piece
	// literal means the value held no template: value is the value itself.
	literal bool
	value   any
	// typ is the static type of a value that is one expression (a bare
	// field or a whole template); nil when unknown.
	typ reflect.Type
}

// piece is one expression text inside a Source.
type piece struct {
	part  int // index in parts
	p     *parsed
	v     *dsl.Value
	off   int  // byte offset of the text in v.Str
	start int  // byte offset in v.Str of its "${{" (of the text when bare)
	whole bool // the piece is all of v: v keeps the expression's type
}

// Text returns the expr-lang source as it stands (names not yet rewritten).
func (s *Source) Text() string { return strings.Join(s.parts, "") }

// Literal reports whether the value held no template, and the plain value.
func (s *Source) Literal() (any, bool) { return s.value, s.literal }

// TypeName names the static type of a value that is one expression, as
// the checker sees it: "boolean", "number", "string", "list", "map",
// "time" or "duration". It is "" when the type depends on the run's data
// (a node's output, an item, an input without a declared type), and for
// literals and concatenations.
func (s *Source) TypeName() string { return typeName(s.typ) }

// TypeNameOf is TypeName for v, a string inside the translated value (a
// param of a params map): the static type of v when it is exactly one
// template, else "".
func (s *Source) TypeNameOf(v *dsl.Value) string {
	for i := range s.exprs {
		if pc := &s.exprs[i]; pc.v == v && pc.whole {
			return typeName(pc.p.typ)
		}
	}
	return ""
}

func (t *Translator) parse(text string) *parsed {
	p, ok := t.cache[text]
	if !ok {
		p = analyze(text, t.conf, t.typed)
		t.cache[text] = p
	}
	return p
}

func (t *Translator) newSource(v *dsl.Value) *Source {
	return &Source{file: t.file, loc: t.loc, pos: v.Pos, root: v}
}

// Value translates a value of `params`, `args` or `output`: strings may
// hold templates, lists and maps are translated element by element into
// one list or map expression.
func (t *Translator) Value(v *dsl.Value) (*Source, dsl.ErrorList) {
	s := t.newSource(v)
	var errs dsl.ErrorList
	t.value(s, v, &errs)
	if len(s.exprs) == 0 {
		s.literal = true
		s.value = value.Normalize(literalGo(v))
	}
	return s, errs
}

// literalGo is v.Go() with the escaped template marks of its strings
// unescaped: the value a literal stands for.
func literalGo(v *dsl.Value) any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case dsl.String:
		return Unescape(v.Str)
	case dsl.List:
		out := make([]any, len(v.List))
		for i, e := range v.List {
			out[i] = literalGo(e)
		}
		return out
	case dsl.Map:
		out := make(map[string]any, len(v.Map))
		for _, f := range v.Map {
			out[f.Key] = literalGo(f.Value)
		}
		return out
	}
	return v.Go()
}

func (t *Translator) value(s *Source, v *dsl.Value, errs *dsl.ErrorList) {
	switch v.Kind {
	case dsl.Null:
		s.parts = append(s.parts, "nil")
	case dsl.Bool:
		if v.Bool {
			s.parts = append(s.parts, "true")
		} else {
			s.parts = append(s.parts, "false")
		}
	case dsl.Int:
		s.parts = append(s.parts, intLiteral(v.Int))
	case dsl.Float:
		s.parts = append(s.parts, floatLiteral(v.Float))
	case dsl.String:
		t.template(s, v, errs)
	case dsl.List:
		s.parts = append(s.parts, "[")
		for i, e := range v.List {
			if i > 0 {
				s.parts = append(s.parts, ", ")
			}
			t.value(s, e, errs)
		}
		s.parts = append(s.parts, "]")
	case dsl.Map:
		s.parts = append(s.parts, "{")
		for i, f := range v.Map {
			if i > 0 {
				s.parts = append(s.parts, ", ")
			}
			s.parts = append(s.parts, quote(f.Key)+": ")
			t.value(s, f.Value, errs)
		}
		s.parts = append(s.parts, "}")
	default:
		s.parts = append(s.parts, "nil")
	}
}

// template translates one string value.
func (t *Translator) template(s *Source, v *dsl.Value, errs *dsl.ErrorList) {
	segs, msg, at := scanTemplates(v.Str)
	if msg != "" {
		errs.Add(t.file, t.loc.At(v, at), "%s", msg)
		s.parts = append(s.parts, quote(v.Str))
		return
	}
	if len(segs) == 0 {
		s.parts = append(s.parts, quote(Unescape(v.Str)))
		return
	}
	if g, ok := wholeTemplate(v.Str, segs, false); ok {
		// Exactly one template: the value keeps the expression's type.
		p := t.expr(s, v, g, "(", ")", errs)
		s.exprs[len(s.exprs)-1].whole = true
		if v == s.root {
			s.typ = p.typ
		}
		return
	}
	// Otherwise: literal parts and formatted expressions, concatenated.
	n := 0
	add := func() {
		if n > 0 {
			s.parts = append(s.parts, " + ")
		}
		n++
	}
	last := 0
	for _, g := range segs {
		if lit := v.Str[last:g.start]; lit != "" {
			add()
			s.parts = append(s.parts, quote(Unescape(lit)))
		}
		add()
		t.expr(s, v, g, FormatFunc+"(", ")", errs)
		last = g.off + len(g.expr) + len(closeMark)
	}
	if last < len(v.Str) {
		add()
		s.parts = append(s.parts, quote(Unescape(v.Str[last:])))
	}
}

// predicateMap finds a map literal where expr-lang expects a predicate:
// `map(xs, {k: #})` parses `{k: #}` as a block whose body is `k: #`.
var predicateMap = regexp.MustCompile(`\b(map|filter|all|any|none|one|count|sum|find|findIndex|findLast|findLastIndex|groupBy|sortBy|reduce)\([^{}]*,\s*\{\s*(\w+|"[^"]*"|'[^']*')\s*:`)

// expr adds one expression text, wrapped in open/close, and checks its
// syntax and types.
func (t *Translator) expr(s *Source, v *dsl.Value, g segment, open, close string, errs *dsl.ErrorList) *parsed {
	p := t.parse(g.expr)
	if p.err != "" {
		hint := ""
		if t.loc.commentFollows(v) {
			hint = `; the " #" after it starts a YAML comment: quote the whole value`
		}
		if predicateMap.MatchString(g.expr) {
			hint += "; a map literal right after the comma of map, filter, all, any, sortBy... reads as the body of a predicate: wrap it in parentheses, as in map(xs, ({k: #}))"
		}
		errs.Add(t.file, t.loc.At(v, g.start), "invalid expression: %s%s", skriptTypeNames(p.err), hint)
	}
	for _, m := range p.mistakes {
		errs.Add(t.file, t.loc.At(v, g.off+byteOffset(g.expr, m.at)), "%s", m.msg)
	}
	if needsNewline(g.expr) {
		close = "\n" + close
	}
	s.parts = append(s.parts, open)
	s.exprs = append(s.exprs, piece{part: len(s.parts), p: p, v: v, off: g.off, start: g.start})
	s.parts = append(s.parts, g.expr, close)
	return p
}

// Bare translates a field that holds a bare expression (condition, while,
// for_each, when, until). A string wrapped in one `${{ }}` is accepted too;
// a boolean or number is a literal expression.
func (t *Translator) Bare(v *dsl.Value, field string) (*Source, dsl.ErrorList) {
	s := t.newSource(v)
	var errs dsl.ErrorList
	switch v.Kind {
	case dsl.Bool, dsl.Int, dsl.Float:
		t.value(s, v, &errs)
		s.literal, s.value = true, value.Normalize(v.Go())
		return s, errs
	case dsl.String:
	default:
		errs.Add(t.file, v.Pos, "%s must be an expression, not %s", field, article(v.Kind))
		s.parts = append(s.parts, "nil")
		return s, errs
	}
	segs, msg, at := scanTemplates(v.Str)
	switch {
	case msg != "":
		errs.Add(t.file, t.loc.At(v, at), "%s", msg)
	case len(segs) == 0:
		if isBlank(v.Str) {
			errs.Add(t.file, v.Pos, "%s is empty", field)
			break
		}
		s.typ = t.expr(s, v, segment{expr: v.Str}, "", "", &errs).typ
		return s, errs
	default:
		if g, ok := wholeTemplate(v.Str, segs, true); ok {
			s.typ = t.expr(s, v, g, "", "", &errs).typ
			return s, errs
		}
		errs.Add(t.file, v.Pos, `%s takes a bare expression: write it without "${{ }}"`, field)
	}
	s.parts = append(s.parts, "nil")
	return s, errs
}

// Const returns a Source for a value the compiler supplies itself (such as
// a literal duration), with no names to bind.
func Const(pos dsl.Pos, v any) *Source {
	return &Source{pos: pos, parts: []string{goLiteral(v)}, literal: true, value: value.Normalize(v)}
}

// goLiteral renders plain Go data as expr-lang source, for display.
func goLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int:
		return intLiteral(int64(x))
	case int64:
		return intLiteral(x)
	case float64:
		return floatLiteral(x)
	case string:
		return quote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = goLiteral(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = quote(k) + ": " + goLiteral(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "nil"
}

// article names a value kind with its indefinite article: "an integer".
func article(k dsl.Kind) string {
	s := k.String()
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
