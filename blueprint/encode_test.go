package blueprint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	bp := sample()
	if err := Validate(bp); err != nil {
		t.Fatalf("sample does not validate: %v", err)
	}
	data, err := Encode(bp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`{"format":1,"name":"order-pipeline"`)) {
		t.Errorf("encoding does not start with the format version: %.60s", data)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, bp) {
		t.Errorf("decoded blueprint differs\n got %#v\nwant %#v", back, bp)
	}
	again, err := Encode(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Errorf("re-encoding differs\n got %s\nwant %s", again, data)
	}
	if !bytes.Contains(data, []byte(`iteration < 3`)) {
		t.Errorf("encoding escapes HTML characters: %s", data)
	}
}

// TestDecodeWithoutParent reads a Blueprint serialized before nodes had a
// parent: every node then has none, rather than node 0.
func TestDecodeWithoutParent(t *testing.T) {
	data, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`"parent":-1,`, `"parent":1,`, `"parent":4,`, `"parent":6,`, `"parent":9,`} {
		data = bytes.ReplaceAll(data, []byte(p), nil)
	}
	if bytes.Contains(data, []byte(`"parent"`)) {
		t.Fatalf("a parent is left: %s", data)
	}
	bp, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range bp.Nodes {
		if n.Parent != -1 {
			t.Errorf("node %s: parent %d, want -1", n.ID, n.Parent)
		}
	}
}

func TestEncodeDeterministic(t *testing.T) {
	// Maps are iterated in random order; the encoding must not be.
	first, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		data, err := Encode(sample())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, data) {
			t.Fatal("two encodings of the same blueprint differ")
		}
	}
}

func TestEncodeUnencodable(t *testing.T) {
	bp := sample()
	bp.Exprs[7].Value = func() {}
	if _, err := Encode(bp); err == nil {
		t.Error("Encode accepted a function value")
	}
	if err := Seal(bp); err == nil || bp.Hash != "" {
		t.Errorf("Seal = %v, hash %q; want an error and no hash", err, bp.Hash)
	}
	if _, err := Encode(nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}

func TestDecodeNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"3", 3},
		{"-7", -7},
		{"0", 0},
		{"2.5", 2.5},
		{"3.0", 3},
		{"1e3", 1000},
		{"9223372036854775807", 9223372036854775807},
		{"9223372036854775808", 9223372036854775808.0},
		{"-9223372036854775808", -9223372036854775808},
		{"1e20", 1e20},
		{"0.1", 0.1},
	} {
		got, err := number(tc.in)
		if err != nil {
			t.Errorf("number(%s): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("number(%s) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
	if _, err := number("1e400"); err == nil {
		t.Error("number(1e400) succeeded")
	}
	// Numbers nested in lists and maps are converted too.
	bp := sample()
	bp.Exprs[7].Value = map[string]any{"a": []any{1, 2.5, map[string]any{"b": 10}}}
	data, err := Encode(bp)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Exprs[7].Value, bp.Exprs[7].Value) {
		t.Errorf("nested value = %#v, want %#v", back.Exprs[7].Value, bp.Exprs[7].Value)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(bp *Blueprint)) []byte {
		bp := sample()
		f(bp)
		data, err := Encode(bp)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "decode"},
		{"not json", []byte("hello"), "decode"},
		{"null", []byte("null"), "no format"},
		{"trailing", append(append([]byte{}, good...), " {}"...), "after the blueprint"},
		{"no format", bytes.Replace(good, []byte(`"format":1,`), nil, 1), "no format"},
		{"future format", bytes.Replace(good, []byte(`"format":1,`), []byte(`"format":2,`), 1), "format 2"},
		{"no code", mutate(func(bp *Blueprint) { bp.Code = nil }), "no code"},
		{"jump out of range", mutate(func(bp *Blueprint) { bp.Code[4].Target = 99 }), "pc 4 (Jump): target 99 out of range"},
		{"negative target", mutate(func(bp *Blueprint) { bp.Code[2].Target = -1 }), "pc 2 (Branch): target -1"},
		{"fork target", mutate(func(bp *Blueprint) { bp.Code[10].Targets[1] = 25 }), "pc 10 (Fork): target 25"},
		{"fork without targets", mutate(func(bp *Blueprint) { bp.Code[10].Targets = nil }), "no targets"},
		{"catch out of range", mutate(func(bp *Blueprint) { bp.Code[19].Steps[0].Catch = 30 }), "target 30"},
		{"task without steps", mutate(func(bp *Blueprint) { bp.Code[0].Steps = nil }), "pc 0 (Task): no steps"},
		{"step node", mutate(func(bp *Blueprint) { bp.Code[0].Steps[0].Node = 14 }), "node 14 out of range"},
		{"step params", mutate(func(bp *Blueprint) { bp.Code[0].Steps[0].Params = 8 }), "expression 8 out of range"},
		{"step action", mutate(func(bp *Blueprint) { bp.Code[0].Steps[0].Action = "" }), "no action"},
		{"branch expr", mutate(func(bp *Blueprint) { bp.Code[2].Expr = -1 }), "pc 2 (Branch): expression -1"},
		{"instr node", mutate(func(bp *Blueprint) { bp.Code[1].Node = -1 }), "pc 1 (Enter): node -1"},
		{"output", mutate(func(bp *Blueprint) { bp.Output = 8 }), "output: expression 8"},
		{"ref", mutate(func(bp *Blueprint) { bp.Exprs[2].Refs[0].Node = 20 }), "ref fetch: node 20"},
		{"var kind", mutate(func(bp *Blueprint) { bp.Exprs[5].Vars[0].Kind = 99 }), "unknown kind 99"},
		{"var node", mutate(func(bp *Blueprint) { bp.Exprs[5].Vars[0].Node = -1 }), "var line: node -1"},
		{"loop", mutate(func(bp *Blueprint) { bp.Nodes[5].Loop = 40 }), "loop: node 40"},
		{"parent", mutate(func(bp *Blueprint) { bp.Nodes[5].Parent = -2 }), "parent: node -2"},
		{"opcode", bytes.Replace(good, []byte(`"op":"Task"`), []byte(`"op":"Bogus"`), 1), `unknown opcode "Bogus"`},
		{"falls off", mutate(func(bp *Blueprint) { bp.Code = bp.Code[:24] }), "falls off the end"},
		{"next not to while", mutate(func(bp *Blueprint) { bp.Code[18].Target = 17 }), "not the While head"},
		{"negative max", mutate(func(bp *Blueprint) { bp.Code[7].Max = -1 }), "negative"},
		{"negative span", mutate(func(bp *Blueprint) { bp.Exprs[1].Spans[0].From = -1 }), "expression 1 span 0"},
		{"spans out of order", mutate(func(bp *Blueprint) {
			bp.Exprs[1].Spans = append(bp.Exprs[1].Spans, Span{From: 26, Pos: Pos{35, 1}})
		}), "expression 1 span 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bp, err := Decode(tc.data)
			if err == nil {
				t.Fatalf("Decode succeeded: %v", bp)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestDecodeAcceptsTerminatingFail(t *testing.T) {
	// A Task that always fails need not be followed by anything: the
	// optimizer drops the dead code after it, End included.
	bp := &Blueprint{
		Name:   "f",
		Nodes:  []Node{{ID: "boom", Kind: "Action", Action: "fail", Loop: -1}},
		Exprs:  []Expr{},
		Output: -1,
		Code:   []Instr{{Op: OpTask, Node: 0, Expr: -1, Steps: []Step{{Node: 0, Action: FailAction, Params: -1, Catch: -1}}}},
	}
	if err := Validate(bp); err != nil {
		t.Fatal(err)
	}
	bp.Code[0].Steps[0].Continue = true
	if err := Validate(bp); err == nil {
		t.Error("a continuing fail step at the end validated")
	}
}

func TestValidateErrorLimit(t *testing.T) {
	bp := sample()
	for i := range bp.Code {
		bp.Code[i].Node = 1000
	}
	err := Validate(bp)
	if err == nil {
		t.Fatal("no error")
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != maxErrors+1 {
		t.Errorf("%d error lines, want %d", n, maxErrors+1)
	}
}

func TestHash(t *testing.T) {
	bp := sample()
	h := Hash(bp)
	if len(h) != 64 {
		t.Fatalf("hash %q is not hex SHA-256", h)
	}
	if Hash(sample()) != h {
		t.Error("hash of an equal blueprint differs")
	}
	if err := Seal(bp); err != nil {
		t.Fatal(err)
	}
	if bp.Hash != h || Hash(bp) != h {
		t.Errorf("sealing changed the hash: %q, %q, want %q", bp.Hash, Hash(bp), h)
	}
	data, err := Encode(bp)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash != h || Hash(back) != h {
		t.Errorf("decoded hash %q / %q, want %q", back.Hash, Hash(back), h)
	}
	other := sample()
	other.Code[7].Concurrency = 4
	if Hash(other) == h {
		t.Error("a different program has the same hash")
	}
	if Hash(nil) != "" {
		t.Error("Hash(nil) is not empty")
	}
}

func FuzzDecode(f *testing.F) {
	seeds := fuzzSeeds(f)
	if *update {
		writeCorpus(f, seeds)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bp, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes must be usable: encodable, stable under a
		// round trip, and printable.
		enc, err := Encode(bp)
		if err != nil {
			t.Fatalf("decoded blueprint does not encode: %v", err)
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded blueprint does not decode: %v", err)
		}
		again, err := Encode(back)
		if err != nil || !bytes.Equal(enc, again) {
			t.Fatalf("round trip is not stable: %v\n%s\n%s", err, enc, again)
		}
		_ = Text(bp)
		_ = Dot(bp)
		_ = Mermaid(bp)
	})
}

// fuzzSeeds are valid encodings and near misses, so the fuzzer starts from
// the shape of real Blueprints.
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	enc := func(bp *Blueprint) []byte {
		data, err := Encode(bp)
		if err != nil {
			tb.Fatal(err)
		}
		return data
	}
	small := &Blueprint{Name: "s", Exprs: []Expr{{Src: "1", Const: true, Value: 1}}, Output: 0,
		Code: []Instr{{Op: OpEnd, Node: -1, Expr: -1}}}
	broken := sample()
	broken.Code[4].Target = 1 << 30
	return [][]byte{
		enc(sample()),
		enc(small),
		enc(broken),
		[]byte(`{"format":1,"name":"x","nodes":[],"exprs":[],"code":[{"op":4,"node":-1,"target":0,"expr":-1}],"output":-1}`),
		[]byte(`{"format":1,"code":[{"op":2,"node":0,"targets":[],"expr":-1}]}`),
		[]byte(`{"format":1,"exprs":[{"src":"x","const":true,"value":[1e400]}]}`),
		[]byte(`{"format":1,"code":[{"op":255}]}`),
	}
}

func writeCorpus(tb testing.TB, seeds [][]byte) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestExprPosAt(t *testing.T) {
	e := Expr{Pos: Pos{3, 5}, Spans: []Span{{From: 10, Pos: Pos{4, 7}}, {From: 30, Pos: Pos{5, 7}}}}
	for _, tc := range []struct {
		off  int
		want Pos
	}{
		{-1, Pos{3, 5}}, {0, Pos{3, 5}}, {9, Pos{3, 5}}, {10, Pos{4, 7}}, {29, Pos{4, 7}}, {30, Pos{5, 7}}, {1000, Pos{5, 7}},
	} {
		if got := e.PosAt(tc.off); got != tc.want {
			t.Errorf("PosAt(%d) = %v, want %v", tc.off, got, tc.want)
		}
	}
	if got := (&Expr{Pos: Pos{1, 2}}).PosAt(5); got != (Pos{1, 2}) {
		t.Errorf("without spans PosAt = %v", got)
	}
}

func TestValidateIgnoresUnusedOperands(t *testing.T) {
	// The runtime reads Expr only where the opcode evaluates one, and
	// Target only where the opcode jumps; other values are left alone.
	bp := sample()
	bp.Code[4].Expr = 99   // Jump
	bp.Code[24].Target = 7 // End
	bp.Code[6].Target = -5 // Leave
	if err := Validate(bp); err != nil {
		t.Error(err)
	}
}

func TestLoopDepth(t *testing.T) {
	bp := &Blueprint{Nodes: []Node{
		{ID: "outer", Loop: -1},
		{ID: "inner", Loop: 0},
		{ID: "work", Loop: 1},
		{ID: "self", Loop: 3}, // malformed: its own loop
		{ID: "away", Loop: 9}, // malformed: out of range
	}}
	for i, want := range []int{0, 1, 2, len(bp.Nodes) + 1, 0} {
		if got := bp.LoopDepth(i); got != want {
			t.Errorf("LoopDepth(%s) = %d, want %d", bp.Nodes[i].ID, got, want)
		}
	}
}
