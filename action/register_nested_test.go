package action

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type nestedInner struct {
	Wait time.Duration
	Tag  string `skript:"required"`
	Size int    `skript:"default=3"`
}

type nestedParams struct {
	In    nestedInner
	Opt   *nestedInner
	Items []nestedInner
	ByKey map[string]nestedInner `json:"by_key"`
	Small uint8
	Delta int8
	Self  *selfRef
}

// selfRef holds itself: its schema cannot follow it, so it stays unchecked
// rather than recursing forever.
type selfRef struct {
	Next *selfRef
	Name string
}

func TestNestedStructSchema(t *testing.T) {
	r := NewRegistry()
	var got nestedParams
	require.NoError(t, Register(r, "nested", func(_ context.Context, p nestedParams) (any, error) {
		got = p
		return nil, nil
	}))
	a, _ := r.Lookup("nested")
	in, _ := a.Schema.Field("in")
	require.NotNil(t, in.Struct)
	items, _ := a.Schema.Field("items")
	require.Equal(t, Map, items.Elem)
	require.NotNil(t, items.ElemStruct)
	self, _ := a.Schema.Field("self")
	require.NotNil(t, self.Struct)
	next, _ := self.Struct.Field("next")
	require.Nil(t, next.Struct)

	// What the compiler checks on a constant value.
	for _, tc := range []struct {
		field string
		value any
		err   string
	}{
		{"in", map[string]any{"wait": "1s", "tag": "x"}, ""},
		{"in", map[string]any{"wait": 5, "bogus": 1, "tag": "x"}, "bogus: unknown param; known params: wait, tag, size\n" +
			`wait: must be a duration like "200ms", got 5`},
		{"in", map[string]any{"wait": "1s"}, "tag: missing required param"},
		{"in", "x", `must be a map, got "x"`},
		{"items", []any{map[string]any{"tag": "a"}, map[string]any{}}, "[1].tag: missing required param"},
		{"items", []any{"x"}, `must be a list of maps, got "x" at index 0`},
		{"by_key", map[string]any{"k": map[string]any{"tag": 1, "size": "big"}}, `["k"].size: must be an integer, got "big"`},
		{"small", 255, ""},
		{"small", 300, "must be an integer from 0 to 255, got 300"},
		{"small", -1, "must be an integer from 0 to 255, got -1"},
		{"delta", -129, "must be an integer from -128 to 127, got -129"},
	} {
		f, ok := a.Schema.Field(tc.field)
		require.True(t, ok, tc.field)
		err := f.CheckValue(tc.value)
		if tc.err == "" {
			require.NoError(t, err, tc.field)
		} else {
			require.EqualError(t, err, tc.err, tc.field)
		}
	}

	// What the runtime does with evaluated params: every problem by its path.
	_, err := a.Schema.Decode(map[string]any{
		"in":    map[string]any{"wait": "1s"},
		"items": []any{map[string]any{"tag": "a", "bogus": true}},
		"opt":   map[string]any{"tag": "o", "wait": "soon"},
	})
	require.EqualError(t, err, "in.tag: missing required param\n"+
		`opt.wait: must be a duration like "200ms", got "soon"`+"\n"+
		"items[0].bogus: unknown param; known params: wait, tag, size")

	params, err := a.Schema.Decode(map[string]any{
		"in":     map[string]any{"wait": "1s", "tag": "t"},
		"items":  []any{map[string]any{"tag": "a", "wait": "2ms"}},
		"by_key": map[string]any{"k": map[string]any{"tag": 7}},
		"small":  200,
	})
	require.NoError(t, err)
	_, err = a.Run(context.Background(), &Call{Params: params})
	require.NoError(t, err)
	require.Equal(t, nestedParams{
		In:    nestedInner{Wait: time.Second, Tag: "t", Size: 3},
		Items: []nestedInner{{Wait: 2 * time.Millisecond, Tag: "a", Size: 3}},
		ByKey: map[string]nestedInner{"k": {Tag: "7", Size: 3}},
		Small: 200,
	}, got)
}

func TestNestedStructSchemaErrors(t *testing.T) {
	_, err := SchemaOf[struct {
		In struct {
			N int `skript:"default=many"`
		}
	}]()
	require.ErrorContains(t, err, "invalid syntax")

	_, err = SchemaOf[struct {
		In struct {
			Small uint8 `skript:"default=300"`
		}
	}]()
	require.ErrorContains(t, err, `field "in": field "small": default must be an integer from 0 to 255, got 300`)
}
