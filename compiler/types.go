package compiler

import (
	"slices"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/dsl"
	skexpr "github.com/skript-dev/skript/expr"
)

// This file checks the static types of expressions where the run would
// otherwise find them wrong: the checker in package expr knows the types
// of the inputs, of literals and of what operators and builtins return;
// node outputs, items, params and untyped inputs are unknown and left to
// the run.

// bareTypes are the static types each bare field accepts besides unknown:
// what the runtime takes there (see runtime/vm.go).
var bareTypes = map[string][]string{
	"condition":  {"boolean"},
	"while":      {"boolean"},
	"loop until": {"boolean"},
	"break_if":   {"boolean"},
	"when":       {"boolean"},
	"for_each":   {"list"},
	"until":      {"string", "time"},
	"duration":   {"string", "duration"},
}

// bareWants says what a bare field must give, for messages.
var bareWants = map[string]string{
	"condition":  "true or false",
	"while":      "true or false",
	"loop until": "true or false",
	"break_if":   "true or false",
	"when":       "true or false",
	"for_each":   "a list",
	"until":      "an RFC 3339 time such as 2030-01-02T15:04:05Z",
	"duration":   `a duration such as "30s"`,
}

// checkBareType refuses a bare field whose expression has a static type
// the run could only fail on: `condition: input.n + 1` with n an integer,
// `for_each: input.s` with s a string. typ is "" when the type depends on
// the run's data; that is left to the run.
func (c *compiler) checkBareType(v *dsl.Value, field, typ string) {
	ok, known := bareTypes[field]
	if typ == "" || !known || slices.Contains(ok, typ) {
		return
	}
	c.errs.Add(c.file, v.Pos, "%s is a %s, not %s", fieldName(field), typ, bareWants[field])
}

// paramTypes are the static types each param type takes at run time (see
// action.Field.CheckValue); a static "number" may hold an integer.
var paramTypes = map[action.Type][]string{
	action.String:   {"string", "number", "boolean"},
	action.Integer:  {"number"},
	action.Number:   {"number"},
	action.Boolean:  {"boolean"},
	action.Duration: {"string", "duration"},
	action.List:     {"list"},
	action.Map:      {"map"},
}

// checkParamTypes refuses a param that is one template whose static type
// its field cannot take: `duration: "${{ input.n }}"` for sleep, with n an
// integer. Other templated params are checked when the run evaluates them.
func (c *compiler) checkParamTypes(x *inode, src *skexpr.Source) {
	a, ok := c.reg.Lookup(x.n.Action)
	if !ok {
		return
	}
	for _, f := range x.n.Params.Map {
		fd, ok := a.Schema.Field(f.Key)
		if !ok || f.Value == nil {
			continue
		}
		typ := src.TypeNameOf(f.Value)
		takes, checked := paramTypes[fd.Type]
		if typ == "" || !checked || slices.Contains(takes, typ) {
			continue
		}
		c.errorf(f.Value.Pos, "param %q of action %q must be %s, not %s", f.Key, a.Name, typePhrase(fd.Type), "a "+typ)
	}
}

// typePhrase names a param type after "must be".
func typePhrase(t action.Type) string {
	switch t {
	case action.Integer:
		return "an integer"
	case action.Duration:
		return `a duration such as "200ms"`
	}
	return "a " + t.String()
}
