package blueprint

import (
	"strconv"
	"strings"
	"testing"
)

func sealedSample(t *testing.T) *Blueprint {
	t.Helper()
	bp := sample()
	if err := Seal(bp); err != nil {
		t.Fatal(err)
	}
	return bp
}

// The golden listing of the sealed sample also pins its hash, so an
// accidental change of the serialized form shows up here.
func TestText(t *testing.T) {
	golden(t, "sample.txt", Text(sealedSample(t)))
}

func TestDot(t *testing.T) {
	golden(t, "sample.dot", Dot(sealedSample(t)))
}

func TestMermaid(t *testing.T) {
	golden(t, "sample.mmd", Mermaid(sealedSample(t)))
}

// awkward has names and sources with every character that needs escaping in
// one format or another.
func awkward() *Blueprint {
	return &Blueprint{
		Name:  "we\"ird\\name\n[x]",
		Nodes: []Node{{ID: `a"b[c]{d}<e>#f|g&h\i`, Kind: "Action", Action: "log", Loop: -1}},
		Exprs: []Expr{{Src: `"quoted" [list] {map} a < b` + strings.Repeat("x", 80)}},
		Code: []Instr{
			{Op: OpBranch, Node: 0, Expr: 0, Target: 2},
			{Op: OpTask, Node: 0, Expr: -1, Steps: []Step{{Node: 0, Action: `l"o[g]`, Params: -1, Catch: -1}}},
			{Op: OpEnd, Node: -1, Expr: -1},
		},
		Output: -1,
	}
}

func TestEscaping(t *testing.T) {
	bp := awkward()
	golden(t, "awkward.txt", Text(bp))
	golden(t, "awkward.dot", Dot(bp))
	golden(t, "awkward.mmd", Mermaid(bp))
	m := Mermaid(bp)
	for _, line := range strings.Split(m, "\n")[2:] {
		// Inside a node definition the only quotes are the two that
		// delimit its label.
		if strings.HasPrefix(line, "  pc") && strings.Contains(line, `"`) && strings.Count(line, `"`) != 2 {
			t.Errorf("unescaped quote in %q", line)
		}
	}
}

// A Blueprint that does not validate still renders; debugging output must
// not panic.
func TestRenderBroken(t *testing.T) {
	bp := sample()
	bp.Code[4].Target = 99
	bp.Code[2].Expr = 77
	bp.Code[1].Node = 55
	bp.Output = 42
	bp.Code[3].Op = 200
	for _, s := range []string{Text(bp), Dot(bp), Mermaid(bp), Text(nil), Dot(nil), Mermaid(nil)} {
		if s == "" {
			t.Error("empty rendering")
		}
	}
	if !strings.Contains(Text(bp), `expr#77`) || !strings.Contains(Text(bp), "#55") {
		t.Errorf("broken indices are not shown:\n%s", Text(bp))
	}
}

func TestEdges(t *testing.T) {
	bp := sample()
	var got []string
	for _, e := range bp.Edges() {
		got = append(got, strings.Join([]string{itoa(e.From), e.Kind.String(), itoa(e.To)}, " "))
	}
	want := []string{
		"0 next 1", "1 next 2", "2 true 3", "2 false 5", "3 next 4", "4 jump 6", "5 next 6", "6 next 7",
		"7 each 8", "7 resume 10", "8 next 9", "10 fork 11", "10 fork 13", "10 resume 15", "11 next 12",
		"13 next 14", "15 next 16", "16 true 17", "16 false 19", "17 next 18", "18 jump 16",
		"19 catch 21", "19 next 20", "20 jump 23", "21 next 22", "22 next 23", "23 next 24",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("edges\n got %q\nwant %q", got, want)
	}
	// A fail step without on_error: continue ends the Task's flow; shared
	// catch blocks give one edge.
	task := Instr{Op: OpTask, Steps: []Step{
		{Action: "log", Catch: 7}, {Action: FailAction, Catch: 7},
	}}
	if es := task.Edges(3, nil); len(es) != 1 || es[0] != (Edge{3, 7, EdgeCatch}) {
		t.Errorf("fail task edges = %v", es)
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
