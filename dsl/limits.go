package dsl

import (
	"fmt"

	"github.com/goccy/go-yaml/token"
)

// goccy's parser takes time quadratic in three things a small file can make
// large:
//   - the nesting depth: a few hundred kilobytes of "- - - ..." keep it busy
//     for seconds;
//   - the keys of one block mapping: it recurses once per key, so 20,000
//     keys take a second, and a 10 MiB file of keys would take hours and
//     could exhaust the stack;
//   - empty values ("key:" or "-" with nothing after it): each one inserts
//     a token into the middle of the token list, copying the rest of it.
//
// All three are checked on the token stream, in linear time, before the
// parser runs. The bounds keep the worst 10 MiB file within a few times the
// cost of an ordinary one, and real workflows stay far below them: each
// nested construct adds about three levels (the seed and conformance
// examples need at most 11), a mapping with more keys is data, which flow
// style ({...}, or JSON) carries without the cost, and null can always be
// written out.
const (
	maxDepth         = 100
	maxBlockKeys     = 1000
	maxImplicitNulls = 1000
)

// limitError names the token where a limit was crossed.
type limitError struct {
	tk  *token.Token
	msg string
}

// blockLevel is one open block collection: the column its entries start
// at and how many keys it has had so far.
type blockLevel struct {
	col, keys int
}

// flowLevel is one open flow collection and the state of its current
// entry, to spot a flow mapping entry without a value ("{a, b}").
type flowLevel struct {
	mapping, entry, colon bool
}

// limitScanner walks the tokens once. Block structure is read from the
// columns of the indicators, which is exact for well-formed YAML and a sound
// bound for the rest: a mapping's keys all start at one column, and nothing
// between them is shallower.
type limitScanner struct {
	tokens token.Tokens
	block  []blockLevel
	flow   []flowLevel
	nulls  int
}

// checkLimits returns where tokens cross one of the bounds, or nil.
func checkLimits(tokens token.Tokens) *limitError {
	s := &limitScanner{tokens: tokens}
	for i, tk := range tokens {
		if tk == nil || tk.Position == nil {
			continue
		}
		if err := s.step(i, tk); err != nil {
			return err
		}
	}
	return nil
}

func (s *limitScanner) step(i int, tk *token.Token) *limitError {
	if len(s.flow) > 0 {
		return s.flowStep(i, tk)
	}
	switch tk.Type {
	case token.DocumentHeaderType, token.DocumentEndType:
		s.block = s.block[:0]
	case token.SequenceStartType, token.MappingStartType:
		s.flow = append(s.flow, flowLevel{mapping: tk.Type == token.MappingStartType})
	case token.SequenceEntryType:
		s.enter(tk.Position.Column)
		if next := s.next(i); next == nil || next.Position.Line > tk.Position.Line && next.Position.Column <= tk.Position.Column {
			s.nulls++
		}
	case token.MappingKeyType, token.MappingValueType:
		// A "? key" followed by ": value" counts twice; that only halves
		// the bound for that rare style.
		col := tk.Position.Column
		if tk.Type == token.MappingValueType {
			col = keyColumn(s.tokens, i)
			next := s.next(i)
			if next == nil || next.Position.Line > tk.Position.Line && next.Position.Column <= col &&
				!(next.Type == token.SequenceEntryType && next.Position.Column == col) {
				s.nulls++
			}
		}
		level := s.enter(col)
		level.keys++
		if level.keys > maxBlockKeys {
			return &limitError{tk, fmt.Sprintf("a block mapping has more than %d keys; write big data in flow style ({...}) or JSON", maxBlockKeys)}
		}
	default:
		return nil
	}
	return s.check(tk)
}

// flowStep follows the tokens inside a flow collection.
func (s *limitScanner) flowStep(i int, tk *token.Token) *limitError {
	top := &s.flow[len(s.flow)-1]
	switch tk.Type {
	case token.SequenceStartType, token.MappingStartType:
		top.entry = true
		s.flow = append(s.flow, flowLevel{mapping: tk.Type == token.MappingStartType})
		return s.check(tk)
	case token.SequenceEndType, token.MappingEndType, token.CollectEntryType:
		if top.mapping && top.entry && !top.colon {
			s.nulls++ // "{a, b}": a key without a value
		}
		top.entry, top.colon = false, false
		if tk.Type != token.CollectEntryType {
			s.flow = s.flow[:len(s.flow)-1]
		}
	case token.MappingValueType:
		top.colon = true
		if next := s.next(i); next == nil || next.Type == token.CollectEntryType ||
			next.Type == token.MappingEndType || next.Type == token.SequenceEndType {
			s.nulls++
		}
	default:
		top.entry = true
	}
	return s.check(tk)
}

// enter moves to the block level at col, opening it if it is new.
func (s *limitScanner) enter(col int) *blockLevel {
	for len(s.block) > 0 && s.block[len(s.block)-1].col > col {
		s.block = s.block[:len(s.block)-1]
	}
	if len(s.block) == 0 || s.block[len(s.block)-1].col < col {
		s.block = append(s.block, blockLevel{col: col})
	}
	return &s.block[len(s.block)-1]
}

func (s *limitScanner) check(tk *token.Token) *limitError {
	if len(s.flow)+len(s.block) > maxDepth {
		return &limitError{tk, fmt.Sprintf("document nests deeper than %d levels", maxDepth)}
	}
	if s.nulls > maxImplicitNulls {
		return &limitError{tk, fmt.Sprintf("more than %d empty values (\"key:\" or \"-\" with nothing after it); write null where a value is meant to be empty", maxImplicitNulls)}
	}
	return nil
}

// next is the token after tokens[i], comments skipped, or nil at the end.
func (s *limitScanner) next(i int) *token.Token {
	for j := i + 1; j < len(s.tokens); j++ {
		if t := s.tokens[j]; t != nil && t.Position != nil && t.Type != token.CommentType {
			return t
		}
	}
	return nil
}

// keyColumn is where the key before the colon at tokens[i] starts: the
// first token of its line after any "-", "?" or ":" indicator, so that an
// anchor or tag before the key counts as part of it. A colon that starts
// its line (after "? key" on the line above) stands at the key's column
// itself.
func keyColumn(tokens token.Tokens, i int) int {
	colon := tokens[i]
	start := colon
	for j := i - 1; j >= 0; j-- {
		t := tokens[j]
		if t == nil || t.Position == nil || t.Position.Line != colon.Position.Line {
			break
		}
		if t.Type == token.SequenceEntryType || t.Type == token.MappingKeyType || t.Type == token.MappingValueType {
			break
		}
		start = t
	}
	return start.Position.Column
}
