package expr

import (
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/expr-lang/expr"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/value"
)

// Use is one name an expression reads, as the compiler's scope sees it.
type Use struct {
	// Name is the identifier: "input", "item", "nodes", a loop's `as` name...
	Name string
	// Path holds the literal members that follow it: `input.x` gives ["x"],
	// `nodes.a.output` gives ["a", "output"]. It stops at the first computed
	// index or method call. It is shared: do not modify it.
	Path []string

	src *Source
	pc  *piece
	ru  *rawUse
}

// Pos returns where the name is written (best effort inside a string).
// Positions are computed only when asked for, that is, for errors.
func (u *Use) Pos() dsl.Pos { return u.src.at(u.pc, u.ru.from) }

// PathPos returns the position of Path[i].
func (u *Use) PathPos(i int) dsl.Pos {
	if i < len(u.ru.path) {
		return u.src.at(u.pc, u.ru.path[i].from)
	}
	return u.Pos()
}

// Problem is a name the scope refuses; a zero Pos means the Use's position.
type Problem struct {
	Pos dsl.Pos
	Msg string
}

// Scope resolves the names of an expression. The compiler implements it:
// it knows which loop, function and catch block an expression sits in, and
// which nodes have certainly finished there.
type Scope interface {
	// Var binds a free identifier other than `nodes`.
	Var(u *Use) (blueprint.Var, *Problem)
	// Node binds `nodes.PATH`. It returns the Ref and how many elements of
	// Path name the node: more than one for a node inlined from a Call,
	// written `nodes.CALLID.INNERID`.
	Node(u *Use) (blueprint.Ref, int, *Problem)
}

// rewrite replaces runes [from, to) of a piece's text.
type rewrite struct {
	from, to int
	text     string
}

// Bind resolves every name of s through sc and returns the finished
// expression. An expression that reads nothing at run time is evaluated
// here (Const and Value set). Errors are positioned at the offending name.
func (s *Source) Bind(sc Scope) (blueprint.Expr, dsl.ErrorList) {
	var errs dsl.ErrorList
	e := blueprint.Expr{Pos: blueprint.Pos{Line: s.pos.Line, Col: s.pos.Col}}
	parts := s.parts
	// impure: the value may differ between runs, or folding it may cost
	// unbounded time; either way it is left to the run.
	impure, broken, copied := false, false, false
	for k := range s.exprs {
		pc := &s.exprs[k]
		if pc.p.err != "" {
			broken = true // reported by the Translator
			continue
		}
		impure = impure || pc.p.impure || pc.p.heavy
		var rw []rewrite
		hyphens := false
		for i := range pc.p.uses {
			ru := &pc.p.uses[i]
			u := &Use{Name: ru.name, Path: ru.names, src: s, pc: pc, ru: ru}
			switch {
			case ru.kind == useCall:
				errs.Add(s.file, u.Pos(), "unknown function %q%s", ru.name, dsl.Hint(ru.name, builtinNames))
			case ru.kind == useNodes && ru.bad:
				errs.Add(s.file, u.Pos(), "nodes must be followed by a node id, as in nodes.ID.output")
			case ru.kind == useNodes:
				ref, n, prob := sc.Node(u)
				if prob != nil && ru.hyphen != "" {
					errs.Add(s.file, u.PathPos(0), "nodes.%s reads as nodes.%s minus %s: write nodes['%s'] for an id with a hyphen",
						ru.hyphen, ru.path[0].name, ru.hyphen[len(ru.path[0].name)+1:], ru.hyphen)
					hyphens = true
					continue
				}
				if prob != nil {
					errs.Add(s.file, probPos(prob, u), "%s", prob.Msg)
					continue
				}
				if !hasRef(e.Refs, ref.Name) {
					e.Refs = append(e.Refs, ref)
				}
				if n > 1 {
					rw = append(rw, mergeRewrite(parts[pc.part], ru, n, ref.Name))
				}
			case ru.minus && hyphens:
				// The rest of a hyphenated id, reported with it.
			default:
				v, prob := sc.Var(u)
				if prob != nil {
					errs.Add(s.file, probPos(prob, u), "%s", prob.Msg)
					continue
				}
				if !hasVar(e.Vars, v.Name) {
					e.Vars = append(e.Vars, v)
				}
			}
		}
		if len(rw) > 0 {
			if !copied {
				parts, copied = append([]string(nil), s.parts...), true
			}
			parts[pc.part] = applyRewrites(parts[pc.part], rw)
		}
	}
	e.Src = joinParts(parts)
	if !broken {
		e.Spans = s.spans(parts, e.Pos)
	}
	if broken || len(errs) > 0 || len(e.Refs) > 0 || len(e.Vars) > 0 || impure {
		return e, errs
	}
	// Nothing is read at run time: fold.
	if s.literal {
		if plain(s.value) {
			e.Const, e.Value = true, s.value
		}
		return e, errs
	}
	v, err := evalConst(e.Src)
	if err != nil {
		p := e.PosAt(err.from)
		errs.Add(s.file, dsl.Pos{Line: p.Line, Col: p.Col}, "%s", err.Error())
		return e, errs
	}
	if plain(v) {
		e.Const, e.Value = true, v
	}
	return e, errs
}

func probPos(p *Problem, u *Use) dsl.Pos {
	if p.Pos.IsValid() {
		return p.Pos
	}
	return u.Pos()
}

// hasRef and hasVar deduplicate by name; an expression reads few names, so
// a scan beats a map.
func hasRef(refs []blueprint.Ref, name string) bool {
	for _, r := range refs {
		if r.Name == name {
			return true
		}
	}
	return false
}

func hasVar(vars []blueprint.Var, name string) bool {
	for _, v := range vars {
		if v.Name == name {
			return true
		}
	}
	return false
}

// evalConst compiles and runs an expression that reads no names.
func evalConst(src string) (any, *constError) {
	prog, err := expr.Compile(src, options...)
	if err != nil {
		return nil, &constError{"invalid expression: " + message(err), errorOffset(err)}
	}
	v, err := expr.Run(prog, map[string]any{})
	if err != nil {
		return nil, &constError{"expression fails: " + message(err), errorOffset(err)}
	}
	return value.Normalize(v), nil
}

// constError is an expression that failed while the compiler folded it;
// from is the rune offset in its source where it failed (-1: unknown).
type constError struct {
	msg  string
	from int
}

// Error returns the message.
func (e *constError) Error() string { return e.msg }

// spans positions the templates of a source made of several values (see
// blueprint.Span), given the final parts (names rewritten): each template
// at its "${{". A span that would repeat the position already in effect is
// left out, so a source of one value has none.
func (s *Source) spans(parts []string, pos blueprint.Pos) []blueprint.Span {
	var out []blueprint.Span
	cur := pos
	off, next := 0, 0 // rune offset of parts[next]
	for k := range s.exprs {
		pc := &s.exprs[k]
		p := s.loc.At(pc.v, pc.start)
		bp := blueprint.Pos{Line: p.Line, Col: p.Col}
		if bp == cur {
			continue
		}
		// The template starts with the part that opens it (`(` or
		// `__fmt(`), just before its text.
		open := max(pc.part-1, 0)
		for ; next < open; next++ {
			off += utf8.RuneCountInString(parts[next])
		}
		out = append(out, blueprint.Span{From: off, Pos: bp})
		cur = bp
	}
	return out
}

// at returns the position of rune offset off of a piece's text.
func (s *Source) at(pc *piece, off int) dsl.Pos {
	return s.loc.At(pc.v, pc.off+byteOffset(pc.v.Str[pc.off:], off))
}

// byteOffset converts a rune offset into a byte offset of s.
func byteOffset(s string, runes int) int {
	off := 0
	for i := 0; i < runes && off < len(s); i++ {
		_, n := utf8.DecodeRuneInString(s[off:])
		off += n
	}
	return off
}

// mergeRewrite turns `nodes.call.inner` into `nodes["call.inner"]`: the
// runtime files the record of an inlined node under its full id, so the
// expression must read one key, not two nested ones.
func mergeRewrite(text string, ru *rawUse, n int, name string) rewrite {
	last := ru.path[n-1]
	to := last.to
	if !last.dot {
		// Include the closing "]" of `["inner"]`.
		r := []rune(text)
		for to < len(r) && r[to] != ']' {
			to++
		}
		to++
	}
	return rewrite{from: ru.from, to: to, text: "nodes[" + strconv.Quote(name) + "]"}
}

func applyRewrites(text string, rw []rewrite) string {
	sort.Slice(rw, func(i, j int) bool { return rw[i].from > rw[j].from })
	r := []rune(text)
	for _, w := range rw {
		if w.from < 0 || w.to > len(r) || w.from > w.to {
			continue
		}
		r = append(r[:w.from], append([]rune(w.text), r[w.to:]...)...)
	}
	return string(r)
}

func joinParts(parts []string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return string(b)
}
