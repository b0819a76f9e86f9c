package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/value"
)

// InputError is a problem with a run's inputs: the run is refused before
// anything starts.
type InputError struct {
	Problems []string
}

func (e *InputError) Error() string {
	return "invalid inputs: " + strings.Join(e.Problems, "; ")
}

// CheckInputs applies defaults and checks the inputs against the
// Blueprint's declarations: a missing required input, a value of the wrong
// type, or (when the workflow declares inputs) an undeclared one is refused.
func CheckInputs(bp *blueprint.Blueprint, given map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(bp.Inputs)+len(given))
	var problems []string
	declared := map[string]bool{}
	for _, in := range bp.Inputs {
		declared[in.Name] = true
		v, ok := given[in.Name]
		if !ok {
			switch {
			case in.HasDefault || in.Default != nil:
				out[in.Name] = in.Default
			case in.Required:
				problems = append(problems, fmt.Sprintf("input %q is required", in.Name))
			}
			continue
		}
		cv, err := checkInput(in.Type, v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("input %q: %v", in.Name, err))
			continue
		}
		out[in.Name] = cv
	}
	var extra []string
	for k, v := range given {
		if declared[k] {
			continue
		}
		if len(bp.Inputs) > 0 {
			extra = append(extra, k)
			continue
		}
		out[k] = v
	}
	// Inputs are kept with the run: each must be a value every store keeps.
	names := make([]string, 0, len(out))
	for k := range out {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		cv, err := value.Canonical(out[k])
		if err != nil {
			problems = append(problems, fmt.Sprintf("input %q: %v", k, err))
			continue
		}
		out[k] = cv
	}
	sort.Strings(extra)
	for _, k := range extra {
		problems = append(problems, fmt.Sprintf("input %q is not declared by the workflow", k))
	}
	if len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	return out, nil
}

// checkInput checks a given value against its declared type. A
// json.Number (as ParseInput and ParseInputs return numbers) is read from
// its digits for an integer input, so an integer is exact over the whole
// int64 range rather than rounded to a float64 first; one outside that
// range is refused, as is a number whose float64 value is whole only
// because it was rounded (12345678901234567.0).
func checkInput(typ string, v any) (any, error) {
	n, ok := v.(json.Number)
	if !ok || typ != "integer" {
		return checkType(typ, value.Normalize(v))
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
		return int(i), nil
	}
	outOfRange := func() error {
		return fmt.Errorf("want integer, got %s, which is out of range: an integer input must be between %d and %d",
			n, int64(math.MinInt64), int64(math.MaxInt64))
	}
	if isIntLiteral(string(n)) {
		return nil, outOfRange()
	}
	f, err := n.Float64()
	switch {
	case err != nil && math.IsInf(f, 0):
		return nil, outOfRange()
	case err != nil:
		return nil, fmt.Errorf("want integer, got %q", string(n))
	case f != math.Trunc(f):
		return nil, fmt.Errorf("want integer, got number %s", n)
	case math.Abs(f) >= 1<<63:
		return nil, outOfRange()
	case math.Abs(f) >= 1<<53:
		return nil, fmt.Errorf("want integer, got number %s, which is not exact in that form: write an integer this large in plain digits", n)
	}
	return int(f), nil
}

// isIntLiteral reports whether s is an optional minus and digits only.
func isIntLiteral(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func checkType(typ string, v any) (any, error) {
	bad := func() error { return fmt.Errorf("want %s, got %s", typ, describe(v)) }
	switch typ {
	case "", "any":
		return v, nil
	case "string":
		if s, ok := v.(string); ok {
			return s, nil
		}
	case "integer":
		switch n := v.(type) {
		case int:
			return n, nil
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
				return int(n), nil
			}
		}
	case "number":
		switch v.(type) {
		case int, float64:
			return v, nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case "list":
		if l, ok := v.([]any); ok {
			return l, nil
		}
	case "map":
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	default:
		return v, nil
	}
	return nil, bad()
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		b, _ := json.Marshal(v)
		return "string " + string(b)
	case int, float64:
		return fmt.Sprintf("number %v", v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return value.TypeName(v)
}

// ParseInput parses a command-line value for input name: JSON, unless the
// input is declared as a string (or the text is not valid JSON, in which
// case it stays a string). Numbers are returned as json.Number, for
// CheckInputs: decoded as float64 an integer above 2^53 would already be
// rounded, and the check for an exact integer could not see it.
func ParseInput(bp *blueprint.Blueprint, name, text string) any {
	for _, in := range bp.Inputs {
		if in.Name == name && in.Type == "string" {
			return text
		}
	}
	var v any
	if err := value.UnmarshalExact(strings.NewReader(text), &v); err != nil {
		return text
	}
	return v
}

// ParseInputs parses a JSON object of inputs (an --input-file), with its
// numbers as json.Number, as ParseInput does.
func ParseInputs(data []byte) (map[string]any, error) {
	var in map[string]any
	if err := value.UnmarshalExact(bytes.NewReader(data), &in); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, errors.New("want a JSON object, not null")
	}
	return in, nil
}
