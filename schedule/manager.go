package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/runtime"
	"github.com/skript-dev/skript/service"
	"github.com/skript-dev/skript/store"
)

// Manager registers schedules and fires their ticks. It is safe for
// concurrent use; any number of Managers may share a store.
type Manager struct {
	svc *service.Service
	st  store.Schedules
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	progs map[string]compiled // by schedule name
}

type compiled struct {
	source string
	bp     *blueprint.Blueprint
}

// Options tune a Manager.
type Options struct {
	// Logger receives what firing meets (slog.Default() when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
}

// New returns a Manager over the service's store, which must keep
// schedules (an Unsupported *service.Error otherwise). The service's
// denied actions apply to the schedules' workflows.
func New(svc *service.Service, o Options) (*Manager, error) {
	st, ok := svc.Store().(store.Schedules)
	if !ok {
		return nil, &service.Error{Code: service.Unsupported, Message: "this store keeps no schedules"}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{svc: svc, st: st, log: o.Logger, now: o.Now, progs: map[string]compiled{}}, nil
}

func invalid(err error) error {
	return &service.Error{Code: service.Invalid, Message: err.Error(), Err: err}
}

func storeErr(what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &service.Error{Code: service.NotFound, Message: what + " not found", Err: err}
	}
	return &service.Error{Code: service.Internal, Message: fmt.Sprintf("%s: %v", what, err), Err: err}
}

// compile compiles a spec's workflow and checks its inputs.
func (m *Manager) compile(s *Spec) (*blueprint.Blueprint, map[string]any, error) {
	m.mu.Lock()
	c, ok := m.progs[s.Name]
	m.mu.Unlock()
	bp := c.bp
	if !ok || c.source != s.File+"\x00"+s.Source {
		file := s.File
		if file == "" {
			file = "workflow.yaml"
		}
		var err error
		if bp, err = m.svc.Compile(file, []byte(s.Source), service.CompileOptions{}); err != nil {
			return nil, nil, err
		}
		m.mu.Lock()
		m.progs[s.Name] = compiled{source: s.File + "\x00" + s.Source, bp: bp}
		m.mu.Unlock()
	}
	inputs := map[string]any{}
	if len(s.Inputs) > 0 && string(s.Inputs) != "null" {
		var err error
		if inputs, err = runtime.ParseInputs(s.Inputs); err != nil {
			return nil, nil, invalid(fmt.Errorf("inputs: want a JSON object: %w", err))
		}
	}
	if _, err := runtime.CheckInputs(bp, inputs); err != nil {
		return nil, nil, invalid(err)
	}
	return bp, inputs, nil
}

// Add registers a schedule, replacing one of the same name. Its first
// tick is the first after now: nothing before it is caught up.
func (m *Manager) Add(ctx context.Context, s Spec) (*Info, error) {
	if _, err := s.normalize(); err != nil {
		return nil, invalid(err)
	}
	if s.Source == "" {
		return nil, invalid(errors.New("workflow: want its source"))
	}
	bp, _, err := m.compile(&s)
	if err != nil {
		return nil, err
	}
	s.Workflow = bp.Name
	s.Created = m.now().UTC().Truncate(time.Second)
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	st := State{Last: s.Created}
	if err := m.putState(ctx, s.Name, &st); err != nil {
		return nil, err
	}
	if err := m.st.PutSchedule(ctx, s.Name, data); err != nil {
		return nil, storeErr("schedule "+s.Name, err)
	}
	return m.info(&s, &st), nil
}

func (m *Manager) putState(ctx context.Context, name string, st *State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := m.st.PutScheduleState(ctx, name, data); err != nil {
		return storeErr("schedule "+name, err)
	}
	return nil
}

// decode reads a stored schedule.
func decodeRecord(rec *store.ScheduleRecord) (*Spec, *State, error) {
	var s Spec
	if err := json.Unmarshal(rec.Spec, &s); err != nil {
		return nil, nil, fmt.Errorf("schedule %s: %w", rec.Name, err)
	}
	st := State{Last: s.Created}
	if len(rec.State) > 0 {
		if err := json.Unmarshal(rec.State, &st); err != nil {
			return nil, nil, fmt.Errorf("schedule %s state: %w", rec.Name, err)
		}
	}
	return &s, &st, nil
}

func (m *Manager) info(s *Spec, st *State) *Info {
	in := &Info{Name: s.Name, Cron: s.Cron, TimeZone: s.TimeZone, Workflow: s.Workflow, File: s.File, Inputs: s.Inputs,
		Overlap: s.Overlap, CatchUp: s.CatchUp, Paused: s.Paused, Created: s.Created, LastRun: st.LastRun}
	if !st.Last.Equal(s.Created) && !st.Last.IsZero() {
		t := st.Last.UTC()
		in.LastTick = &t
	}
	if c, err := ParseCron(s.Cron, s.TimeZone); err == nil && !s.Paused {
		from := m.now()
		if st.Last.After(from) {
			from = st.Last
		}
		if n := c.Next(from); !n.IsZero() {
			n = n.UTC()
			in.Next = &n
		}
	}
	return in
}

// Get returns a schedule.
func (m *Manager) Get(ctx context.Context, name string) (*Info, error) {
	s, st, err := m.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return m.info(s, st), nil
}

func (m *Manager) get(ctx context.Context, name string) (*Spec, *State, error) {
	rec, err := m.st.GetSchedule(ctx, name)
	if err != nil {
		return nil, nil, storeErr("schedule "+name, err)
	}
	s, st, err := decodeRecord(rec)
	if err != nil {
		return nil, nil, storeErr("schedule "+name, err)
	}
	return s, st, nil
}

// List returns every schedule, by name.
func (m *Manager) List(ctx context.Context) ([]*Info, error) {
	recs, err := m.st.ListSchedules(ctx)
	if err != nil {
		return nil, storeErr("schedules", err)
	}
	out := make([]*Info, 0, len(recs))
	for _, rec := range recs {
		s, st, err := decodeRecord(rec)
		if err != nil {
			return nil, storeErr("schedules", err)
		}
		out = append(out, m.info(s, st))
	}
	return out, nil
}

// Delete removes a schedule; its runs are kept.
func (m *Manager) Delete(ctx context.Context, name string) error {
	if err := m.st.DeleteSchedule(ctx, name); err != nil {
		return storeErr("schedule "+name, err)
	}
	m.mu.Lock()
	delete(m.progs, name)
	m.mu.Unlock()
	return nil
}

// Pause stops (paused) or resumes a schedule. Ticks while paused are not
// caught up: resuming starts from the next tick.
func (m *Manager) Pause(ctx context.Context, name string, paused bool) (*Info, error) {
	s, st, err := m.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if s.Paused == paused {
		return m.info(s, st), nil
	}
	if !paused {
		st.Last = m.now().UTC().Truncate(time.Second)
		if err := m.putState(ctx, name, st); err != nil {
			return nil, err
		}
	}
	s.Paused = paused
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if err := m.st.PutSchedule(ctx, name, data); err != nil {
		return nil, storeErr("schedule "+name, err)
	}
	return m.info(s, st), nil
}
