package redis

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skript-dev/skript/store"
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
}

// recordField is the records hash field of a record key.
func recordField(k store.RecordKey) string { return k.Frame + "|" + k.Key }

// timeString formats a time as encoding/json does, so stored records read
// back with the decoder's own time parsing.
func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// batch is the argument list of one apply call, for one partition.
type batch struct {
	part int
	args []string
	idx  []int // the caller's index of each item, -1 for none
}

func (s *Store) newBatch(part int, now time.Time) *batch {
	p := s.parts[part]
	ttl := max(int64(s.opt.retention/time.Second), 1)
	return &batch{part: part, args: []string{p.prefix, group, timeString(now), strconv.FormatInt(ttl, 10), s.endedChannel()}}
}

func (b *batch) add(idx int, args ...string) {
	b.args = append(b.args, args...)
	b.idx = append(b.idx, idx)
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

func marshalValue(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// encodeTask returns a task's JSON and when it is due: "0" for now, else
// the due time in ms (rounded up, so it is never leased early).
func encodeTask(t *store.Task, now time.Time) (string, string, error) {
	due := "0"
	cp := *t
	if !t.At.IsZero() && t.At.After(now) {
		due = strconv.FormatInt((t.At.UnixNano()+int64(time.Millisecond)-1)/int64(time.Millisecond), 10)
		// A delayed task becomes ready when it is promoted, as in the memory
		// driver: its Enqueued is the time it moves to the stream.
		cp.Enqueued = time.Time{}
	}
	b, err := json.Marshal(&cp)
	if err != nil {
		return "", "", err
	}
	return string(b), due, nil
}

// appendBody encodes a transition's changes (without its fence). run and
// hash name the run, for the child tasks that the script builds.
func (s *Store) appendBody(args []string, tr *store.Transition, run, hash string, now time.Time) ([]string, error) {
	args = append(args, itoa(len(tr.Records)))
	for _, r := range tr.Records {
		w := wireRecord{Started: r.Started, Finished: r.Finished, Status: r.Status, Frame: r.Frame, Key: r.Key,
			Output: r.Output, Error: r.Error, Attempts: r.Attempts}
		b, err := json.Marshal(&w)
		if err != nil {
			return nil, fmt.Errorf("record %s/%s: %w", r.Frame, r.Key, err)
		}
		hasStarted := "0"
		if !r.Started.IsZero() {
			hasStarted = "1"
		}
		args = append(args, recordField(r.RecordKey), string(b), hasStarted)
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
			s.noteDue(due)
		}
		args = append(args, js, due)
	}
	args = append(args, itoa(len(tr.Groups)))
	for _, g := range tr.Groups {
		var err error
		if args, err = s.appendGroup(args, g, run, hash, now); err != nil {
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
	if tr.End == nil {
		return append(args, "0"), nil
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
	return append(args, "1", string(tr.End.Status), out, errJSON), nil
}

// appendGroup encodes a group: its counters, where its result goes, its
// parent task, and the pieces of JSON the script assembles child tasks from
// (store.ChildTask, in Lua).
func (s *Store) appendGroup(args []string, g *store.Group, run, hash string, now time.Time) ([]string, error) {
	parent, ptok, pseq, pdue := "", "", "", "0"
	if g.Parent != nil {
		var err error
		if parent, pdue, err = encodeTask(g.Parent, now); err != nil {
			return nil, fmt.Errorf("group %s parent: %w", g.ID, err)
		}
		if pdue != "0" {
			s.noteDue(pdue)
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

// noteDue remembers the earliest delayed task this process has enqueued, so
// an idle Lease wakes up for it.
func (s *Store) noteDue(due string) {
	ms, err := strconv.ParseInt(due, 10, 64)
	if err != nil {
		return
	}
	for {
		cur := s.nextDue.Load()
		if cur != 0 && cur <= ms {
			return
		}
		if s.nextDue.CompareAndSwap(cur, ms) {
			return
		}
	}
}
