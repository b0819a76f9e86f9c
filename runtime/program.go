package runtime

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	skexpr "github.com/skript-dev/skript/expr"
	"github.com/skript-dev/skript/store"
)

// program is a Blueprint made ready to run: expressions compiled once, loop
// depths precomputed. Workers cache programs by Blueprint hash.
type program struct {
	bp    *blueprint.Blueprint
	exprs []*skexpr.Program
	// depth[i] is the number of Loop nodes enclosing node i; it says which
	// prefix of a token's frame holds node i's record.
	depth []int
	// iterKey, itemKey and paramsKey are the internal record keys of nodes,
	// built once so the hot path does not concatenate strings.
	iterKey   []string
	itemKey   []string
	paramsKey []string
	// itemUsed[i] says some expression reads loop i's `item`: only then
	// does starting the loop record each item.
	itemUsed []bool
	// parent[i] is the composite node around node i (Node.Parent, checked),
	// or -1: the nodes a failure of node i fails with it.
	parent []int32
	// short says which tasks a worker may run without a goroutine of
	// their own (short.go); localReads that the store's reads are local.
	short      shortInfo
	localReads bool

	// enc is the serialized Blueprint, made once: every Start stores it
	// (PutBlueprint is idempotent), and encoding a Blueprint with a large
	// constant list costs more than starting the run.
	encOnce sync.Once
	enc     []byte
	encErr  error
}

func (p *program) encoded() ([]byte, error) {
	p.encOnce.Do(func() { p.enc, p.encErr = blueprint.Encode(p.bp) })
	return p.enc, p.encErr
}

func newProgram(bp *blueprint.Blueprint) (*program, error) {
	// A Blueprint handed to Start may be built by hand rather than by the
	// compiler or Decode; the VM indexes its tables without bounds checks,
	// so it is checked once, when its program is built.
	if err := blueprint.Validate(bp); err != nil {
		return nil, err
	}
	p := &program{
		bp:        bp,
		exprs:     make([]*skexpr.Program, len(bp.Exprs)),
		depth:     make([]int, len(bp.Nodes)),
		iterKey:   make([]string, len(bp.Nodes)),
		itemKey:   make([]string, len(bp.Nodes)),
		paramsKey: make([]string, len(bp.Nodes)),
		itemUsed:  make([]bool, len(bp.Nodes)),
		parent:    make([]int32, len(bp.Nodes)),
	}
	for i := range bp.Exprs {
		for _, v := range bp.Exprs[i].Vars {
			if v.Kind == blueprint.VarItem && v.Node >= 0 && int(v.Node) < len(bp.Nodes) {
				p.itemUsed[v.Node] = true
			}
		}
	}
	for i := range bp.Exprs {
		if bp.Exprs[i].Const {
			continue
		}
		prog, err := skexpr.Compile(bp.Exprs[i])
		if err != nil {
			return nil, fmt.Errorf("expression %d (%q): %w", i, bp.Exprs[i].Src, err)
		}
		p.exprs[i] = prog
	}
	for i, n := range bp.Nodes {
		p.depth[i] = bp.LoopDepth(i)
		p.parent[i] = -1
		if q := n.Parent; q >= 0 && int(q) < len(bp.Nodes) && int(q) != i && isComposite(bp.Nodes[q].Kind) {
			p.parent[i] = q
		}
		p.iterKey[i] = n.ID + "#iter"
		p.itemKey[i] = n.ID + "#item"
		p.paramsKey[i] = n.ID + "#params"
	}
	return p, nil
}

// isComposite says whether nodes of a kind hold other nodes.
func isComposite(kind string) bool {
	switch kind {
	case "Parallel", "If", "Loop", "Switch", "Call":
		return true
	}
	return false
}

// programCache maps Blueprint hashes to programs. Every task looks its
// program up, so the lookup takes no lock: a sync.Map, in front of which
// the program of the last lookup is kept, since the tasks a worker takes
// in a row mostly belong to one Blueprint (and, from an in-process store,
// carry the very string the lookup compares with, which compares in one
// step).
type programCache struct {
	m    sync.Map // hash -> *program
	last atomic.Pointer[program]
	// reg and local classify the tasks of new programs (see short.go).
	reg   *action.Registry
	local bool
}

func (c *programCache) cached(hash string) *program {
	if p := c.last.Load(); p != nil && p.bp.Hash == hash {
		return p
	}
	if v, ok := c.m.Load(hash); ok {
		p := v.(*program)
		c.last.Store(p)
		return p
	}
	return nil
}

func (c *programCache) put(p *program) *program {
	if c.reg != nil {
		p.short = classify(p, c.reg, c.local)
	}
	p.localReads = c.local
	v, _ := c.m.LoadOrStore(p.bp.Hash, p)
	return v.(*program)
}

func (c *programCache) get(ctx context.Context, s store.Store, hash string) (*program, error) {
	if p := c.cached(hash); p != nil {
		return p, nil
	}
	data, err := s.GetBlueprint(ctx, hash)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, &storeError{err}
	}
	bp, err := blueprint.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("blueprint %s: %w", hash, err)
	}
	p, err := newProgram(bp)
	if err != nil {
		return nil, fmt.Errorf("blueprint %s: %w", hash, err)
	}
	return c.put(p), nil
}

// Frames are paths of loop iterations: "" at the top level, "each[3]" in an
// iteration of loop "each", "each[3]/inner[0]" nested. A node's record lives
// in the prefix of the token's frame with as many segments as the node has
// enclosing loops.

// framePrefix returns the first n segments of frame.
func framePrefix(frame string, n int) string {
	if n == 0 {
		return ""
	}
	for i := 0; i < len(frame); i++ {
		if frame[i] == '/' {
			n--
			if n == 0 {
				return frame[:i]
			}
		}
	}
	return frame
}

// frameJoin appends a segment.
func frameJoin(frame, seg string) string {
	if frame == "" {
		return seg
	}
	return frame + "/" + seg
}

// lastSegment reads the last segment "name[i]" of frame.
func lastSegment(frame string) (name string, index int, ok bool) {
	seg := frame
	if i := strings.LastIndexByte(frame, '/'); i >= 0 {
		seg = frame[i+1:]
	}
	open := strings.IndexByte(seg, '[')
	if open < 0 || !strings.HasSuffix(seg, "]") {
		return "", 0, false
	}
	n, err := strconv.Atoi(seg[open+1 : len(seg)-1])
	if err != nil {
		return "", 0, false
	}
	return seg[:open], n, true
}

// segmentIndex returns the iteration index of the n-th segment (1-based).
func segmentIndex(frame string, n int) int {
	_, idx, ok := lastSegment(framePrefix(frame, n))
	if !ok {
		return 0
	}
	return idx
}

// frameDepth counts segments.
func frameDepth(frame string) int {
	if frame == "" {
		return 0
	}
	return strings.Count(frame, "/") + 1
}
