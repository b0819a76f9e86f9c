package telemetry

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skript-dev/skript/store"
)

// opMetrics are one store operation's series, looked up once.
type opMetrics struct {
	d prometheus.Observer
	e prometheus.Counter
}

func (o *opMetrics) done(start time.Time, err error) {
	o.d.Observe(time.Since(start).Seconds())
	if err != nil {
		o.e.Inc()
	}
}

// instrumented is a store whose operations are timed and whose errors are
// counted (skript_store_operation_duration_seconds, skript_store_errors_total).
// WaitRun and Ended, which block until a run ends, are passed through.
type instrumented struct {
	store.Store
	lease, complete, startStep, extend, release, createRun, getRun, records,
	allRecords, cancel, putBlueprint, getBlueprint opMetrics
}

// Store wraps s so that its operations are measured; the journal's and
// the run index's are passed through unmeasured. Unwrap returns s.
func (m *Metrics) Store(s store.Store) store.Store {
	op := func(name string) opMetrics {
		return opMetrics{d: m.storeDuration.WithLabelValues(name), e: m.storeErrors.WithLabelValues(name)}
	}
	m.WatchQueues(s)
	return &instrumented{Store: s, lease: op("lease"), complete: op("complete"), startStep: op("start_step"),
		extend: op("extend"), release: op("release"), createRun: op("create_run"), getRun: op("get_run"),
		records: op("records"), allRecords: op("all_records"), cancel: op("cancel"),
		putBlueprint: op("put_blueprint"), getBlueprint: op("get_blueprint")}
}

// Unwrap returns the measured store.
func (s *instrumented) Unwrap() store.Store { return s.Store }

func (s *instrumented) PutBlueprint(ctx context.Context, hash string, data []byte) error {
	t := time.Now()
	err := s.Store.PutBlueprint(ctx, hash, data)
	s.putBlueprint.done(t, err)
	return err
}

func (s *instrumented) GetBlueprint(ctx context.Context, hash string) ([]byte, error) {
	t := time.Now()
	b, err := s.Store.GetBlueprint(ctx, hash)
	s.getBlueprint.done(t, err)
	return b, err
}

func (s *instrumented) CreateRun(ctx context.Context, run *store.Run, first *store.Transition) error {
	t := time.Now()
	err := s.Store.CreateRun(ctx, run, first)
	s.createRun.done(t, err)
	return err
}

func (s *instrumented) GetRun(ctx context.Context, id string) (*store.Run, error) {
	t := time.Now()
	r, err := s.Store.GetRun(ctx, id)
	s.getRun.done(t, notFoundIsNoError(err))
	return r, err
}

func (s *instrumented) Records(ctx context.Context, run string, keys []store.RecordKey) ([]*store.Record, error) {
	t := time.Now()
	r, err := s.Store.Records(ctx, run, keys)
	s.records.done(t, err)
	return r, err
}

func (s *instrumented) AllRecords(ctx context.Context, run string) ([]*store.Record, error) {
	t := time.Now()
	r, err := s.Store.AllRecords(ctx, run)
	s.allRecords.done(t, err)
	return r, err
}

func (s *instrumented) Cancel(ctx context.Context, id, reason string) error {
	t := time.Now()
	err := s.Store.Cancel(ctx, id, reason)
	s.cancel.done(t, notFoundIsNoError(err))
	return err
}

func (s *instrumented) Lease(ctx context.Context, consumer string, n int, wait time.Duration) ([]*store.Task, error) {
	t := time.Now()
	tasks, err := s.Store.Lease(ctx, consumer, n, wait)
	if ctx.Err() == nil {
		s.lease.done(t, err)
	}
	return tasks, err
}

func (s *instrumented) Complete(ctx context.Context, done []store.Completion) ([]bool, error) {
	t := time.Now()
	applied, err := s.Store.Complete(ctx, done)
	s.complete.done(t, err)
	return applied, err
}

func (s *instrumented) StartStep(ctx context.Context, task *store.Task, recs []*store.Record) (bool, error) {
	t := time.Now()
	ok, err := s.Store.StartStep(ctx, task, recs)
	s.startStep.done(t, err)
	return ok, err
}

func (s *instrumented) Extend(ctx context.Context, tasks []*store.Task) error {
	t := time.Now()
	err := s.Store.Extend(ctx, tasks)
	s.extend.done(t, err)
	return err
}

func (s *instrumented) Release(ctx context.Context, tasks []*store.Task) error {
	t := time.Now()
	err := s.Store.Release(ctx, tasks)
	s.release.done(t, err)
	return err
}

// notFoundIsNoError: an unknown run is an answer, not a failing store.
func notFoundIsNoError(err error) error {
	if err != nil && errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
