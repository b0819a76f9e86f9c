package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/value"
)

// Program is a compiled expression, safe for concurrent use. A constant
// expression holds its value and never touches the VM.
type Program struct {
	prog  *vm.Program
	konst bool
	value any
	pos   blueprint.Pos
	spans []blueprint.Span // see blueprint.Expr.Spans
}

// options are shared by every compilation so that the compiler's checks,
// its constant folding and the runtime see the same language.
var options = []expr.Option{
	expr.Function(FormatFunc, func(args ...any) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("%s takes one argument", FormatFunc)
		}
		return Format(args[0]), nil
	}, new(func(any) string)),
}

// Compile prepares e for repeated evaluation. The runtime calls it once per
// expression of a Blueprint, then Run per evaluation.
func Compile(e blueprint.Expr) (*Program, error) {
	if e.Const {
		return &Program{konst: true, value: e.Value, pos: e.Pos}, nil
	}
	p, err := expr.Compile(e.Src, options...)
	if err != nil {
		return nil, &Error{Pos: e.PosAt(errorOffset(err)), Msg: message(err)}
	}
	return &Program{prog: p, pos: e.Pos, spans: e.Spans}, nil
}

// vms are reused between runs: a VM keeps its stack, so reuse saves the
// allocations of a fresh one on the runtime's hot path.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// Run evaluates the program. env holds "input", "run", "nodes" and each Var
// name of the expression; a missing key reads as nil. The result is
// normalised (see Normalize) exactly as constant folding normalises, so a
// folded and an evaluated expression never differ.
func (p *Program) Run(env map[string]any) (any, error) {
	out, err := p.RunRaw(env)
	if err != nil || p.konst {
		return out, err
	}
	return value.Normalize(out), nil
}

// RunRaw evaluates like Run but returns the value as expr-lang made it,
// not normalized: for a caller that needs only the length of a list (a
// for_each whose body never reads its item), which saves building a list
// of boxed values that nobody reads.
func (p *Program) RunRaw(env map[string]any) (any, error) {
	if p.konst {
		return p.value, nil
	}
	m := vms.Get().(*vm.VM)
	out, err := m.Run(p.prog, env)
	vms.Put(m)
	if err != nil {
		return nil, p.error(err)
	}
	return out, nil
}

// error positions a run-time error at the template that failed, when the
// expression was built from several values; otherwise at the expression.
func (p *Program) error(err error) *Error {
	pos := p.pos
	if len(p.spans) > 0 {
		e := blueprint.Expr{Pos: p.pos, Spans: p.spans}
		pos = e.PosAt(errorOffset(err))
	}
	return &Error{Pos: pos, Msg: message(err)}
}

// errorOffset returns the rune offset in the source at which expr-lang
// located an error, or -1.
func errorOffset(err error) int {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.From
	}
	return -1
}

// Error is an expression that failed to compile or to evaluate, with the
// position of the YAML value it came from.
type Error struct {
	Pos blueprint.Pos
	Msg string
}

// Error reads "expression at LINE:COL: message".
func (e *Error) Error() string {
	if e.Pos.Line > 0 {
		return fmt.Sprintf("expression at %d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return "expression: " + e.Msg
}

// message drops expr-lang's multi-line source snippet: positions are
// reported in workflow terms by the caller. Go type names become Skript's.
func message(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return skriptTypeNames(fe.Message)
	}
	return skriptTypeNames(err.Error())
}

// Format renders a value as a template part: strings as they are, nil as
// "", whole floats without ".0", lists and maps as compact JSON.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatFloat(x)
	case float32:
		return formatFloat(float64(x))
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // a URL in a message must stay readable
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// plain reports whether v is data a Blueprint can serialize: nil, bool,
// int, float64, string, and lists and maps of those. Constant folding keeps
// only such values; a time or a duration stays a run-time expression.
func plain(v any) bool {
	switch x := v.(type) {
	case nil, bool, int, string:
		return true
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case []any:
		for _, e := range x {
			if !plain(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !plain(e) {
				return false
			}
		}
		return true
	}
	return false
}
