// Package value is the one place that says what a workflow value is once it
// leaves an expression or an action: the shapes every store keeps, and the
// codec that carries them through a store that serializes (Redis, SQL).
//
// A canonical value is one of: nil, bool, string, int, float64 (finite),
// time.Duration, time.Time (no monotonic reading; UTC, or a fixed zone
// with the time's offset), []any and map[string]any of canonical values.
// The runtime makes every value canonical before it enters a transition
// (Canonical), so the memory store keeps exactly what a serializing store
// reads back (Marshal, then Unmarshal): a workflow has one meaning on every
// store.
//
// The package imports nothing of the project: store, action, expr and the
// drivers all build on it.
package value

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Normalize turns numbers into the forms a run keeps: integer types become
// int, a whole float64 in int64's range becomes int, a json.Number becomes
// an int or a float64; other slices and maps with string keys become []any
// and map[string]any. Lists and maps are copied only when something inside
// changes, so values shared with node records are never mutated. Named
// scalar types (time.Duration, time.Month) and other values are returned
// unchanged: an expression still sees their methods. Canonical goes further.
func Normalize(v any) any {
	n, _ := normalize(v, false)
	return n
}

// Canonical returns v as a canonical value (see the package doc), or an
// error naming where in v a part cannot be kept by a store: a float that is
// not finite, a function, a channel. Structs and pointers go through
// encoding/json, so a host action's output reads the same (its json field
// names) on every store. Like Normalize, it copies only what changes.
func Canonical(v any) (any, error) {
	if isCanonical(v) {
		return v, nil
	}
	return canonical(v, "")
}

// isCanonical reports whether Canonical would return v unchanged, without
// allocating: the common case for every task's output.
func isCanonical(v any) bool {
	switch x := v.(type) {
	case nil, bool, string, int, time.Duration:
		return true
	case float64:
		return finite(x) && !whole(x)
	case time.Time:
		return canonicalTime(x) == x //nolint:staticcheck // the representation (zone, monotonic reading) must be canonical, not only the instant
	case []any:
		for _, e := range x {
			if !isCanonical(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !isCanonical(e) {
				return false
			}
		}
		return true
	}
	return false
}

func canonical(v any, path string) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int, time.Duration:
		return v, nil
	case float64:
		if !finite(x) {
			return nil, pathError(path, fmt.Errorf("%v is not a finite number", x))
		}
		n, _ := normalize(x, true)
		return n, nil
	case time.Time:
		return canonicalTime(x), nil
	case []any:
		var out []any
		for i, e := range x {
			if isCanonical(e) {
				if out != nil {
					out[i] = e
				}
				continue
			}
			n, err := canonical(e, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = make([]any, len(x))
				copy(out, x)
			}
			out[i] = n
		}
		if out == nil {
			return x, nil
		}
		return out, nil
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if isCanonical(e) {
				continue
			}
			n, err := canonical(e, path+"."+k)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			out[k] = n
		}
		if out == nil {
			return x, nil
		}
		return out, nil
	case json.Number:
		n, _ := normalize(x, true)
		return n, nil
	case []byte:
		// Bytes are text to a workflow: JSON would make them base64.
		return string(x), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return nil, pathError(path, fmt.Errorf("a %s cannot be kept in a run", TypeName(v)))
	case reflect.Float32, reflect.Float64:
		return canonical(rv.Float(), path)
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, _ := normalize(v, true)
		return n, nil
	case reflect.Slice, reflect.Array, reflect.Map:
		n, _ := normalize(v, true)
		if _, still := n.(map[string]any); still || isList(n) {
			return canonical(n, path)
		}
	}
	// Structs, pointers, maps with other keys: what encoding/json makes of
	// them is what a serializing store would keep.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, pathError(path, fmt.Errorf("%s cannot be kept in a run: %w", TypeName(v), err))
	}
	out, err := Unmarshal(b)
	if err != nil {
		return nil, pathError(path, err)
	}
	return out, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func pathError(path string, err error) error {
	if path == "" {
		return err
	}
	if path[0] == '.' {
		path = path[1:]
	}
	return fmt.Errorf("at %s: %w", path, err)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// whole reports whether Normalize makes f an int: every whole float64 in
// int64's range converts exactly (the rule blueprint.Decode applies to
// constants too).
func whole(f float64) bool {
	return f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64
}

// canonicalTime drops the monotonic reading and the zone's name: a store
// that serializes keeps the instant and the offset, nothing more.
func canonicalTime(t time.Time) time.Time {
	t = t.Round(0)
	name, off := t.Zone()
	if off == 0 {
		return t.UTC()
	}
	if name == "" && t.Location().String() == "" {
		return t // already a fixed zone without a name
	}
	return t.In(time.FixedZone("", off))
}

// normalize returns the normalized value and whether it differs from v.
// With named set (for Canonical), named scalar types other than Duration
// are turned into their underlying kind too.
func normalize(v any, named bool) (any, bool) {
	switch x := v.(type) {
	case int64:
		if x >= math.MinInt && x <= math.MaxInt {
			return int(x), true
		}
		return float64(x), true
	case uint64:
		if x <= math.MaxInt {
			return int(x), true
		}
		return float64(x), true
	case float64:
		if whole(x) {
			return int(x), true
		}
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
			return int(i), true
		}
		if f, err := x.Float64(); err == nil {
			n, _ := normalize(f, named)
			return n, true
		}
		return string(x), true
	case []any:
		var out []any
		for i, e := range x {
			n, changed := normalize(e, named)
			if changed && out == nil {
				out = make([]any, len(x))
				copy(out, x)
			}
			if out != nil {
				out[i] = n
			}
		}
		if out != nil {
			return out, true
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			n, changed := normalize(e, named)
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = n
			}
		}
		if out != nil {
			return out, true
		}
	case nil, bool, int, string, time.Duration, time.Time:
	default:
		return normalizeReflect(v, named)
	}
	return v, false
}

// normalizeReflect handles the other shapes expressions and host values
// take: a range `1..3` is a []int, a Go host value may be an int8 or a typed
// map.
func normalizeReflect(v any, named bool) (any, bool) {
	rv := reflect.ValueOf(v)
	if !named && rv.Type().PkgPath() != "" && rv.Kind() != reflect.Slice && rv.Kind() != reflect.Map {
		// A named scalar type (time.Month) means more than its number to
		// the expression that made it.
		return v, false
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return normalize(rv.Int(), named)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return normalize(rv.Uint(), named)
	case reflect.Float32, reflect.Float64:
		n, _ := normalize(rv.Float(), named)
		return n, true
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return v, false // bytes stay bytes here; Canonical makes them text
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any(nil), true
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i], _ = normalize(rv.Index(i).Interface(), named)
		}
		return out, true
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v, false
		}
		if rv.IsNil() {
			return map[string]any(nil), true
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[it.Key().String()], _ = normalize(it.Value().Interface(), named)
		}
		return out, true
	}
	return v, false
}

// TypeName is the name a workflow author knows a value's type by: null,
// boolean, integer, number, string, duration, time, list, map; for a Go
// value of another type, its Go type.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case time.Duration:
		return "duration"
	case time.Time:
		return "time"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	case float32, float64:
		return "number"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}
