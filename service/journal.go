package service

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/store"
)

// eventPage is how many events one read of a journal takes.
const eventPage = 1000

// followWait is how long one blocking read of a followed journal waits
// before it reads again (and sees a cancelled ctx).
const followWait = 5 * time.Second

// Events returns up to max of a run's events with Seq > after, waiting
// up to wait for the first when there is none yet.
func (s *Service) Events(ctx context.Context, id string, after int64, max int, wait time.Duration) ([]*store.Event, error) {
	j, err := s.journal()
	if err != nil {
		return nil, err
	}
	if after < 0 {
		return nil, errorf(Invalid, nil, "after %d: want 0 or more", after)
	}
	if max <= 0 || max > eventPage {
		max = eventPage
	}
	evs, err := j.Events(ctx, id, after, max, wait)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return evs, runErr(id, err)
}

// History returns every event of a run's journal, in order.
func (s *Service) History(ctx context.Context, id string) ([]*store.Event, error) {
	var all []*store.Event
	err := s.Stream(ctx, id, StreamRequest{}, func(ev *store.Event) error {
		all = append(all, ev)
		return nil
	})
	return all, err
}

// Snapshot is a run's records as they were right after one event.
type Snapshot struct {
	RunID string `json:"run_id"`
	// At is the event's Seq; Event is the event itself.
	At    int64        `json:"at"`
	Event *store.Event `json:"event"`
	Last  int64        `json:"last"` // the journal's last Seq
	// Records are the run's records then, sorted by frame and key.
	Records []*store.Record `json:"records"`
}

// RecordsAt rebuilds a run's records as they were right after event at,
// by replaying its journal (time travel). An at outside the journal is
// Invalid.
func (s *Service) RecordsAt(ctx context.Context, id string, at int64) (*Snapshot, error) {
	evs, err := s.History(ctx, id)
	if err != nil {
		return nil, err
	}
	last := int64(0)
	if len(evs) > 0 {
		last = evs[len(evs)-1].Seq
	}
	if at < 1 || at > last {
		return nil, errorf(Invalid, nil, "event %d: run %s has events 1 to %d", at, id, last)
	}
	snap := &Snapshot{RunID: id, At: at, Last: last, Records: store.Replay(evs, at)}
	if i, ok := slices.BinarySearchFunc(evs, at, func(ev *store.Event, at int64) int { return cmp.Compare(ev.Seq, at) }); ok {
		snap.Event = evs[i]
	}
	return snap, nil
}

// StreamRequest selects the events Stream hands on.
type StreamRequest struct {
	// After skips events up to this Seq.
	After int64
	// Follow keeps reading, waiting for new events, until the run's end
	// has been handed on (or ctx is done); otherwise Stream stops at the
	// journal's current end.
	Follow bool
	// Keep selects events (nil: all); the others are read and skipped.
	Keep func(*store.Event) bool
}

// Stream hands a run's events to fn in order. fn's error stops it and is
// returned.
func (s *Service) Stream(ctx context.Context, id string, req StreamRequest, fn func(*store.Event) error) error {
	after := req.After
	for {
		var wait time.Duration
		if req.Follow {
			wait = followWait
		}
		evs, err := s.Events(ctx, id, after, eventPage, wait)
		if err != nil {
			return err
		}
		ended := false
		for _, ev := range evs {
			after = ev.Seq
			if ev.Type == store.EventRunEnded || ev.Type == store.EventRunCancelled {
				ended = true
			}
			if req.Keep != nil && !req.Keep(ev) {
				continue
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
		switch {
		case ended:
			return nil
		case len(evs) == 0 && !req.Follow:
			return nil
		case len(evs) == 0 && ctx.Err() != nil:
			return ctx.Err()
		}
	}
}

// LogsRequest selects a run's log lines.
type LogsRequest struct {
	// Node keeps the lines of this node only ("" for all). A node the
	// run's workflow does not have is Invalid.
	Node string
	// After skips events up to this Seq.
	After int64
	// Follow waits for new lines until the run ends.
	Follow bool
}

// Logs hands a run's log events (`log` lines and shell output tails) to
// fn in order.
func (s *Service) Logs(ctx context.Context, id string, req LogsRequest, fn func(*store.Event) error) error {
	if _, err := s.journal(); err != nil {
		return err
	}
	if req.Node != "" {
		if err := s.checkNode(ctx, id, req.Node); err != nil {
			return err
		}
	}
	return s.Stream(ctx, id, StreamRequest{After: req.After, Follow: req.Follow, Keep: func(ev *store.Event) bool {
		return ev.Type == store.EventLog && (req.Node == "" || ev.Node == req.Node)
	}}, fn)
}

// checkNode refuses a node the run's workflow does not have, suggesting
// the closest one.
func (s *Service) checkNode(ctx context.Context, id, node string) error {
	bp, err := s.blueprintOf(ctx, id)
	if err != nil {
		return err
	}
	ids := make([]string, len(bp.Nodes))
	for i, n := range bp.Nodes {
		if n.ID == node {
			return nil
		}
		ids[i] = n.ID
	}
	return errorf(Invalid, nil, "node %q: workflow %s has no such node%s", node, bp.Name, dsl.Hint(node, ids))
}

// blueprintOf returns the Blueprint a run runs.
func (s *Service) blueprintOf(ctx context.Context, id string) (*blueprint.Blueprint, error) {
	hdr, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	data, err := s.st.GetBlueprint(ctx, hdr.Hash)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(NotFound, err, "run %s: its workflow %s is no longer kept", id, hdr.Workflow)
		}
		return nil, errorf(Internal, err, "run %s: read its workflow: %v", id, err)
	}
	bp, err := blueprint.Decode(data)
	if err != nil {
		return nil, errorf(Internal, err, "run %s: read its workflow: %v", id, err)
	}
	return bp, nil
}
