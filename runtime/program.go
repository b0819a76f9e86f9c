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
	// trapped[i] says a trap (Node.Trap) holds node i; groupOwner[i] that
	// node i starts a group (a Parallel, a for_each Loop, a Graph).
	trapped    []bool
	groupOwner []bool
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

	// used and size serve the cache's eviction (programCache.put): used
	// is set by lookups and cleared as the clock hand passes; size is the
	// encoded Blueprint's length, a proxy for the program's memory.
	used atomic.Bool
	size int64
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
		bp:         bp,
		exprs:      make([]*skexpr.Program, len(bp.Exprs)),
		depth:      make([]int, len(bp.Nodes)),
		iterKey:    make([]string, len(bp.Nodes)),
		itemKey:    make([]string, len(bp.Nodes)),
		paramsKey:  make([]string, len(bp.Nodes)),
		itemUsed:   make([]bool, len(bp.Nodes)),
		parent:     make([]int32, len(bp.Nodes)),
		trapped:    make([]bool, len(bp.Nodes)),
		groupOwner: make([]bool, len(bp.Nodes)),
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
		p.groupOwner[i] = n.Kind == "Parallel" || n.Kind == "Graph" || n.Kind == "Loop" && n.Var != ""
		if n.Trap && n.Kind == "Loop" {
			// Its failures name their items.
			p.itemUsed[i] = true
		}
		p.iterKey[i] = n.ID + "#iter"
		p.itemKey[i] = n.ID + "#item"
		p.paramsKey[i] = n.ID + "#params"
	}
	for i := range bp.Nodes {
		for q, n := p.parent[i], 0; q >= 0 && n < len(bp.Nodes); q, n = p.parent[q], n+1 {
			if bp.Nodes[q].Trap {
				p.trapped[i] = true
				break
			}
		}
	}
	return p, nil
}

// isComposite says whether nodes of a kind hold other nodes.
func isComposite(kind string) bool {
	switch kind {
	case "Parallel", "If", "Loop", "Switch", "Call", "Graph":
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
//
// A long-lived worker or service may meet any number of Blueprints (one
// per version of every workflow ever deployed, or generated ones), so the
// cache is bounded by count and by encoded bytes. Eviction is CLOCK (second
// chance) rather than a strict LRU such as hashicorp/golang-lru: an LRU
// takes a lock and moves a list element on every lookup, which here is
// every task on every core, while CLOCK only sets a flag that is usually
// already set. An evicted program is rebuilt from the store when a task
// needs it again; tasks already holding it keep using it.
type programCache struct {
	m    sync.Map // hash -> *program
	last atomic.Pointer[program]
	// reg and local classify the tasks of new programs (see short.go).
	reg   *action.Registry
	local bool

	// maxCount and maxBytes bound the cache (0: the defaults below).
	maxCount int
	maxBytes int64
	mu       sync.Mutex // guards ring, hand and bytes
	ring     []*program // every cached program, in insertion order
	hand     int
	bytes    int64
}

// The cache's default bounds: far more Blueprints than one deployment
// runs at once, and a memory cost a worker can afford.
const (
	defaultMaxPrograms     = 1024
	defaultMaxProgramBytes = 256 << 20
)

func (c *programCache) cached(hash string) *program {
	if p := c.last.Load(); p != nil && p.bp.Hash == hash {
		p.touch()
		return p
	}
	if v, ok := c.m.Load(hash); ok {
		p := v.(*program)
		p.touch()
		c.last.Store(p)
		return p
	}
	return nil
}

// touch marks p used, writing only when the flag is clear so that cores
// looking up the same program do not contend for its cache line.
func (p *program) touch() {
	if !p.used.Load() {
		p.used.Store(true)
	}
}

// put caches p (or returns the program another goroutine cached first for
// the same hash) and evicts programs beyond the bounds. p.size must be set.
func (c *programCache) put(p *program) *program {
	if c.reg != nil {
		p.short = classify(p, c.reg, c.local)
	}
	p.localReads = c.local
	v, loaded := c.m.LoadOrStore(p.bp.Hash, p)
	if loaded {
		return v.(*program)
	}
	// A new program starts unmarked: one that is never looked up again
	// (a one-off Blueprint) goes before those in steady use.
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring = append(c.ring, p)
	c.bytes += p.size
	maxCount, maxBytes := c.maxCount, c.maxBytes
	if maxCount <= 0 {
		maxCount = defaultMaxPrograms
	}
	if maxBytes <= 0 {
		maxBytes = defaultMaxProgramBytes
	}
	// The program just added is never the one evicted: its task is about
	// to run. So one program larger than maxBytes stays, alone.
	for len(c.ring) > 1 && (len(c.ring) > maxCount || c.bytes > maxBytes) {
		if c.hand >= len(c.ring) {
			c.hand = 0
		}
		q := c.ring[c.hand]
		if q == p || q.used.Swap(false) {
			c.hand++
			continue
		}
		c.ring = append(c.ring[:c.hand], c.ring[c.hand+1:]...)
		c.bytes -= q.size
		c.m.Delete(q.bp.Hash)
		c.last.CompareAndSwap(q, nil)
	}
	return p
}

// len returns how many programs are cached.
func (c *programCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ring)
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
	// The stored encoding is the program's encoding: kept, it is not
	// made again, and it sizes the program for the cache.
	p.encOnce.Do(func() { p.enc = data })
	p.size = int64(len(data))
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
