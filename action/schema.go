package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skript-dev/skript/value"
)

// Type is the type of a parameter value. The set is small on purpose: it is
// what YAML and expressions can produce, so the compiler can check literal
// params against it and the runtime can coerce evaluated ones.
type Type uint8

// The parameter types.
const (
	Any      Type = iota // anything; the action checks it itself
	String               // text; numbers and booleans are accepted and formatted
	Integer              // a whole number; 1.0 counts as 1
	Number               // an integer or a float
	Boolean              // true or false
	List                 // a sequence
	Map                  // a mapping with string keys
	Duration             // a Go duration string such as "200ms" or "1m30s"
)

var typeNames = [...]string{"any", "string", "integer", "number", "boolean", "list", "map", "duration"}

// String returns the name used in the DSL docs and in error messages.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// phrase is the type as it reads after "must be".
func (t Type) phrase() string {
	switch t {
	case Any:
		return "a value"
	case Integer:
		return "an integer"
	case Duration:
		return `a duration like "200ms"`
	}
	return "a " + t.String()
}

// plural is the element type as it reads after "a list of".
func (t Type) plural() string {
	switch t {
	case Any:
		return "values"
	case Duration:
		return "durations"
	}
	return t.String() + "s"
}

// Field describes one parameter.
type Field struct {
	Name     string
	Type     Type
	Required bool
	// Default is applied at run time when the param is absent (or null), so
	// a workflow that omits it behaves exactly as if it had written it.
	Default any
	// Enum lists the allowed values of a String field (e.g. a log level).
	Enum []string
	// Elem is the type of each element of a List, or of each value of a Map;
	// Any leaves elements unchecked. It lets `allow_status: [404]` and
	// `headers: {X-A: b}` be checked at compile time, not just their shape.
	Elem Type
	Doc  string
	// Struct is the schema a Map value must follow when the param is a
	// struct: its keys and values are checked like an action's params, at
	// compile time where they are literal and at run time after templates
	// are evaluated. Nil leaves the map's keys unchecked.
	Struct *Schema
	// ElemStruct is the schema each element of a List, or each value of a
	// Map, must follow (a Go []T or map[string]T with T a struct); Elem is
	// then Map.
	ElemStruct *Schema
	// lo and hi bound an Integer field when ranged is set, so a constant
	// that would overflow the host's uint8 is refused at compile time.
	lo, hi int
	ranged bool
}

// Schema is an action's parameter schema.
type Schema struct {
	Fields []Field
	// Open means any key is allowed (the `set` action takes any map).
	Open bool
	// OneOf lists groups of fields of which exactly one must be present
	// (shell's `command` or `args`). It is data rather than a callback so
	// the compiler can check it on the YAML before anything runs.
	OneOf [][]string
}

// Field returns the named field.
func (s *Schema) Field(name string) (*Field, bool) {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i], true
		}
	}
	return nil, false
}

// names lists the declared field names in declaration order, for messages.
func (s *Schema) names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// CheckKeys checks which params are present, without looking at values:
// unknown keys (unless Open), missing required fields and OneOf groups. The
// compiler calls it with the keys written in the YAML (a key whose literal
// value is null counts as absent); Decode runs the same checks, so a
// workflow that passes compilation is not refused at run time for its shape.
// Errors come in a stable order: unknown keys sorted, then missing fields in
// declaration order, then OneOf groups.
func (s *Schema) CheckKeys(keys []string) []error {
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		present[k] = true
	}
	var errs []error
	if !s.Open {
		var unknown []string
		for k := range present {
			if _, ok := s.Field(k); !ok {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		for _, k := range unknown {
			if len(s.Fields) == 0 {
				errs = append(errs, &ParamError{Param: k, Err: errors.New("unknown param; this action takes no params")})
			} else {
				errs = append(errs, &ParamError{Param: k, Err: fmt.Errorf("unknown param; known params: %s", strings.Join(s.names(), ", "))})
			}
		}
	}
	for _, f := range s.Fields {
		if f.Required && !present[f.Name] {
			errs = append(errs, &ParamError{Param: f.Name, Err: errors.New("missing required param")})
		}
	}
	for _, group := range s.OneOf {
		n := 0
		for _, name := range group {
			if present[name] {
				n++
			}
		}
		switch {
		case n == 0:
			errs = append(errs, fmt.Errorf("needs exactly one of %s, got none", strings.Join(group, ", ")))
		case n > 1:
			errs = append(errs, fmt.Errorf("needs exactly one of %s, got %d", strings.Join(group, ", "), n))
		}
	}
	return errs
}

// ParamError is a problem with one named param. It is a type so the compiler
// can point at the offending YAML key rather than at the whole node.
type ParamError struct {
	Param string
	Err   error
}

// Error reads as `PARAM: problem`.
func (e *ParamError) Error() string { return fmt.Sprintf("%s: %v", e.Param, e.Err) }

// Unwrap gives access to the underlying problem.
func (e *ParamError) Unwrap() error { return e.Err }

// CheckValue reports whether a literal value (decoded YAML: nil, bool,
// int64/int, float64, string, []any, map[string]any) fits the field; nil
// error when it does. Null fits an optional field, since it means "absent".
// The messages name the expected type and what was given, such as
// `must be a duration like "200ms", got "soon"`; the caller adds the
// param's name and position.
func (f *Field) CheckValue(v any) error {
	_, err := f.coerce(v)
	return err
}

// Decode applies defaults and checks and coerces run-time values (after
// template evaluation) into the types the action expects: Integer fields
// hold int, Duration fields time.Duration, List fields []any, Map fields
// map[string]any, String fields string. Unknown keys are an error unless
// the schema is Open; extra keys of an Open schema are passed through
// normalized. All problems are reported at once, joined, in a stable order.
func (s *Schema) Decode(params map[string]any) (map[string]any, error) {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if v != nil {
			keys = append(keys, k)
		}
	}
	errs := s.CheckKeys(keys)
	out := make(map[string]any, len(params)+len(s.Fields))
	for _, f := range s.Fields {
		v := params[f.Name]
		if v == nil {
			if f.Default == nil {
				continue
			}
			v = f.Default
		}
		c, err := f.coerce(v)
		if err != nil {
			errs = append(errs, nest(f.Name, err)...)
			continue
		}
		out[f.Name] = c
	}
	if s.Open {
		for k, v := range params {
			if _, declared := s.Field(k); !declared {
				out[k] = value.Normalize(v)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// nestedErrors are the problems found inside a struct-shaped value, as
// ParamErrors named relative to it, so Decode can report each one by its
// full path (`in.tag`, `items[2].tag`) rather than as one blob.
type nestedErrors []error

func (e nestedErrors) Error() string { return errors.Join(e...).Error() }

func (e nestedErrors) Unwrap() []error { return e }

// nest names the problems of the field called name: a nested value's
// problems each get the field's name in front of their own path.
func nest(name string, err error) []error {
	var inner nestedErrors
	if !errors.As(err, &inner) {
		return []error{&ParamError{Param: name, Err: err}}
	}
	out := make([]error, 0, len(inner))
	for _, e := range inner {
		var pe *ParamError
		if !errors.As(e, &pe) {
			out = append(out, &ParamError{Param: name, Err: e})
			continue
		}
		sep := "."
		if strings.HasPrefix(pe.Param, "[") {
			sep = ""
		}
		out = append(out, &ParamError{Param: name + sep + pe.Param, Err: pe.Err})
	}
	return out
}

// decodeNested decodes a struct-shaped map as Decode does an action's
// params: defaults, required fields, unknown keys and types.
func (s *Schema) decodeNested(m map[string]any) (any, error) {
	out, err := s.Decode(m)
	if err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			return nil, nestedErrors(j.Unwrap())
		}
		return nil, nestedErrors{err}
	}
	return out, nil
}

// decodeElems decodes each element of a List or Map (already coerced to
// []any or map[string]any of maps) against the element struct's schema.
func decodeElems(s *Schema, c any) (any, error) {
	var errs nestedErrors
	decode := func(name string, e any) any {
		d, err := s.decodeNested(e.(map[string]any))
		if err != nil {
			errs = append(errs, nest(name, err)...)
		}
		return d
	}
	switch c := c.(type) {
	case []any:
		for i, e := range c {
			c[i] = decode("["+strconv.Itoa(i)+"]", e)
		}
	case map[string]any:
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys) // report problems in the same order every time
		for _, k := range keys {
			c[k] = decode("["+strconv.Quote(k)+"]", c[k])
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// validate catches mistakes in a schema when an action is added, so a typo
// in a host program's default fails at start-up rather than mid-run.
func (s *Schema) validate() error {
	seen := map[string]bool{}
	for i := range s.Fields {
		f := &s.Fields[i]
		if f.Name == "" {
			return fmt.Errorf("field %d has no name", i)
		}
		if seen[f.Name] {
			return fmt.Errorf("field %q declared twice", f.Name)
		}
		seen[f.Name] = true
		if int(f.Type) >= len(typeNames) || int(f.Elem) >= len(typeNames) {
			return fmt.Errorf("field %q: unknown type", f.Name)
		}
		if len(f.Enum) > 0 && f.Type != String {
			return fmt.Errorf("field %q: enum needs type string, not %s", f.Name, f.Type)
		}
		if f.Default != nil {
			if err := f.CheckValue(f.Default); err != nil {
				return fmt.Errorf("field %q: default %w", f.Name, err)
			}
		}
		for _, sub := range []*Schema{f.Struct, f.ElemStruct} {
			if sub == nil {
				continue
			}
			if err := sub.validate(); err != nil {
				return fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
	}
	for _, group := range s.OneOf {
		for _, name := range group {
			if !seen[name] {
				return fmt.Errorf("one-of group names undeclared field %q", name)
			}
		}
	}
	return nil
}

// coerce is shared by CheckValue and Decode so that the compiler and the
// runtime can never disagree about what a field accepts.
func (f *Field) coerce(v any) (any, error) {
	if v == nil {
		if f.Required && f.Type != Any {
			return nil, mismatch(f.Type.phrase(), v)
		}
		return nil, nil
	}
	c, err := coerceType(f.Type, f.Elem, v)
	if err != nil {
		return nil, err
	}
	if f.ranged {
		if i := c.(int); i < f.lo || i > f.hi {
			return nil, fmt.Errorf("must be an integer from %d to %d, got %d", f.lo, f.hi, i)
		}
	}
	if f.Struct != nil {
		return f.Struct.decodeNested(c.(map[string]any))
	}
	if f.ElemStruct != nil {
		return decodeElems(f.ElemStruct, c)
	}
	if len(f.Enum) > 0 {
		if s, _ := c.(string); !slices.Contains(f.Enum, s) {
			return nil, mismatch("one of "+strings.Join(f.Enum, ", "), v)
		}
	}
	return c, nil
}

func coerceType(t, elem Type, v any) (any, error) {
	switch t {
	case Any:
		return value.Normalize(v), nil
	case String:
		if s, ok := toString(v); ok {
			return s, nil
		}
	case Integer:
		if i, ok := toInt(v); ok {
			return i, nil
		}
	case Number:
		switch n := value.Normalize(v).(type) {
		case int, float64:
			return n, nil
		}
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Duration:
		switch d := v.(type) {
		case time.Duration:
			if d < 0 {
				return nil, fmt.Errorf("must not be negative, got %v", d)
			}
			return d, nil
		case string:
			pd, err := time.ParseDuration(strings.TrimSpace(d))
			if err != nil {
				break
			}
			if pd < 0 {
				return nil, mismatch("a duration that is not negative", v)
			}
			return pd, nil
		}
	case List:
		return coerceList(elem, v)
	case Map:
		return coerceMap(elem, v)
	}
	return nil, mismatch(t.phrase(), v)
}

func coerceList(elem Type, v any) (any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, mismatch("a list", v)
	}
	if _, bytes := v.([]byte); bytes {
		return nil, mismatch("a list", v)
	}
	out := make([]any, rv.Len())
	for i := range out {
		e := rv.Index(i).Interface()
		c, err := coerceType(elem, Any, e)
		if err != nil {
			return nil, fmt.Errorf("must be a list of %s, got %s at index %d", elem.plural(), describe(e), i)
		}
		out[i] = c
	}
	return out, nil
}

func coerceMap(elem Type, v any) (any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, mismatch("a map", v)
	}
	out := make(map[string]any, rv.Len())
	keys := make([]string, 0, rv.Len())
	for _, k := range rv.MapKeys() {
		keys = append(keys, k.String())
	}
	sort.Strings(keys) // report the same bad key every time
	for _, k := range keys {
		e := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface()
		c, err := coerceType(elem, Any, e)
		if err != nil {
			return nil, fmt.Errorf("must be a map of %s, got %s at key %q", elem.plural(), describe(e), k)
		}
		out[k] = c
	}
	return out, nil
}

// toString accepts scalars as well as strings: YAML turns `X-Test: yes` or
// `msg: 42` into a bool or a number, and a template that is exactly one
// expression keeps the expression's type, so refusing them would punish the
// obvious spelling.
func toString(v any) (string, bool) {
	switch x := value.Normalize(v).(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case time.Duration:
		return 0, false // a duration is not a count
	case float64:
		if x != math.Trunc(x) {
			return 0, false
		}
	case json.Number:
		if _, err := x.Int64(); err != nil {
			f, err := x.Float64()
			if err != nil || f != math.Trunc(f) {
				return 0, false
			}
		}
	}
	i, ok := value.Normalize(v).(int)
	return i, ok
}

// mismatch formats the one error shape used for every type problem.
func mismatch(want string, got any) error {
	return fmt.Errorf("must be %s, got %s", want, describe(got))
}

// describe shows scalars by value (strings quoted and shortened) and
// containers by kind: the value is what a user needs to spot a typo, and a
// whole map would drown the message.
func describe(v any) string {
	switch x := value.Normalize(v).(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(shorten(x, 40))
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Duration:
		return x.String()
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return value.TypeName(v)
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
