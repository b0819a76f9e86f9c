package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Normalize turns a value into the plain shapes that expressions, stores and
// JSON output all agree on: whole numbers become int (so `status == 200` and
// `n * 2` behave as people expect and JSON prints 2, not 2.0), other numbers
// float64, and containers []any / map[string]any. It copies containers rather
// than editing them in place because the same value may be shared by several
// nodes of a run. Values of other types are returned unchanged.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, string:
		return v
	case int, time.Duration: // a Duration keeps its meaning
		return x
	case float64:
		return normFloat(x)
	case float32:
		return normFloat(float64(x))
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
		if f, err := x.Float64(); err == nil {
			return normFloat(f)
		}
		return string(x)
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
		}
		return out
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Normalize(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intOrFloat(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt {
			return int(u)
		}
		return float64(rv.Uint())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any(nil)
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return v // bytes are data, not a list of numbers
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = Normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		if rv.IsNil() {
			return map[string]any(nil)
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[it.Key().String()] = Normalize(it.Value().Interface())
		}
		return out
	}
	return v
}

func normFloat(f float64) any {
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 && !math.IsInf(f, 0) {
		return int(f)
	}
	return f
}

func intOrFloat(i int64) any {
	if i >= math.MinInt && i <= math.MaxInt {
		return int(i)
	}
	return float64(i)
}

// isNormal reports whether Normalize would return v unchanged: plain shapes,
// and no whole float64 (Normalize turns those into int).
func isNormal(v any) bool {
	switch x := v.(type) {
	case nil, bool, string, int:
		return true
	case float64:
		return normFloat(x) == any(x)
	case []any:
		for _, e := range x {
			if !isNormal(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !isNormal(e) {
				return false
			}
		}
		return true
	}
	return false
}

// isPlain reports whether v is already made only of the shapes Normalize
// produces, so a host action's output can skip the JSON round trip.
func isPlain(v any) bool {
	switch x := v.(type) {
	case nil, bool, string, int, float64:
		return true
	case []any:
		for _, e := range x {
			if !isPlain(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !isPlain(e) {
				return false
			}
		}
		return true
	}
	return false
}

// Plain makes an action's output storable: structs and other Go types are
// passed through encoding/json so expressions see the same field names (the
// json ones) on every store, including Redis, where outputs are serialized
// anyway. An output that is already normalized (as the built-ins' are) is
// returned as it is, without a copy: this runs once per task.
func Plain(v any) (any, error) {
	if isNormal(v) {
		return v, nil
	}
	if isPlain(v) {
		return Normalize(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("output is not JSON-encodable: %w", err)
	}
	return decodeJSON(b)
}

// decodeJSON keeps integers exact (json.Number) before Normalize, so ids
// larger than 2^53 survive.
func decodeJSON(b []byte) (any, error) {
	var out any
	if err := UnmarshalExact(bytes.NewReader(b), &out); err != nil {
		return nil, err
	}
	return Normalize(out), nil
}

// UnmarshalExact decodes the one JSON value r holds into v, with its
// numbers as json.Number, so that integers keep all their digits (a
// float64 rounds those above 2^53) until Normalize turns them into ints;
// data after the value is an error.
func UnmarshalExact(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON: data after the value")
	}
	return nil
}

// interruptedError reports an action stopped by its context. Its text says
// "timed out" or "cancelled" in words (a bare "context deadline exceeded"
// does not tell a user that the node's timeout fired), and it wraps both the
// context error and its cause for errors.Is.
type interruptedError struct {
	msg   string
	err   error
	cause error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() []error {
	if e.cause == nil || e.cause == e.err { //nolint:errorlint // identity: the same error must not be listed twice
		return []error{e.err}
	}
	return []error{e.err, e.cause}
}

// interrupted builds the error an action returns when ctx ends its work.
func interrupted(ctx context.Context, what string) error {
	err := ctx.Err()
	if err == nil {
		err = context.Canceled
	}
	cause := context.Cause(ctx)
	verb := "cancelled"
	if errors.Is(err, context.DeadlineExceeded) {
		verb = "timed out"
	}
	msg := fmt.Sprintf("%s: %s", what, verb)
	if cause != nil && cause != err { //nolint:errorlint // identity, as above
		msg += ": " + cause.Error()
	}
	return &interruptedError{msg: msg, err: err, cause: cause}
}

// stringParam reads an optional string param; absent reads as "".
func stringParam(p map[string]any, name string) string {
	s, _ := toString(p[name])
	return s
}

// durationParam reads a Duration param. It also accepts the undecoded
// string form, so an action called with raw params (a test, a host calling
// Run directly) does not silently see zero.
func durationParam(p map[string]any, name string) (time.Duration, error) {
	v, ok := p[name]
	if !ok || v == nil {
		return 0, nil
	}
	d, err := coerceType(Duration, Any, v)
	if err != nil {
		return 0, &ParamError{Param: name, Err: err}
	}
	return d.(time.Duration), nil
}
