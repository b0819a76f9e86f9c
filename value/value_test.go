package value_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/value"
)

type host struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

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
			require.Equal(t, tt.want, value.Normalize(tt.in))
		})
	}
}

func TestNormalizeCopies(t *testing.T) {
	in := map[string]any{"n": 1.0}
	out := value.Normalize(in).(map[string]any)
	out["n"] = "changed"
	require.Equal(t, 1.0, in["n"], "the input is shared with other nodes and must not change")
}

func TestCanonical(t *testing.T) {
	when := time.Date(2024, 2, 29, 12, 0, 0, 5, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"int64", int64(7), 7},
		{"uint8", uint8(7), 7},
		{"whole float", 2.0, 2},
		{"float", 2.5, 2.5},
		{"float32", float32(0.5), 0.5},
		{"big uint", uint64(math.MaxUint64), float64(math.MaxUint64)},
		{"json number", json.Number("9007199254740993"), 9007199254740993},
		{"duration", 90 * time.Minute, 90 * time.Minute},
		{"named int", time.February, 2},
		{"time in a named zone", when, when.In(time.FixedZone("", 3600))},
		{"utc time", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"range", []int{1, 2}, []any{1, 2}},
		{"bytes", []byte("hi"), "hi"},
		{"typed map", map[string]int64{"a": 1}, map[string]any{"a": 1}},
		{"nested", map[string]any{"l": []any{int32(1), map[string]any{"d": time.Second}}}, map[string]any{"l": []any{1, map[string]any{"d": time.Second}}}},
		{"struct", host{Name: "x", Count: 3}, map[string]any{"name": "x", "count": 3}},
		{"pointer", &host{Name: "y"}, map[string]any{"name": "y", "count": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := value.Canonical(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			again, err := value.Canonical(got)
			require.NoError(t, err)
			require.Equal(t, got, again, "canonical values are a fixed point")
		})
	}
}

func TestCanonicalRefuses(t *testing.T) {
	for name, in := range map[string]any{
		"NaN":          math.NaN(),
		"Inf in list":  []any{1, math.Inf(1)},
		"func in map":  map[string]any{"f": func() {}},
		"chan":         make(chan int),
		"complex":      complex(1, 2),
		"deep Inf map": map[string]any{"a": map[string]any{"b": []any{math.Inf(-1)}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := value.Canonical(in)
			require.Error(t, err)
		})
	}
	_, err := value.Canonical(map[string]any{"a": map[string]any{"b": []any{math.Inf(-1)}}})
	require.ErrorContains(t, err, "at a.b[0]: -Inf is not a finite number")
}

func TestCanonicalCopiesOnlyWhatChanges(t *testing.T) {
	shared := []any{1, "x", []any{2}}
	got, err := value.Canonical(shared)
	require.NoError(t, err)
	require.Same(t, &shared[0], &got.([]any)[0], "a canonical list is returned as it is")

	in := []any{int64(1), []any{2}}
	got, err = value.Canonical(in)
	require.NoError(t, err)
	require.Equal(t, int64(1), in[0], "the input is not changed")
	require.Equal(t, []any{1, []any{2}}, got)
}

func TestRoundTrip(t *testing.T) {
	when := time.Date(2024, 2, 29, 12, 0, 0, 123456789, time.UTC)
	east := time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("", 5*3600+1800))
	for name, in := range map[string]any{
		"scalars":     []any{nil, true, "s", 1, -2.5, 9007199254740993, math.MinInt64, math.MaxInt64},
		"durations":   []any{time.Second, 90*time.Minute + time.Second, 1500 * time.Nanosecond, -time.Hour, time.Duration(0)},
		"times":       []any{when, east},
		"nested":      map[string]any{"a": map[string]any{"b": []any{map[string]any{"d": time.Millisecond}}}},
		"tag-like":    map[string]any{"$time": "not a time"},
		"tag-like 2":  map[string]any{"$map": map[string]any{"$duration": 5}},
		"dollar keys": map[string]any{"$a": 1, "$b": 2},
		"empty":       map[string]any{"l": []any{}, "m": map[string]any{}},
		"big float":   1e300,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := value.Canonical(in)
			require.NoError(t, err)
			got, err := value.RoundTrip(c)
			require.NoError(t, err)
			require.Equal(t, c, got)
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, in := range []string{`{"$duration": "soon"}`, `{"$time": 5}`, `{"$map": 1}`, `1 2`, `{`} {
		_, err := value.Unmarshal([]byte(in))
		require.Error(t, err, in)
	}
}

func TestExport(t *testing.T) {
	in := map[string]any{"d": 90 * time.Minute, "t": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "n": 1}
	require.Equal(t, map[string]any{"d": "1h30m0s", "t": "2024-02-29T00:00:00Z", "n": 1}, value.Export(in))
}

func TestTypeName(t *testing.T) {
	require.Equal(t, "list", value.TypeName([]any{}))
	require.Equal(t, "list", value.TypeName([]int{1}))
	require.Equal(t, "map", value.TypeName(map[string]any{}))
	require.Equal(t, "duration", value.TypeName(time.Second))
	require.Equal(t, "integer", value.TypeName(3))
	require.Equal(t, "null", value.TypeName(nil))
}

func TestUnmarshalKeepsBigIntegers(t *testing.T) {
	v, err := value.Unmarshal([]byte(`{"id": 9007199254740993, "f": 1.5, "n": 2}`))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": 9007199254740993, "f": 1.5, "n": 2}, v)
}

func TestNormalizeCopiesOnWrite(t *testing.T) {
	inner := map[string]any{"x": int64(1)}
	l := []any{inner, "s"}
	n := value.Normalize(l).([]any)
	require.Equal(t, int64(1), inner["x"], "the original is untouched")
	require.Equal(t, 1, n[0].(map[string]any)["x"])
	same := []any{1, "a"}
	require.Equal(t, &same[0], &value.Normalize(same).([]any)[0])
}
