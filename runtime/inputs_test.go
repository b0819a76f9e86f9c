package runtime_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/runtime"
)

func inputsBP() *blueprint.Blueprint {
	return &blueprint.Blueprint{Inputs: []blueprint.Input{
		{Name: "id", Type: "integer"}, {Name: "x", Type: "number"}, {Name: "s", Type: "string"},
		{Name: "l", Type: "list"}, {Name: "m", Type: "map"}, {Name: "a"},
	}}
}

// Command-line values go through ParseInput and CheckInputs as `skript run
// --input` does: integers keep every digit up to the int64 limits, and what
// is not an exact integer is refused rather than rounded.
func TestParseAndCheckInputs(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       any
		err        string
	}{
		{"id", "3", 3, ""},
		{"id", "-3", -3, ""},
		{"id", "12345678901234567", 12345678901234567, ""},
		{"id", "-12345678901234567", -12345678901234567, ""},
		{"id", "9223372036854775807", 9223372036854775807, ""},
		{"id", "-9223372036854775808", -9223372036854775808, ""},
		{"id", "2.0", 2, ""},
		{"id", "1e3", 1000, ""},
		{"id", "9223372036854775808", nil, "out of range: an integer input must be between -9223372036854775808 and 9223372036854775807"},
		{"id", "-123456789012345678901234567890", nil, "out of range"},
		{"id", "12345678901234567.0", nil, "not exact in that form"},
		{"id", "1e300", nil, "out of range"},
		{"id", "-1e400", nil, "out of range"},
		{"id", "1.5", nil, "want integer, got number 1.5"},
		{"id", `"7"`, nil, `want integer, got string "7"`},
		{"id", "abc", nil, `want integer, got string "abc"`},
		{"id", "1 2", nil, `want integer, got string "1 2"`},
		{"x", "1.5", 1.5, ""},
		{"x", "2", 2, ""},
		{"x", "12345678901234567", 12345678901234567, ""},
		{"x", "1e300", 1e300, ""},
		{"s", "12345678901234567", "12345678901234567", ""},
		{"l", "[1, 12345678901234567, 2.5]", []any{1, 12345678901234567, 2.5}, ""},
		{"m", `{"n": 12345678901234567}`, map[string]any{"n": 12345678901234567}, ""},
		{"a", "12345678901234567", 12345678901234567, ""},
		{"a", "{bad", "{bad", ""},
	} {
		t.Run(tc.name+"="+tc.text, func(t *testing.T) {
			bp := inputsBP()
			got, err := runtime.CheckInputs(bp, map[string]any{tc.name: runtime.ParseInput(bp, tc.name, tc.text)})
			if tc.err != "" {
				var ie *runtime.InputError
				require.ErrorAs(t, err, &ie)
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got[tc.name])
		})
	}
}

func TestParseInputs(t *testing.T) {
	in, err := runtime.ParseInputs([]byte(`{"id": 12345678901234567, "l": [1.5, 2]}`))
	require.NoError(t, err)
	require.Equal(t, json.Number("12345678901234567"), in["id"])
	got, err := runtime.CheckInputs(inputsBP(), in)
	require.NoError(t, err)
	require.Equal(t, 12345678901234567, got["id"])
	require.Equal(t, []any{1.5, 2}, got["l"])

	for _, bad := range []string{`[1]`, `null`, `{"a": 1} {}`, `{"a": `, ``} {
		_, err := runtime.ParseInputs([]byte(bad))
		require.Error(t, err, bad)
	}
	_, err = runtime.CheckInputs(inputsBP(), map[string]any{"id": json.Number("12345678901234567890")})
	require.ErrorContains(t, err, "out of range")
	_, err = runtime.CheckInputs(inputsBP(), map[string]any{"id": json.Number("seven")})
	require.ErrorContains(t, err, `want integer, got "seven"`)
}
