package redis

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skript-dev/skript/store"
	"github.com/skript-dev/skript/value"
)

// The apply script takes its items as flat arguments rather than one JSON
// document: values the script only stores (records, tasks, arrival values)
// then pass through Lua as opaque strings and are never decoded there. See
// scripts/apply.lua for the layout; the writer below must match it.

// wireRecord is a Record as stored. The two times and the status come first
// so the script finds them at fixed places: it keeps a stored Started and
// marks running records cancelled without decoding the record. Any JSON
// decoder reads it back as a store.Record.
type wireRecord struct {
	Started  time.Time        `json:"started,omitzero"`
	Finished time.Time        `json:"finished,omitzero"`
	Status   store.Status     `json:"status"`
	Frame    string           `json:"frame"`
	Key      string           `json:"key"`
	Output   any              `json:"output,omitempty"`
	Error    *store.ErrorInfo `json:"error,omitempty"`
	Attempts int              `json:"attempts,omitempty"`
	Reused   bool             `json:"reused,omitempty"`
}

// encodeRecord returns a record's stored JSON (see wireRecord).
func encodeRecord(rec *store.Record) (string, error) {
	w := wireRecord{Started: rec.Started, Finished: rec.Finished, Status: rec.Status, Frame: rec.Frame, Key: rec.Key,
		Output: value.Tagged(rec.Output), Error: rec.Error, Attempts: rec.Attempts, Reused: rec.Reused}
	b, err := json.Marshal(&w)
	if err != nil {
		return "", fmt.Errorf("record %s/%s: %w", rec.Frame, rec.Key, err)
	}
	return string(b), nil
}

// recordField is the records hash field of a record key.
func recordField(k store.RecordKey) string { return k.Frame + "|" + k.Key }

// timeString formats a time as encoding/json does, so stored records read
// back with the decoder's own time parsing.
func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// batch is the argument list of one apply call, for one partition: a
// fixed head, what the script should read per run, and the items.
type batch struct {
	part  int
	head  []string
	runs  []*batchRun
	byRun map[string]*batchRun
	items []string
	idx   []int // the caller's index of each item
	// wfKeys are the workflow index keys of the runs the batch creates,
	// declared after the runs' keys; wkAt are the places in items that
	// name one, by its index in wfKeys, until args() makes it a KEYS index.
	wfKeys []string
	wfIdx  map[string]int
	wkAt   [][2]int
	// due is the shortest delay (ms) of the delayed tasks the items add,
	// 0 if none: noted once the script has added them (see due.go).
	due int64
}

// noteDue keeps the shortest delay of the batch's delayed tasks.
func (b *batch) noteDue(due string) {
	if ms, err := strconv.ParseInt(due, 10, 64); err == nil && ms > 0 && (b.due == 0 || ms < b.due) {
		b.due = ms
	}
}

// batchRun is what the script reads for one run before applying items:
// the fence tokens and the records whose stored Started may be kept.
type batchRun struct {
	id      string
	fences  []string
	records []string
}

func (s *Store) newBatch(part int, now time.Time) *batch {
	ttl := max(int64(s.opt.retention/time.Second), 1)
	return &batch{part: part, byRun: map[string]*batchRun{},
		head: []string{s.maxEventsArg(), group, timeString(now), strconv.FormatInt(ttl, 10), s.endedChannel(),
			s.bellChannel(part), s.dueChannel(), strconv.FormatInt(now.UnixMicro(), 10), itoa(s.opt.limits.MaxValueBytes),
			journalTime(now)}}
}

// wfKey returns the index in b.wfKeys of a workflow's index key.
func (b *batch) wfKey(p partition, workflow string) int {
	if b.wfIdx == nil {
		b.wfIdx = map[string]int{}
	}
	k, ok := b.wfIdx[workflow]
	if !ok {
		k = len(b.wfKeys)
		b.wfIdx[workflow] = k
		b.wfKeys = append(b.wfKeys, p.workflowKey(workflow))
	}
	return k
}

func (b *batch) run(id string) *batchRun {
	r := b.byRun[id]
	if r == nil {
		r = &batchRun{id: id}
		b.byRun[id] = r
		b.runs = append(b.runs, r)
	}
	return r
}

// keys lists every key the apply call touches (see apply.lua): the
// partition's stream, delayed set and run index keys, then each run's keys
// (runKeys) in the order of b.runs, then the workflow index keys.
func (b *batch) keys(p partition) []string {
	out := make([]string, 0, partKeys+keysPerRun*len(b.runs)+len(b.wfKeys))
	out = append(out, p.q, p.delayed, p.idx)
	for _, st := range indexStatuses {
		out = append(out, p.statusKey(st))
	}
	out = append(out, p.expKey(), p.countKey())
	for _, r := range b.runs {
		out = p.runKeys(out, r.id)
	}
	return append(out, b.wfKeys...)
}

// partKeys is how many of the partition's own keys apply.lua gets first.
const partKeys = 9

// keysPerRun is how many keys apply.lua gets for each run (KPR there).
const keysPerRun = 6

// runKeys appends a run's keys in the order apply.lua takes them: header,
// records, tokens, running records, groups, journal.
func (p partition) runKeys(out []string, run string) []string {
	return append(out, p.prefix+"run:"+run, p.prefix+"rec:"+run, p.prefix+"tok:"+run, p.prefix+"live:"+run,
		p.prefix+"grp:"+run, p.prefix+"ev:"+run)
}

// args assembles the script's arguments.
func (b *batch) args() []string {
	for _, w := range b.wkAt {
		// KEYS is 1-based.
		b.items[w[0]] = itoa(partKeys + keysPerRun*len(b.runs) + w[1] + 1)
	}
	n := len(b.head) + 1 + len(b.items)
	for _, r := range b.runs {
		n += 3 + len(r.fences) + len(r.records)
	}
	out := make([]string, 0, n)
	out = append(out, b.head...)
	out = append(out, itoa(len(b.runs)))
	for _, r := range b.runs {
		out = append(out, r.id, itoa(len(r.fences)))
		out = append(out, r.fences...)
		out = append(out, itoa(len(r.records)))
		out = append(out, r.records...)
	}
	return append(out, b.items...)
}

// add appends an item without a body.
func (b *batch) add(idx int, args ...string) {
	b.run(args[1])
	b.items = append(b.items, args...)
	b.idx = append(b.idx, idx)
}

// addBody appends an item whose last part is a transition's body, preceded
// by the body's length so the script can skip a stale one.
func (s *Store) addBody(b *batch, idx int, tr *store.Transition, run, hash, worker string, now time.Time, head ...string) error {
	r := b.run(run)
	b.items = append(b.items, head...)
	at := len(b.items)
	b.items = append(b.items, "")
	var err error
	if b.items, err = s.appendBody(b.items, tr, b, r, hash, worker, now); err != nil {
		b.items = b.items[:at-len(head)]
		return err
	}
	b.items[at] = itoa(len(b.items) - at - 1)
	b.idx = append(b.idx, idx)
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// jsonEscaped is s as it appears between the quotes of a JSON string.
func jsonEscaped(s string) string {
	q := jsonString(s)
	return q[1 : len(q)-1]
}

func marshalValue(v any) (string, error) { return value.MarshalString(v) }

// encodeTask returns a task's JSON and when it is due: "0" for now, else
// its delay from now in ms (rounded up, so it is never leased early). The
// script adds the delay to Redis's clock: due times are on that one clock,
// whatever the clocks of the workers that set and promote them.
//
// A task that is ready now is stamped Enqueued = now (when the transition
// that enqueues it is applied), for the scheduling latency the worker
// measures; a delayed one is stamped when it is promoted (promote.lua).
func encodeTask(t *store.Task, now time.Time) (string, string, error) {
	due := "0"
	cp := *t
	if !t.At.IsZero() && t.At.After(now) {
		due = delayMs(t.At, now)
		// A delayed task becomes ready when it is promoted, as in the memory
		// driver: its Enqueued is the time it moves to the stream.
		cp.Enqueued = time.Time{}
	} else if cp.Enqueued.IsZero() {
		cp.Enqueued = now
	}
	b, err := json.Marshal(&cp)
	if err != nil {
		return "", "", err
	}
	return string(b), due, nil
}

// appendBody encodes a transition's changes (without its fence), noting in
// r the records the script must read. hash is the run's Blueprint hash, for
// the child tasks that the script builds.
func (s *Store) appendBody(args []string, tr *store.Transition, b *batch, r *batchRun, hash, worker string, now time.Time) ([]string, error) {
	run := r.id
	if tr.End == nil {
		args = append(args, "0")
	} else {
		endev, err := s.endEvent(store.EventRunEnded, tr.End)
		if err != nil {
			return nil, err
		}
		out, errJSON := "", ""
		if tr.End.Output != nil {
			v, err := marshalValue(tr.End.Output)
			if err != nil {
				return nil, fmt.Errorf("run output: %w", err)
			}
			out = v
		}
		if tr.End.Error != nil {
			v, err := marshalValue(tr.End.Error)
			if err != nil {
				return nil, err
			}
			errJSON = v
		}
		// The script journals finev instead when this end finishes the run.
		finev, err := s.endEvent(store.EventRunFinishing, tr.End)
		if err != nil {
			return nil, err
		}
		args = append(args, "1", string(tr.End.Status), out, errJSON, endev, finev)
	}
	evs := tr.Events
	if s.opt.journalOff {
		evs = nil
	}
	args = append(args, itoa(len(evs)))
	for _, ev := range evs {
		js, err := s.eventJSON(ev, worker)
		if err != nil {
			return nil, err
		}
		args = append(args, js)
	}
	args = append(args, itoa(len(tr.Records)))
	for _, rec := range tr.Records {
		js, err := encodeRecord(rec)
		if err != nil {
			return nil, err
		}
		jr, err := s.journalRecord(rec)
		if err != nil {
			return nil, err
		}
		f, hasStarted := recordField(rec.RecordKey), "1"
		if rec.Started.IsZero() {
			hasStarted = "0"
			r.records = append(r.records, f)
		}
		args = append(args, f, js, hasStarted, jr)
	}
	args = append(args, itoa(len(tr.Tokens)))
	for _, t := range tr.Tokens {
		args = append(args, t.ID, strconv.FormatUint(uint64(t.Seq), 10))
	}
	args = append(args, itoa(len(tr.Drop)))
	args = append(args, tr.Drop...)
	args = append(args, itoa(len(tr.Tasks)))
	for _, t := range tr.Tasks {
		js, due, err := encodeTask(t, now)
		if err != nil {
			return nil, fmt.Errorf("task: %w", err)
		}
		if due != "0" {
			b.noteDue(due)
		}
		args = append(args, js, due)
	}
	args = append(args, itoa(len(tr.Groups)))
	for _, g := range tr.Groups {
		var err error
		if args, err = s.appendGroup(args, g, b, run, hash, now); err != nil {
			return nil, err
		}
	}
	args = append(args, itoa(len(tr.Arrivals)))
	for _, a := range tr.Arrivals {
		v, err := marshalValue(a.Value)
		if err != nil {
			return nil, fmt.Errorf("arrival %s[%d]: %w", a.Group, a.Slot, err)
		}
		args = append(args, a.Group, strconv.Itoa(int(a.Slot)), v)
	}
	args = append(args, itoa(len(tr.Stop)))
	args = append(args, tr.Stop...)
	return args, nil
}

// delayMs is the delay from now to at in whole ms, rounded up, and at
// least 1 (a delayed task goes through the delayed set).
func delayMs(at, now time.Time) string {
	d := at.Sub(now)
	return strconv.FormatInt(max((d.Nanoseconds()+int64(time.Millisecond)-1)/int64(time.Millisecond), 1), 10)
}

// appendGroup encodes a group: its counters, where its result goes, its
// parent task, and the pieces of JSON the script assembles child tasks from
// (store.ChildTask, in Lua).
func (s *Store) appendGroup(args []string, g *store.Group, b *batch, run, hash string, now time.Time) ([]string, error) {
	parent, ptok, pseq, pdue := "", "", "", "0"
	if g.Parent != nil {
		// The parent becomes ready when the group completes: the script
		// stamps it then. (With a zero now, encodeTask stamps nothing and
		// takes the due time from At alone; an At already past means
		// ready.)
		p := *g.Parent
		p.Enqueued = time.Time{}
		if !p.At.After(now) {
			p.At = time.Time{}
		}
		var err error
		if parent, _, err = encodeTask(&p, time.Time{}); err != nil {
			return nil, fmt.Errorf("group %s parent: %w", g.ID, err)
		}
		if !p.At.IsZero() {
			pdue = delayMs(p.At, now)
		}
		if pdue != "0" {
			b.noteDue(pdue)
		}
		ptok, pseq = g.Parent.Token, strconv.FormatUint(uint64(g.Parent.Seq), 10)
	}
	head := `{"r":` + jsonString(run) + `,"h":` + jsonString(hash) + `,"k":` + itoa(int(store.Resume)) + `,"g":` + jsonString(g.ID)
	mode, frame := "f", jsonEscaped(g.Frame)
	pcs := make([]string, len(g.ChildPCs))
	for i, pc := range g.ChildPCs {
		pcs[i] = strconv.Itoa(int(pc))
	}
	if len(g.ChildPCs) == 0 {
		mode, frame = "m", jsonEscaped(g.FrameBase)
	}
	resk := `"frame":` + jsonString(g.Result.Frame) + `,"key":` + jsonString(g.Result.Key)
	return append(args, g.ID, itoa(g.Total), itoa(g.Started), recordField(g.Result), resk,
		parent, ptok, pseq, pdue, head, jsonEscaped(g.ID), mode, strings.Join(pcs, ","), itoa(int(g.BodyPC)), frame), nil
}
