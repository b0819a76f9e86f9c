package runtime

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
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
		v = action.Normalize(v)
		cv, err := checkType(in.Type, v)
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
		out[k] = action.Normalize(v)
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
	return fmt.Sprintf("%T", v)
}

// ParseInput parses a command-line value for input name: JSON, unless the
// input is declared as a string (or the text is not valid JSON, in which
// case it stays a string).
func ParseInput(bp *blueprint.Blueprint, name, text string) any {
	for _, in := range bp.Inputs {
		if in.Name == name && in.Type == "string" {
			return text
		}
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return text
	}
	return action.Normalize(v)
}
