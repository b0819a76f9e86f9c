package dsl

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSuggest(t *testing.T) {
	for _, c := range []struct {
		word       string
		candidates []string
		want       string
	}{
		{"Paralel", Kinds, "Parallel"},
		{"parallel", Kinds, "Parallel"}, // case only
		{"ACTION", Kinds, "Action"},
		{"Aciton", Kinds, "Action"}, // a swap is one edit
		{"Lop", Kinds, "Loop"},
		{"Task", Kinds, ""},
		{"Switchh", Kinds, "Switch"},
		{"nodez", names(workflowFields), "nodes"},
		{"http_pst", []string{"http", "http_post", "shell"}, "http_post"},
		{"htp", []string{"http", "http_post"}, "http"},
		{"x", []string{"y"}, "y"}, // a one-letter word still allows one edit
		{"xy", []string{"ab"}, ""},
		{"", []string{"a"}, ""},
		{"abc", nil, ""},
		{"fech", []string{"fetch", "fetched"}, "fetch"}, // the closest wins
		{"ab", []string{"ac", "ad"}, "ac"},              // ties go to the first
		{"großartig", []string{"grossartig", "großartik"}, "großartik"},
	} {
		require.Equal(t, c.want, Suggest(c.word, c.candidates), "Suggest(%q)", c.word)
	}
}

func TestHint(t *testing.T) {
	require.Equal(t, `; did you mean "Parallel"?`, Hint("Paralel", Kinds))
	require.Equal(t, "", Hint("Task", Kinds))
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"abcd", "acbd", 1}, {"ca", "abc", 3}, {"flaw", "lawn", 2},
	} {
		require.Equal(t, c.want, editDistance([]rune(c.a), []rune(c.b)), "%q %q", c.a, c.b)
		require.Equal(t, c.want, editDistance([]rune(c.b), []rune(c.a)), "%q %q", c.b, c.a)
	}
}
