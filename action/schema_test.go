package action

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTypeString(t *testing.T) {
	want := []string{"any", "string", "integer", "number", "boolean", "list", "map", "duration"}
	for i, w := range want {
		require.Equal(t, w, Type(i).String())
	}
	require.Equal(t, "type(42)", Type(42).String())
}

func TestCheckValue(t *testing.T) {
	level := Field{Name: "level", Type: String, Enum: []string{"debug", "info", "warn", "error"}}
	tests := []struct {
		name  string
		field Field
		value any
		err   string // "" means the value fits
	}{
		{"any takes a map", Field{Type: Any}, map[string]any{"a": 1}, ""},
		{"any takes null", Field{Type: Any, Required: true}, nil, ""},
		{"string", Field{Type: String}, "x", ""},
		{"string from integer", Field{Type: String}, int64(42), ""},
		{"string from yaml bool", Field{Type: String}, true, ""},
		{"string refuses list", Field{Type: String}, []any{"a"}, "must be a string, got list"},
		{"string refuses map", Field{Type: String}, map[string]any{}, "must be a string, got map"},
		{"required refuses null", Field{Type: String, Required: true}, nil, "must be a string, got null"},
		{"optional takes null", Field{Type: String}, nil, ""},
		{"enum", level, "warn", ""},
		{"enum refuses", level, "loud", `must be one of debug, info, warn, error, got "loud"`},
		{"enum refuses number", level, 3, `must be one of debug, info, warn, error, got 3`},
		{"integer", Field{Type: Integer}, int64(3), ""},
		{"integer from whole float", Field{Type: Integer}, 3.0, ""},
		{"integer refuses fraction", Field{Type: Integer}, 3.5, "must be an integer, got 3.5"},
		{"integer refuses string", Field{Type: Integer}, "3", `must be an integer, got "3"`},
		{"integer refuses duration", Field{Type: Integer}, time.Second, "must be an integer, got 1s"},
		{"number int", Field{Type: Number}, 3, ""},
		{"number float", Field{Type: Number}, 3.25, ""},
		{"number refuses bool", Field{Type: Number}, true, "must be a number, got true"},
		{"boolean", Field{Type: Boolean}, false, ""},
		{"boolean refuses string", Field{Type: Boolean}, "yes", `must be a boolean, got "yes"`},
		{"list", Field{Type: List}, []any{1, "a"}, ""},
		{"list refuses map", Field{Type: List}, map[string]any{}, "must be a list, got map"},
		{"list refuses string", Field{Type: List}, "a,b", `must be a list, got "a,b"`},
		{"list of integers", Field{Type: List, Elem: Integer}, []any{int64(404), 409.0}, ""},
		{"list of integers refuses", Field{Type: List, Elem: Integer}, []any{404, "x"}, `must be a list of integers, got "x" at index 1`},
		{"list of strings refuses null", Field{Type: List, Elem: String}, []any{nil}, `must be a list of strings, got null at index 0`},
		{"map", Field{Type: Map}, map[string]any{"a": []any{}}, ""},
		{"map refuses list", Field{Type: Map}, []any{}, "must be a map, got list"},
		{"map of strings", Field{Type: Map, Elem: String}, map[string]any{"X-A": "b", "X-N": 1}, ""},
		{"map of strings refuses", Field{Type: Map, Elem: String}, map[string]any{"X-A": []any{}}, `must be a map of strings, got list at key "X-A"`},
		{"duration", Field{Type: Duration}, "200ms", ""},
		{"duration compound", Field{Type: Duration}, "1m30s", ""},
		{"duration refuses words", Field{Type: Duration}, "soon", `must be a duration like "200ms", got "soon"`},
		{"duration refuses integer", Field{Type: Duration}, int64(200), `must be a duration like "200ms", got 200`},
		{"duration refuses negative", Field{Type: Duration}, "-1s", `must be a duration that is not negative, got "-1s"`},
		{"long strings are shortened", Field{Type: Integer}, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			`must be an integer, got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.field.CheckValue(tt.value)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.err)
		})
	}
}

func TestDecode(t *testing.T) {
	s := Schema{Fields: []Field{
		{Name: "msg", Type: String, Required: true},
		{Name: "level", Type: String, Default: "info", Enum: []string{"debug", "info"}},
		{Name: "count", Type: Integer},
		{Name: "ratio", Type: Number},
		{Name: "wait", Type: Duration, Default: "30s"},
		{Name: "codes", Type: List, Elem: Integer},
		{Name: "labels", Type: Map, Elem: String},
		{Name: "data", Type: Any},
	}}
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
		err  string
	}{
		{
			name: "defaults applied",
			in:   map[string]any{"msg": "hi"},
			want: map[string]any{"msg": "hi", "level": "info", "wait": 30 * time.Second},
		},
		{
			name: "null means absent",
			in:   map[string]any{"msg": "hi", "level": nil, "count": nil},
			want: map[string]any{"msg": "hi", "level": "info", "wait": 30 * time.Second},
		},
		{
			name: "values coerced",
			in: map[string]any{
				"msg": 7, "count": 1.0, "ratio": json.Number("0.5"), "wait": "1m30s",
				"codes": []any{404.0, int64(409)}, "labels": map[string]any{"on": true},
				"data": map[string]any{"n": 2.0},
			},
			want: map[string]any{
				"msg": "7", "level": "info", "count": 1, "ratio": 0.5, "wait": 90 * time.Second,
				"codes": []any{404, 409}, "labels": map[string]any{"on": "true"},
				"data": map[string]any{"n": 2},
			},
		},
		{
			name: "already decoded values pass again",
			in:   map[string]any{"msg": "hi", "wait": 2 * time.Second},
			want: map[string]any{"msg": "hi", "level": "info", "wait": 2 * time.Second},
		},
		{
			name: "every problem reported",
			in:   map[string]any{"count": 1.5, "wait": "soon", "zzz": 1, "colour": "red"},
			err: "colour: unknown param; known params: msg, level, count, ratio, wait, codes, labels, data\n" +
				"zzz: unknown param; known params: msg, level, count, ratio, wait, codes, labels, data\n" +
				"msg: missing required param\n" +
				"count: must be an integer, got 1.5\n" +
				`wait: must be a duration like "200ms", got "soon"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Decode(tt.in)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeParamError(t *testing.T) {
	s := Schema{Fields: []Field{{Name: "duration", Type: Duration, Required: true}}}
	_, err := s.Decode(map[string]any{"duration": "soon"})
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "duration", pe.Param, "the compiler points at the param's YAML key")
}

func TestDecodeOpen(t *testing.T) {
	s := Schema{Open: true}
	got, err := s.Decode(map[string]any{"a": 1.0, "b": []any{2.0}, "c": nil})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": 1, "b": []any{2}, "c": nil}, got)
}

func TestDecodeNoParams(t *testing.T) {
	var s Schema
	got, err := s.Decode(nil)
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = s.Decode(map[string]any{"x": 1})
	require.EqualError(t, err, "x: unknown param; this action takes no params")
}

func TestCheckKeysOneOf(t *testing.T) {
	s := Schema{
		Fields: []Field{{Name: "command", Type: String}, {Name: "args", Type: List}},
		OneOf:  [][]string{{"command", "args"}},
	}
	require.Empty(t, s.CheckKeys([]string{"command"}))
	require.Empty(t, s.CheckKeys([]string{"args"}))
	require.EqualError(t, s.CheckKeys(nil)[0], "needs exactly one of command, args, got none")
	require.EqualError(t, s.CheckKeys([]string{"args", "command"})[0], "needs exactly one of command, args, got 2")

	_, err := s.Decode(map[string]any{"command": "ls", "args": []any{"ls"}})
	require.EqualError(t, err, "needs exactly one of command, args, got 2")
	_, err = s.Decode(map[string]any{"command": nil})
	require.EqualError(t, err, "needs exactly one of command, args, got none")
}

func TestSchemaField(t *testing.T) {
	s := Schema{Fields: []Field{{Name: "a"}, {Name: "b", Type: Integer}}}
	f, ok := s.Field("b")
	require.True(t, ok)
	require.Equal(t, Integer, f.Type)
	_, ok = s.Field("c")
	require.False(t, ok)
}

func TestSchemaValidate(t *testing.T) {
	tests := []struct {
		name   string
		schema Schema
		err    string
	}{
		{"ok", Schema{Fields: []Field{{Name: "a", Type: Duration, Default: "1s"}}}, ""},
		{"duration default as value", Schema{Fields: []Field{{Name: "a", Type: Duration, Default: time.Second}}}, ""},
		{"no name", Schema{Fields: []Field{{Type: String}}}, "field 0 has no name"},
		{"twice", Schema{Fields: []Field{{Name: "a"}, {Name: "a"}}}, `field "a" declared twice`},
		{"enum on integer", Schema{Fields: []Field{{Name: "a", Type: Integer, Enum: []string{"x"}}}}, `field "a": enum needs type string, not integer`},
		{"bad default", Schema{Fields: []Field{{Name: "a", Type: Duration, Default: "later"}}}, `field "a": default must be a duration like "200ms", got "later"`},
		{"default outside enum", Schema{Fields: []Field{{Name: "a", Type: String, Default: "x", Enum: []string{"y"}}}}, `field "a": default must be one of y, got "x"`},
		{"one-of unknown", Schema{Fields: []Field{{Name: "a"}}, OneOf: [][]string{{"a", "b"}}}, `one-of group names undeclared field "b"`},
		{"unknown type", Schema{Fields: []Field{{Name: "a", Type: Type(99)}}}, `field "a": unknown type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.schema.validate()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.err)
		})
	}
}

func TestDescribeNamesSkriptTypes(t *testing.T) {
	require.Equal(t, "time", describe(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, "list", describe([]int{1}))
}
