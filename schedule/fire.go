package schedule

import (
	"context"
	"time"

	"github.com/skript-dev/skript/service"
)

// DefaultPoll is how often Run looks for due ticks.
const DefaultPoll = time.Second

// Run fires due ticks every poll (DefaultPoll when 0) until ctx is done.
func (m *Manager) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := m.Tick(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("schedules: cannot read them", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick fires the ticks of every schedule due by now, once each: several
// servers calling it at once start each tick's run once, through its
// idempotency key.
func (m *Manager) Tick(ctx context.Context) error {
	recs, err := m.st.ListSchedules(ctx)
	if err != nil {
		return err
	}
	now := m.now()
	for _, rec := range recs {
		s, st, err := decodeRecord(rec)
		if err != nil {
			m.log.Error("schedules: a schedule does not decode", "schedule", rec.Name, "err", err)
			continue
		}
		if s.Paused {
			continue
		}
		m.fireDue(ctx, s, st, now)
	}
	return nil
}

// due returns the ticks of s to fire at now after last, by its catch-up
// policy, and the last tick due (handled whether fired or not).
func due(c *Cron, s *Spec, last, now time.Time) (fire []time.Time, latest time.Time) {
	var all []time.Time
	for t := c.Next(last); !t.IsZero() && !t.After(now); t = c.Next(t) {
		all = append(all, t)
		if len(all) > MaxCatchUp {
			all = all[1:]
		}
	}
	if len(all) == 0 {
		return nil, time.Time{}
	}
	latest = all[len(all)-1]
	switch {
	case s.CatchUp == CatchUpAll:
		return all, latest
	case s.CatchUp == CatchUpOne || now.Sub(latest) < onTime:
		return all[len(all)-1:], latest
	}
	return nil, latest
}

func (m *Manager) fireDue(ctx context.Context, s *Spec, st *State, now time.Time) {
	c, err := ParseCron(s.Cron, s.TimeZone)
	if err != nil {
		m.log.Error("schedules: bad cron", "schedule", s.Name, "err", err)
		return
	}
	fire, latest := due(c, s, st.Last, now)
	if latest.IsZero() {
		return
	}
	for _, tick := range fire {
		if ctx.Err() != nil {
			return
		}
		if id := m.fire(ctx, s, st, tick); id != "" {
			st.LastRun = id
		}
	}
	st.Last = latest
	if err := m.putState(ctx, s.Name, st); err != nil {
		m.log.Warn("schedules: cannot record the tick", "schedule", s.Name, "err", err)
	}
}

// fire starts the run of one tick under the overlap policy and returns
// its id ("" when none was started).
func (m *Manager) fire(ctx context.Context, s *Spec, st *State, tick time.Time) string {
	log := m.log.With("schedule", s.Name, "tick", tick.UTC().Format(time.RFC3339))
	if st.LastRun != "" && s.Overlap != OverlapAllow {
		prev, err := m.svc.Get(ctx, st.LastRun)
		switch {
		case err != nil && service.CodeOf(err) != service.NotFound:
			log.Warn("schedules: cannot read the previous run", "run", st.LastRun, "err", err)
			return ""
		case err == nil && !prev.Status.Done() && prev.Key != Key(s.Name, tick):
			if s.Overlap == OverlapSkip {
				log.Info("schedules: tick skipped, the previous run still runs", "run", prev.ID)
				return ""
			}
			if _, err := m.svc.Cancel(ctx, prev.ID, "cancelled by schedule "+s.Name+": the next tick came"); err != nil {
				log.Warn("schedules: cannot cancel the previous run", "run", prev.ID, "err", err)
				return ""
			}
		}
	}
	bp, inputs, err := m.compile(s)
	if err != nil {
		log.Error("schedules: the workflow does not compile any more", "err", err)
		return ""
	}
	sub, err := m.svc.Submit(ctx, service.SubmitRequest{Blueprint: bp, Inputs: inputs, Key: Key(s.Name, tick)})
	if err != nil {
		log.Error("schedules: cannot start the run", "err", err)
		return ""
	}
	if !sub.Existing {
		log.Info("schedules: run started", "run", sub.Run.ID)
	}
	return sub.Run.ID
}
