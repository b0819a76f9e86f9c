package dsl

import (
	"strings"
	"unicode/utf8"
)

// Suggest returns the candidate that word most likely misspells, or "" when
// none is close enough. Letter case is ignored when measuring, so
// "parallel" finds "Parallel"; otherwise a candidate must be within
// max(1, len(word)/3) edits (insertions, deletions, substitutions and
// swaps of neighbours), which catches typos without proposing unrelated
// words. The first of equally close candidates wins, so callers list them
// in order of preference.
func Suggest(word string, candidates []string) string {
	if word == "" {
		return ""
	}
	lw := []rune(strings.ToLower(word))
	limit := max(1, utf8.RuneCountInString(word)/3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if strings.EqualFold(c, word) {
			return c
		}
		// The distance is at least the difference in length: skip the
		// table when that alone is too far.
		if n := utf8.RuneCountInString(c) - len(lw); n >= bestDist || -n >= bestDist {
			continue
		}
		if d := editDistance(lw, []rune(strings.ToLower(c))); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// Hint formats Suggest's answer as the tail of an error message:
// `; did you mean "X"?`, or "" when there is nothing to suggest.
func Hint(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" {
		return `; did you mean "` + s + `"?`
	}
	return ""
}

// editDistance is the optimal string alignment distance (Damerau-
// Levenshtein restricted to adjacent swaps) between a and b.
func editDistance(a, b []rune) int {
	// Three rolling rows: the swap rule looks two rows back.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
