package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/adhocore/gronx"
)

// Cron is a cron expression in a time zone. Its ticks are wall-clock
// times of that zone, with daylight saving time handled the way people
// expect of a job with a set hour (and the way Vixie cron does):
//
//   - a time the clocks skip (02:30 on the night they jump from 02:00 to
//     03:00) fires once, at the jump (03:00 new time), not never;
//   - a time the clocks pass twice (01:30 on the night they go back from
//     02:00 to 01:00) fires once, the first time, not twice.
//
// An expression whose hour field is * (every hour: "*/5 * * * *",
// @hourly) follows real time instead: it fires through both passes of a
// repeated hour and has nothing to catch up in a skipped one, so the
// gap between two of its runs stays what it says.
type Cron struct {
	expr     string // normalized, five fields
	loc      *time.Location
	realTime bool
}

// macros are the named expressions accepted.
var macros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// ParseCron checks a five-field expression (minute hour day-of-month
// month day-of-week) or a macro, and a time zone name ("" is UTC).
func ParseCron(expr, zone string) (*Cron, error) {
	e := strings.Join(strings.Fields(expr), " ")
	if m, ok := macros[strings.ToLower(e)]; ok {
		e = m
	}
	fields := strings.Fields(e)
	if len(fields) != 5 || !gronx.IsValid(e) {
		names := make([]string, 0, len(macros))
		for k := range macros {
			names = append(names, k)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("cron %q: want five fields (minute hour day-of-month month day-of-week) or one of %s", expr, strings.Join(names, ", "))
	}
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: want an IANA name such as Europe/Paris or America/New_York", zone)
	}
	return &Cron{expr: e, loc: loc, realTime: fields[1] == "*" || fields[1] == "*/1"}, nil
}

// Location returns the time zone.
func (c *Cron) Location() *time.Location { return c.loc }

// naive is t's wall clock in the zone, as a UTC time: a calendar with no
// daylight saving time, where the expression is matched.
func (c *Cron) naive(t time.Time) time.Time {
	l := t.In(c.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// offsetAt is the zone's UTC offset at t, in seconds.
func (c *Cron) offsetAt(t time.Time) int64 {
	_, off := t.In(c.loc).Zone()
	return int64(off)
}

// nextWall is the first wall-clock match after (or at, with incl) w.
func (c *Cron) nextWall(w time.Time, incl bool) time.Time {
	n, err := gronx.NextTickAfter(c.expr, w, incl)
	if err != nil {
		// A valid expression that matches no date (30 2 31 2 *).
		return time.Time{}
	}
	return n.Truncate(time.Minute)
}

// Next returns the first tick strictly after after (zero when the
// expression matches no date).
func (c *Cron) Next(after time.Time) time.Time {
	after = after.Truncate(time.Second)
	if c.realTime {
		return c.nextReal(after)
	}
	w := c.naive(after)
	for range 1000 {
		n := c.nextWall(w, false)
		if n.IsZero() {
			return n
		}
		if t := c.resolve(n); t.After(after) {
			return t
		}
		w = n
	}
	return time.Time{}
}

// nextReal walks real time an offset at a time: within one offset the
// wall clock and real time move together.
func (c *Cron) nextReal(t time.Time) time.Time {
	incl := false
	for range 1000 {
		n := c.nextWall(c.naive(t), incl)
		if n.IsZero() {
			return n
		}
		at := time.Unix(n.Unix()-c.offsetAt(t), 0)
		_, end := t.In(c.loc).ZoneBounds()
		if end.IsZero() || at.Before(end) {
			return at.In(c.loc)
		}
		// The offset changes before that match: go on from the change.
		t, incl = end, true
	}
	return time.Time{}
}

// resolve maps a wall-clock time to the instant it fires: the first of
// the instants that read it, or the clocks' jump when none does.
func (c *Cron) resolve(n time.Time) time.Time {
	guess := time.Unix(n.Unix()-c.offsetAt(n), 0)
	var valid []time.Time
	offs := []int64{c.offsetAt(guess.Add(-12 * time.Hour)), c.offsetAt(guess), c.offsetAt(guess.Add(12 * time.Hour))}
	for _, off := range offs {
		t := time.Unix(n.Unix()-off, 0)
		if c.naive(t).Equal(n) {
			valid = append(valid, t)
		}
	}
	if len(valid) > 0 {
		return slices.MinFunc(valid, func(a, b time.Time) int { return a.Compare(b) }).In(c.loc)
	}
	// Skipped: the wall clock read with the offset before the jump is an
	// instant after it; the jump is where that offset's zone starts.
	after := time.Unix(n.Unix()-offs[0], 0)
	start, _ := after.In(c.loc).ZoneBounds()
	if start.IsZero() {
		return after.In(c.loc)
	}
	return start.In(c.loc)
}
