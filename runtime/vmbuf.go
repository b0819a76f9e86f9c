package runtime

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skript-dev/skript/store"
)

// This file holds how a VM gets its memory: a transition's buffer, the
// slabs records and tasks come from, the pending list, the names of a
// fan-out's children, and reads of the transition's own writes. A runner
// reuses one VM for every short task it runs, so that a task costs well
// under one allocation.

// trBuf is a transition with room for the short lists of a typical task
// (one record, one token, one task, one dropped token, one arrival), so
// that they take no allocation of their own.
type trBuf struct {
	tr    store.Transition
	recs  [2]*store.Record
	toks  [1]store.TokenSet
	tasks [1]*store.Task
	drop  [1]string
	arrs  [1]*store.Arrival
	arr   store.Arrival
}

type pendingToken struct {
	t    token
	last any
	// fan, when set, stands for the children of a fork or map not advanced
	// yet: they are made one at a time, so a wide fan-out does not first
	// build a token for every child.
	fan *fanout
}

// fanout makes the child tokens of a group, slots next..end-1.
type fanout struct {
	g      *store.Group
	next   int
	end    int
	ids    []string // the children's token ids, by slot
	pcs    []int32  // a Fork's entry pcs, by slot
	bodyPC int32    // a Map's body
	frame  string   // a Fork's frame
	frames []string // a Map's frames, by slot
}

func newFanout(g *store.Group) *fanout {
	return &fanout{g: g, end: g.Started, ids: childNames(g.ID, '.', 0, g.Started)}
}

// childNames returns, for i in 0..n-1, prefix+sep+i+end (end 0 for none):
// store.ChildToken and store.ChildFrame for a whole fan-out, cut from one
// string, so that a 2000-way fan-out makes two strings, not 4000.
func childNames(prefix string, sep, end byte, n int) []string {
	if n <= 0 {
		return nil
	}
	out := make([]string, n)
	var b strings.Builder
	b.Grow(n * (len(prefix) + 3 + len(strconv.Itoa(n))))
	var num [20]byte
	for i := range n {
		b.WriteString(prefix)
		b.WriteByte(sep)
		b.Write(strconv.AppendInt(num[:0], int64(i), 10))
		if end != 0 {
			b.WriteByte(end)
		}
	}
	// The Builder hands its bytes over without a copy; the names are cut
	// from them again, each as long as it was written.
	all := b.String()
	start := 0
	for i := range n {
		l := len(prefix) + 1 + digits(i)
		if end != 0 {
			l++
		}
		out[i] = all[start : start+l]
		start += l
	}
	return out
}

// digits returns how many decimal digits i >= 0 has.
func digits(i int) int {
	d := 1
	for ; i >= 10; i /= 10 {
		d++
	}
	return d
}

func (f *fanout) child(i int) token {
	t := token{id: f.ids[i], group: f.g.ID, slot: int32(i)}
	if f.pcs != nil {
		t.pc, t.frame = f.pcs[i], f.frame
	} else {
		t.pc, t.frame = f.bodyPC, f.frames[i]
	}
	return t
}

// trPool recycles transition buffers: the completer puts back those of
// the transitions it has applied.
var trPool = sync.Pool{New: func() any { return new(trBuf) }}

func putTrBuf(b *trBuf) {
	*b = trBuf{}
	trPool.Put(b)
}

func newVM(ctx context.Context, st store.Store, p *program, run *runInfo, fence *store.Task) *vm {
	v := &vm{}
	v.reset(ctx, st, p, run, fence, time.Now())
	return v
}

// reset prepares v for a new transition starting at now; the previous one
// now belongs to whoever it was handed to.
func (v *vm) reset(ctx context.Context, st store.Store, p *program, run *runInfo, fence *store.Task, now time.Time) {
	v.ctx, v.st, v.p, v.run, v.now, v.steps = ctx, st, p, run, now, 0
	clear(v.pending)
	v.pending = v.pending[:0]
	if v.overlay != nil {
		clear(v.overlay)
	}
	v.overlaid = 0
	v.buf = trPool.Get().(*trBuf)
	v.tr = &v.buf.tr
	if fence != nil {
		v.tr.Token, v.tr.Seq = fence.Token, fence.Seq
	}
}

// slab sizes: big enough to amortize the allocation, small enough that a
// few long-lived records do not pin much memory.
const (
	recSlab  = 16
	taskSlab = 16
)

// reserve makes room for n more records and n more tasks in the slabs and
// lists, before a fan-out adds them one by one.
func (v *vm) reserve(records, tasks int) {
	if len(v.recSlab) < records {
		v.recSlab = make([]store.Record, records)
	}
	if len(v.taskSlab) < tasks {
		v.taskSlab = make([]store.Task, tasks)
	}
	v.tr.Records = slices.Grow(v.tr.Records, records)
	v.tr.Tasks = slices.Grow(v.tr.Tasks, tasks)
	v.tr.Tokens = slices.Grow(v.tr.Tokens, tasks)
}

func (v *vm) newTask() *store.Task {
	if len(v.taskSlab) == 0 {
		v.taskSlab = make([]store.Task, taskSlab)
	}
	t := &v.taskSlab[0]
	v.taskSlab = v.taskSlab[1:]
	return t
}

func (v *vm) addTask(t *store.Task) {
	if v.tr.Tasks == nil {
		v.tr.Tasks = v.buf.tasks[:0]
	}
	v.tr.Tasks = append(v.tr.Tasks, t)
}

func (v *vm) setToken(id string, seq uint32) {
	if v.tr.Tokens == nil {
		v.tr.Tokens = v.buf.toks[:0]
	}
	v.tr.Tokens = append(v.tr.Tokens, store.TokenSet{ID: id, Seq: seq})
}

// record adds a record to the transition, kept in the VM's slab.
func (v *vm) record(rec store.Record) {
	if len(v.recSlab) == 0 {
		v.recSlab = make([]store.Record, recSlab)
	}
	r := &v.recSlab[0]
	v.recSlab = v.recSlab[1:]
	*r = rec
	if v.tr.Records == nil {
		v.tr.Records = v.buf.recs[:0]
	}
	v.tr.Records = append(v.tr.Records, r)
}

// overlayMin is how many records a transition holds before reads of its
// own writes go through a map rather than a scan.
const overlayMin = 8

// written returns the latest record this transition wrote at k.
func (v *vm) written(k store.RecordKey) (*store.Record, bool) {
	recs := v.tr.Records
	if len(recs) <= overlayMin {
		for i := len(recs) - 1; i >= 0; i-- {
			if recs[i].RecordKey == k {
				return recs[i], true
			}
		}
		return nil, false
	}
	if v.overlay == nil {
		v.overlay = make(map[store.RecordKey]*store.Record, len(recs))
	}
	for _, r := range recs[v.overlaid:] {
		v.overlay[r.RecordKey] = r
	}
	v.overlaid = len(recs)
	r, ok := v.overlay[k]
	return r, ok
}
