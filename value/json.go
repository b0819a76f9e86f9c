package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The codec is JSON with three tags, so that what JSON has no type for
// comes back as it went in:
//
//	time.Duration  {"$duration": "1h30m1s"}   (time.Duration.String, exact)
//	time.Time      {"$time": "2024-02-29T12:00:00Z"}   (RFC 3339, nanoseconds)
//	a map whose only key starts with "$"   {"$map": {...}}
//
// The last keeps a user's own map such as {"$time": "x"} from being read
// as a tag. Integers keep all their digits: Unmarshal reads numbers
// exactly, as int when whole and in range.
const (
	tagDuration = "$duration"
	tagTime     = "$time"
	tagMap      = "$map"
)

// Marshal encodes a value for a store. v should be canonical (Canonical);
// a float that is not finite is an error, as in encoding/json.
func Marshal(v any) ([]byte, error) { return json.Marshal(Tagged(v)) }

// MarshalString is Marshal as a string, for drivers that send text.
func MarshalString(v any) (string, error) {
	b, err := Marshal(v)
	return string(b), err
}

// needsTags reports whether v holds anything the plain JSON encoding would
// lose: a duration, a time, or a map that reads like a tag.
func needsTags(v any) bool {
	switch x := v.(type) {
	case nil, bool, string, int, float64:
		return false
	case []any:
		for _, e := range x {
			if needsTags(e) {
				return true
			}
		}
		return false
	case map[string]any:
		if looksTagged(x) {
			return true
		}
		for _, e := range x {
			if needsTags(e) {
				return true
			}
		}
		return false
	}
	return true // durations, times, and whatever Tagged must look at
}

func looksTagged(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return strings.HasPrefix(k, "$")
	}
	return false
}

// Tagged returns v in the form encoding/json writes as the codec does:
// v itself when nothing in it needs a tag (no copy), else a copy in which
// durations, times and tag-like maps are replaced by their tagged forms. A
// driver puts it in a struct of its own that it marshals in one go.
func Tagged(v any) any {
	if !needsTags(v) {
		return v
	}
	return tagged(v)
}

func tagged(v any) any {
	switch x := v.(type) {
	case time.Duration:
		return map[string]any{tagDuration: x.String()}
	case time.Time:
		return map[string]any{tagTime: x.Format(time.RFC3339Nano)}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = tagged(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = tagged(e)
		}
		if looksTagged(x) {
			return map[string]any{tagMap: out}
		}
		return out
	}
	return v
}

// Unmarshal decodes one value written by Marshal (or any JSON document):
// numbers exactly (int when whole and in range, else float64), tags back
// into durations and times. Data after the value is an error.
func Unmarshal(data []byte) (any, error) {
	var v any
	if err := UnmarshalExact(bytes.NewReader(data), &v); err != nil {
		return nil, err
	}
	return FromJSON(v)
}

// UnmarshalExact decodes the one JSON value r holds into v, with its
// numbers as json.Number, so that integers keep all their digits (a float64
// rounds those above 2^53); data after the value is an error. A value
// decoded into an `any` is then passed to FromJSON.
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

// FromJSON turns a value that encoding/json decoded with UseNumber into a
// canonical value: json.Numbers into ints and float64s, tags into
// durations and times. It reuses the decoder's containers, which nothing
// else shares.
func FromJSON(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return Normalize(x), nil
	case []any:
		for i, e := range x {
			n, err := FromJSON(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	case map[string]any:
		if len(x) == 1 {
			if t, ok := x[tagDuration]; ok {
				s, _ := t.(string)
				d, err := time.ParseDuration(s)
				if err != nil {
					return nil, fmt.Errorf("bad %s value %q", tagDuration, s)
				}
				return d, nil
			}
			if t, ok := x[tagTime]; ok {
				s, _ := t.(string)
				tm, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return nil, fmt.Errorf("bad %s value %q", tagTime, s)
				}
				return canonicalTime(tm), nil
			}
			if inner, ok := x[tagMap]; ok {
				m, ok := inner.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("bad %s value: not a map", tagMap)
				}
				for k, e := range m {
					n, err := FromJSON(e)
					if err != nil {
						return nil, err
					}
					m[k] = n
				}
				return m, nil
			}
		}
		for k, e := range x {
			n, err := FromJSON(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	}
	return v, nil
}

// RoundTrip is what a serializing store gives back for v: Marshal, then
// Unmarshal. The memory store applies it under the conformance suite, so
// that the suite checks the same values on every driver.
func RoundTrip(v any) (any, error) {
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	return Unmarshal(b)
}

// Export returns v as plain JSON data for people and other programs: a
// duration as its text ("1h30m1s"), a time as RFC 3339. It is what
// `--output json` prints; a store keeps the tagged form (Marshal).
func Export(v any) any {
	if !needsTags(v) {
		return v
	}
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Export(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Export(e)
		}
		return out
	}
	return v
}
