package action

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"whole float", 2.0, 2},
		{"negative whole float", -3.0, -3},
		{"fraction", 2.5, 2.5},
		{"huge float stays float", 1e300, 1e300},
		{"inf stays float", math.Inf(1), math.Inf(1)},
		{"int64", int64(7), 7},
		{"uint8", uint8(7), 7},
		{"float32", float32(1.5), 1.5},
		{"json int", json.Number("12"), 12},
		{"json big int", json.Number("9007199254740993"), 9007199254740993},
		{"json float", json.Number("1.25"), 1.25},
		{"json whole float", json.Number("3.0"), 3},
		{"string", "x", "x"},
		{"duration untouched", 2 * time.Second, 2 * time.Second},
		{"list", []any{1.0, "a", []any{2.0}}, []any{1, "a", []any{2}}},
		{"map", map[string]any{"n": 4.0, "m": map[string]any{"f": 0.5}}, map[string]any{"n": 4, "m": map[string]any{"f": 0.5}}},
		{"typed slice", []string{"a", "b"}, []any{"a", "b"}},
		{"typed map", map[string]int64{"a": 1}, map[string]any{"a": 1}},
		{"bytes untouched", []byte("hi"), []byte("hi")},
		{"nil list stays nil", []any(nil), []any(nil)},
		{"nil typed map stays nil", map[string]string(nil), map[string]any(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Normalize(tt.in))
		})
	}
}

func TestNormalizeCopies(t *testing.T) {
	in := map[string]any{"n": 1.0}
	out := Normalize(in).(map[string]any)
	out["n"] = "changed"
	require.Equal(t, 1.0, in["n"], "the input is shared with other nodes and must not change")
}

func TestDecodeJSONKeepsBigIntegers(t *testing.T) {
	v, err := decodeJSON([]byte(`{"id": 9007199254740993, "f": 1.5, "n": 2}`))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": 9007199254740993, "f": 1.5, "n": 2}, v)

	_, err = decodeJSON([]byte(`{} x`))
	require.Error(t, err)
}

func TestPlainKeepsNormalOutputs(t *testing.T) {
	m := map[string]any{"a": 1, "b": []any{"x", 2.5}}
	got, err := Plain(m)
	require.NoError(t, err)
	require.Equal(t, m, got)
	got, err = Plain(map[string]any{"n": 2.0})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"n": 2}, got)
	type out struct {
		ID int `json:"id"`
	}
	got, err = Plain(out{ID: 7})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": 7}, got)
}
