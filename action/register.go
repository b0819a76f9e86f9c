package action

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/skript-dev/skript/value"
)

// Register adds a host-program action whose parameter schema comes from the
// Go type P, so a custom action is checked at compile time like a built-in.
//
// P is a struct (or a pointer to one). Param names come from `json:"name"`
// tags, falling back to the lower_snake form of the Go name; `json:"-"`
// skips a field. The `skript` tag takes comma-separated options:
// `required`, `default=VALUE`, `enum=a|b|c` and `doc=TEXT` (doc must come
// last, as its text may hold commas). Go types map to Types: string →
// String, int*/uint* → Integer, float* → Number, bool → Boolean, slices →
// List, maps and structs → Map, time.Duration → Duration, interfaces → Any.
// Pointer fields are optional, and so is every field not marked required.
// A struct field, and each struct in a slice or map field, gets a schema of
// its own (Field.Struct, Field.ElemStruct), so its keys and values are
// checked like the top level's; sized integers are checked for range.
// A P of type map[string]any takes any params (an Open schema).
//
// At run time the decoded params are converted into a P (Duration fields,
// nested ones included, get the parsed duration) and fn is called; the
// *Call is available through CallFrom(ctx). fn's output is turned into
// plain values through encoding/json when it is not plain already, so
// expressions see a struct's json field names.
func Register[P any](r *Registry, name string, fn func(ctx context.Context, p P) (any, error)) error {
	if fn == nil {
		return fmt.Errorf("action %q has no function", name)
	}
	s, err := SchemaOf[P]()
	if err != nil {
		return fmt.Errorf("action %q: %w", name, err)
	}
	run := func(ctx context.Context, c *Call) (any, error) {
		var p P
		params := c.Params
		if params == nil {
			params = map[string]any{} // a pointer P still gets a value
		}
		if err := assign(reflect.ValueOf(&p).Elem(), params); err != nil {
			return nil, fmt.Errorf("params: %w", err)
		}
		out, err := fn(context.WithValue(ctx, callKey{}, c), p)
		if err != nil {
			return nil, err
		}
		out, err = value.Canonical(out)
		if err != nil {
			return nil, fmt.Errorf("action %q: output: %w", name, err)
		}
		return out, nil
	}
	return r.Add(Action{Name: name, Schema: s, Run: run})
}

// SchemaOf derives a Schema from a struct type. It is exported for the docs
// generator and tests; Register uses it.
func SchemaOf[P any]() (Schema, error) {
	t := reflect.TypeFor[P]()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Map && t.Key().Kind() == reflect.String {
		return Schema{Open: true}, nil
	}
	if t.Kind() != reflect.Struct {
		return Schema{}, fmt.Errorf("params type %s must be a struct", t)
	}
	var s Schema
	if err := addFields(&s, t, map[reflect.Type]bool{}); err != nil {
		return Schema{}, err
	}
	if err := s.validate(); err != nil {
		return Schema{}, fmt.Errorf("params type %s: %w", t, err)
	}
	return s, nil
}

func addFields(s *Schema, t reflect.Type, seen map[reflect.Type]bool) error {
	if seen[t] {
		return fmt.Errorf("params type %s embeds itself", t)
	}
	seen[t] = true
	defer delete(seen, t)
	for sf := range structFields(t) {
		if sf.flatten {
			if err := addFields(s, sf.typ(), seen); err != nil {
				return err
			}
			continue
		}
		f, err := fieldOf(sf, seen)
		if err != nil {
			return fmt.Errorf("params type %s, field %s: %w", t, sf.Name, err)
		}
		s.Fields = append(s.Fields, f)
	}
	return nil
}

// goField is a struct field with its param name worked out.
type goField struct {
	reflect.StructField
	name    string
	flatten bool // an embedded struct without a name: its fields are promoted
}

func (g goField) typ() reflect.Type {
	if g.Type.Kind() == reflect.Pointer {
		return g.Type.Elem()
	}
	return g.Type
}

// structFields yields the fields of t that take part in params, following
// encoding/json's rules so the JSON a user sees matches the names checked.
func structFields(t reflect.Type) func(yield func(goField) bool) {
	return func(yield func(goField) bool) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, hasTag := sf.Tag.Lookup("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" && tag == "-" {
				continue
			}
			if sf.Anonymous && name == "" {
				et := sf.Type
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					if !yield(goField{StructField: sf, flatten: true}) {
						return
					}
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" || !hasTag {
				name = snake(sf.Name)
			}
			if !yield(goField{StructField: sf, name: name}) {
				return
			}
		}
	}
}

var durationType = reflect.TypeFor[time.Duration]()

func fieldOf(sf goField, seen map[reflect.Type]bool) (Field, error) {
	f := Field{Name: sf.name}
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var err error
	if f.Type, err = typeOf(t); err != nil {
		return f, err
	}
	f.lo, f.hi, f.ranged = intRange(t)
	if f.Struct, err = structSchema(t, seen); err != nil {
		return f, err
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		if t.Kind() == reflect.Map && t.Key().Kind() != reflect.String {
			return f, fmt.Errorf("map keys must be strings, not %s", t.Key())
		}
		if f.Elem, err = typeOf(t.Elem()); err != nil {
			return f, err
		}
		et := t.Elem()
		if et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		if f.ElemStruct, err = structSchema(et, seen); err != nil {
			return f, err
		}
	}
	opts := sf.Tag.Get("skript")
	for opts != "" {
		var opt string
		if strings.HasPrefix(opts, "doc=") {
			opt, opts = opts, ""
		} else {
			opt, opts, _ = strings.Cut(opts, ",")
		}
		key, val, hasVal := strings.Cut(strings.TrimSpace(opt), "=")
		switch {
		case key == "required" && !hasVal:
			f.Required = true
		case key == "doc":
			f.Doc = val
		case key == "enum":
			f.Enum = strings.Split(val, "|")
		case key == "default":
			if f.Default, err = parseDefault(f.Type, val); err != nil {
				return f, err
			}
		case key == "":
		default:
			return f, fmt.Errorf("unknown skript tag option %q", opt)
		}
	}
	return f, nil
}

// structSchema is the schema of a nested struct type, so its fields are
// checked like top-level params; nil for other types, for a type that
// decodes itself from JSON (its Go fields need not be its keys) and for a
// type that holds itself, whose depth no schema can follow.
func structSchema(t reflect.Type, seen map[reflect.Type]bool) (*Schema, error) {
	if t.Kind() != reflect.Struct || seen[t] || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return nil, nil
	}
	var s Schema
	if err := addFields(&s, t, seen); err != nil {
		return nil, err
	}
	return &s, nil
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// intRange bounds the sized integer kinds; int and int64 take any int.
func intRange(t reflect.Type) (lo, hi int, ranged bool) {
	if t == durationType {
		return 0, 0, false
	}
	switch t.Kind() {
	case reflect.Int8:
		return math.MinInt8, math.MaxInt8, true
	case reflect.Int16:
		return math.MinInt16, math.MaxInt16, true
	case reflect.Int32:
		return math.MinInt32, math.MaxInt32, true
	case reflect.Uint8:
		return 0, math.MaxUint8, true
	case reflect.Uint16:
		return 0, math.MaxUint16, true
	case reflect.Uint32:
		return 0, math.MaxUint32, true
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return 0, math.MaxInt, true
	}
	return 0, 0, false
}

func typeOf(t reflect.Type) (Type, error) {
	if t == durationType {
		return Duration, nil
	}
	switch t.Kind() {
	case reflect.String:
		return String, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Integer, nil
	case reflect.Float32, reflect.Float64:
		return Number, nil
	case reflect.Bool:
		return Boolean, nil
	case reflect.Slice, reflect.Array:
		return List, nil
	case reflect.Map, reflect.Struct:
		return Map, nil
	case reflect.Interface:
		return Any, nil
	case reflect.Pointer:
		return typeOf(t.Elem())
	}
	return Any, fmt.Errorf("type %s cannot be a param", t)
}

func parseDefault(t Type, s string) (any, error) {
	switch t {
	case String, Duration, Any:
		return s, nil
	case Integer:
		return strconv.Atoi(s)
	case Number:
		return strconv.ParseFloat(s, 64)
	case Boolean:
		return strconv.ParseBool(s)
	}
	return nil, fmt.Errorf("a %s field cannot have a default in a tag", t)
}

// snake turns a Go name into lower_snake, keeping acronyms whole:
// MaxBody → max_body, URL → url, UserID → user_id, HTTPTimeout → http_timeout.
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// assign stores a decoded param value into a Go value of the host's type.
// It is written out rather than done by a JSON round trip so that
// durations, which decoded params hold as time.Duration but which nested
// maps still hold as strings, land correctly at any depth.
func assign(dst reflect.Value, v any) error {
	if v == nil {
		dst.SetZero()
		return nil
	}
	t := dst.Type()
	if t == durationType {
		d, err := coerceType(Duration, Any, v)
		if err != nil {
			return err
		}
		dst.SetInt(int64(d.(time.Duration)))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := assign(p.Elem(), v); err != nil {
			return err
		}
		dst.Set(p)
		return nil
	case reflect.Interface:
		nv := reflect.ValueOf(value.Normalize(v))
		if !nv.Type().AssignableTo(t) {
			return fmt.Errorf("cannot use %s as %s", describe(v), t)
		}
		dst.Set(nv)
		return nil
	case reflect.String:
		s, ok := toString(v)
		if !ok {
			return mismatch("a string", v)
		}
		dst.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch("a boolean", v)
		}
		dst.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := toInt(v)
		if !ok || dst.OverflowInt(int64(i)) {
			return mismatch(fmt.Sprintf("an integer that fits %s", t), v)
		}
		dst.SetInt(int64(i))
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := toInt(v)
		if !ok || i < 0 || dst.OverflowUint(uint64(i)) {
			return mismatch(fmt.Sprintf("an integer that fits %s", t), v)
		}
		dst.SetUint(uint64(i))
		return nil
	case reflect.Float32, reflect.Float64:
		var f float64
		switch n := value.Normalize(v).(type) {
		case int:
			f = float64(n)
		case float64:
			f = n
		default:
			return mismatch("a number", v)
		}
		if t.Kind() == reflect.Float32 && math.Abs(f) > math.MaxFloat32 {
			return mismatch("a number that fits float32", v)
		}
		dst.SetFloat(f)
		return nil
	case reflect.Slice, reflect.Array:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return mismatch("a list", v)
		}
		n := rv.Len()
		if t.Kind() == reflect.Slice {
			dst.Set(reflect.MakeSlice(t, n, n))
		} else if n > t.Len() {
			return fmt.Errorf("must be a list of at most %d elements, got %d", t.Len(), n)
		}
		for i := range n {
			if err := assign(dst.Index(i), rv.Index(i).Interface()); err != nil {
				return fmt.Errorf("index %d: %w", i, err)
			}
		}
		return nil
	case reflect.Map:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
			return mismatch("a map", v)
		}
		m := reflect.MakeMapWithSize(t, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			e := reflect.New(t.Elem()).Elem()
			if err := assign(e, it.Value().Interface()); err != nil {
				return fmt.Errorf("key %q: %w", it.Key().String(), err)
			}
			m.SetMapIndex(reflect.ValueOf(it.Key().String()).Convert(t.Key()), e)
		}
		dst.Set(m)
		return nil
	case reflect.Struct:
		return assignStruct(dst, v)
	}
	return fmt.Errorf("cannot set a %s", t)
}

func assignStruct(dst reflect.Value, v any) error {
	m, ok := value.Normalize(v).(map[string]any)
	if !ok {
		return mismatch("a map", v)
	}
	if isJSONUnmarshaler(dst) {
		// The type knows its own encoding better than these rules do.
		b, err := json.Marshal(m)
		if err == nil {
			err = json.Unmarshal(b, dst.Addr().Interface())
		}
		return err
	}
	return fillStruct(dst, m)
}

func fillStruct(dst reflect.Value, m map[string]any) error {
	for sf := range structFields(dst.Type()) {
		fv := dst.FieldByIndex(sf.Index)
		if sf.flatten {
			if sf.Type.Kind() == reflect.Pointer {
				if !fv.CanSet() {
					continue // an unexported embedded pointer cannot be filled
				}
				fv.Set(reflect.New(sf.Type.Elem()))
				fv = fv.Elem()
			}
			if err := fillStruct(fv, m); err != nil {
				return err
			}
			continue
		}
		val, ok := m[sf.name]
		if !ok {
			continue
		}
		if err := assign(fv, val); err != nil {
			return fmt.Errorf("%s: %w", sf.name, err)
		}
	}
	return nil
}

func isJSONUnmarshaler(v reflect.Value) bool {
	if !v.CanAddr() {
		return false
	}
	_, ok := v.Addr().Interface().(json.Unmarshaler)
	return ok
}
