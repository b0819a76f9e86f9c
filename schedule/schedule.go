// Package schedule starts workflows on cron expressions in time zones,
// with an overlap policy and a catch-up policy, from schedules kept in
// the store (store.Schedules). Any number of servers may run a Manager
// on one store: each tick's run has an idempotency key made of the
// schedule's name and the tick, so the store starts it once whoever
// fires it.
package schedule

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Overlap says what a tick does while the schedule's previous run runs.
type Overlap string

// Overlap policies.
const (
	// OverlapSkip lets the tick pass without a run.
	OverlapSkip Overlap = "skip"
	// OverlapAllow starts a run anyway.
	OverlapAllow Overlap = "allow"
	// OverlapCancel cancels the previous run, then starts one.
	OverlapCancel Overlap = "cancel"
)

// CatchUp says which ticks missed while no server ran are fired when
// one comes back.
type CatchUp string

// Catch-up policies.
const (
	// CatchUpNone fires none of them.
	CatchUpNone CatchUp = "none"
	// CatchUpOne fires the latest of them, once.
	CatchUpOne CatchUp = "one"
	// CatchUpAll fires each of them, oldest first (at most MaxCatchUp).
	CatchUpAll CatchUp = "all"
)

// MaxCatchUp bounds the ticks one catch-up fires.
const MaxCatchUp = 100

// onTime is how late a tick may be fired and still count as on time
// rather than missed: a server polls every second or so.
const onTime = time.Minute

// Spec is a schedule as registered.
type Spec struct {
	Name     string          `json:"name"`
	Cron     string          `json:"cron"`
	TimeZone string          `json:"time_zone,omitempty"`
	File     string          `json:"file,omitempty"`
	Source   string          `json:"source"`
	Workflow string          `json:"workflow,omitempty"` // the workflow's name, set on Add
	Inputs   json.RawMessage `json:"inputs,omitempty"`
	Overlap  Overlap         `json:"overlap,omitempty"`
	CatchUp  CatchUp         `json:"catch_up,omitempty"`
	Paused   bool            `json:"paused,omitempty"`
	Created  time.Time       `json:"created_at"`
}

// State is where firing a schedule has got to.
type State struct {
	// Last is the last tick handled (fired, or let pass by the overlap
	// policy, or skipped by the catch-up policy).
	Last time.Time `json:"last"`
	// LastRun is the run of the last tick fired.
	LastRun string `json:"last_run,omitempty"`
}

// Info is a schedule as the API and the CLI show it.
type Info struct {
	Name     string          `json:"name"`
	Cron     string          `json:"cron"`
	TimeZone string          `json:"time_zone"`
	Workflow string          `json:"workflow"`
	File     string          `json:"file,omitempty"`
	Inputs   json.RawMessage `json:"inputs,omitempty"`
	Overlap  Overlap         `json:"overlap"`
	CatchUp  CatchUp         `json:"catch_up"`
	Paused   bool            `json:"paused"`
	Created  time.Time       `json:"created_at"`
	Next     *time.Time      `json:"next_at,omitempty"`
	LastTick *time.Time      `json:"last_tick_at,omitempty"`
	LastRun  string          `json:"last_run_id,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// normalize fills defaults and checks the fields that need no compiler.
func (s *Spec) normalize() (*Cron, error) {
	if !nameRE.MatchString(s.Name) {
		return nil, fmt.Errorf("name %q: want letters, digits, '.', '_' or '-', starting with a letter or digit, at most 128", s.Name)
	}
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	c, err := ParseCron(s.Cron, s.TimeZone)
	if err != nil {
		return nil, err
	}
	switch s.Overlap {
	case "":
		s.Overlap = OverlapSkip
	case OverlapSkip, OverlapAllow, OverlapCancel:
	default:
		return nil, fmt.Errorf("overlap %q: want skip, allow or cancel", s.Overlap)
	}
	switch s.CatchUp {
	case "":
		s.CatchUp = CatchUpOne
	case CatchUpNone, CatchUpOne, CatchUpAll:
	default:
		return nil, fmt.Errorf("catch_up %q: want none, one or all", s.CatchUp)
	}
	return c, nil
}

// Key is the idempotency key of a schedule's run for one tick: the same
// on every server, so the store starts that run once.
func Key(name string, tick time.Time) string {
	return "schedule/" + name + "/" + tick.UTC().Format(time.RFC3339)
}
