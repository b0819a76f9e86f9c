package expr

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSkriptTypeNames(t *testing.T) {
	for in, want := range map[string]string{
		"invalid operation: []interface {} + int":              "invalid operation: list + integer",
		"invalid operation: map[string]interface {} + float64": "invalid operation: map + number",
		"invalid operation: <nil> + int":                       "invalid operation: null + integer",
		"cannot fetch foo from int64":                          "cannot fetch foo from integer",
		"invalid operation: time.Duration * bool":              "invalid operation: duration * boolean",
		"invalid operation: time.Time + []string":              "invalid operation: time + list",
		"map[string][]interface {} is not a string":            "map is not a string",
		"interface conversion: interface {} is string":         "interface conversion: value is string",
		"mismatched types int and string":                      "mismatched types integer and string",
		"unknown name print in interval":                       "unknown name print in interval",
	} {
		require.Equal(t, want, skriptTypeNames(in), in)
	}
}

func TestSkriptTypeNamesKeepFunctionCalls(t *testing.T) {
	require.Equal(t, "invalid operation: int(x) of boolean", skriptTypeNames("invalid operation: int(x) of bool"))
}
