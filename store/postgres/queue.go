package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skript-dev/skript/store"
)

// idleRecheck is the longest an idle worker goes without asking the
// database, should a notification be lost: its whole idle cost.
const idleRecheck = 5 * time.Second

// Lease implements store.Store. One statement takes up to limit visible
// entries (SKIP LOCKED: concurrent workers take different ones), makes
// them invisible until their lease runs out and counts the delivery; when
// none is visible it says when the next one will be, so an idle worker
// sleeps until then or until a notification, without polling.
func (s *Store) Lease(ctx context.Context, consumer string, limit int, wait time.Duration) ([]*store.Task, error) {
	if limit <= 0 {
		limit = 1
	}
	lis := s.listen()
	deadline := time.Now().Add(wait)
	for {
		epoch, wake := lis.tasks()
		now := time.Now()
		if s.claimLook(epoch, now) {
			tasks, next, err := s.leaseOnce(ctx, consumer, limit, now)
			if err != nil || len(tasks) > 0 {
				return tasks, err
			}
			s.setIdle(epoch, next, now)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return []*store.Task{}, nil
		}
		next, _ := s.idleUntil(epoch)
		if d := time.Until(next); d < left {
			left = max(d, time.Millisecond)
		}
		timer := time.NewTimer(left)
		select {
		case <-ctx.Done():
			timer.Stop()
			return []*store.Task{}, ctx.Err()
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// claimLook says whether this leaser should ask the database now: when a
// notification came since the last empty lease, or when the time that
// lease said has come. In the second case the first leaser to notice
// pushes that time on, so the process's idle leasers ask once between
// them, not once each.
func (s *Store) claimLook(epoch uint64, now time.Time) bool {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	if !s.idleValid || s.idleEpoch != epoch {
		return true
	}
	if now.Before(s.idleNext) {
		return false
	}
	s.idleNext = now.Add(idleRecheck)
	return true
}

// idleUntil returns when the last empty lease said an entry becomes
// visible, if nothing was notified since.
func (s *Store) idleUntil(epoch uint64) (time.Time, bool) {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	if !s.idleValid || s.idleEpoch != epoch {
		return time.Time{}, false
	}
	return s.idleNext, true
}

func (s *Store) setIdle(epoch uint64, next, now time.Time) {
	if next.IsZero() || next.Sub(now) > idleRecheck {
		next = now.Add(idleRecheck)
	}
	s.idleMu.Lock()
	s.idleEpoch, s.idleNext, s.idleValid = epoch, next, true
	s.idleMu.Unlock()
}

func (s *Store) leaseOnce(ctx context.Context, consumer string, max int, now time.Time) ([]*store.Task, time.Time, error) {
	rows, err := s.pool.Query(ctx, `WITH c AS (
			SELECT id FROM skript_tasks WHERE visible <= $1 ORDER BY visible, id LIMIT $2 FOR UPDATE SKIP LOCKED
		), u AS (
			UPDATE skript_tasks t SET visible = $3, worker = $4, deliveries = t.deliveries + 1
			FROM c WHERE t.id = c.id
			RETURNING t.id, t.enqueued, t.deliveries, t.data
		)
		SELECT id, enqueued, deliveries, data FROM u
		UNION ALL
		SELECT NULL, (SELECT min(visible) FROM skript_tasks), NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM u)`,
		now, max, now.Add(s.opts.Lease), consumer)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	var out []*store.Task
	var next time.Time
	for rows.Next() {
		var id, deliveries *int64
		var enqueued *time.Time
		var data []byte
		if err := rows.Scan(&id, &enqueued, &deliveries, &data); err != nil {
			return nil, time.Time{}, err
		}
		if id == nil {
			if enqueued != nil {
				next = *enqueued
			}
			continue
		}
		t, err := decodeTask(data)
		if err != nil {
			// A bad entry would come back forever: log and drop it.
			s.log.Error("postgres store: dropping a queue entry that does not decode", "id", *id, "error", err)
			_, _ = s.pool.Exec(ctx, `DELETE FROM skript_tasks WHERE id = $1`, *id)
			continue
		}
		t.Lease = strconv.FormatInt(*id, 10)
		t.Worker = consumer
		t.Enqueued = *enqueued
		t.Deliveries = int32(*deliveries)
		t.MaxDeliveries = int32(s.opts.MaxDeliveries)
		out = append(out, t)
	}
	return out, next, rows.Err()
}

// leaseIDs are the queue entries of leased tasks.
func leaseIDs(tasks []*store.Task) []int64 {
	ids := make([]int64, 0, len(tasks))
	for _, t := range tasks {
		if id, err := strconv.ParseInt(t.Lease, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// Complete implements store.Store: the batch is one transaction, which
// deletes the leased entries and applies the transitions.
func (s *Store) Complete(ctx context.Context, done []store.Completion) ([]bool, error) {
	tasks := make([]*store.Task, len(done))
	items := make([]item, 0, len(done))
	idx := make([]int, 0, len(done))
	for i, c := range done {
		tasks[i] = c.Task
		if c.Transition != nil {
			items = append(items, item{run: c.Task.Run, worker: c.Task.Worker, tr: c.Transition, fenced: true})
			idx = append(idx, i)
		}
	}
	applied := make([]bool, len(done))
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The runs' locks first, the queue entries after: a run's end
		// deletes its queued entries under the run's lock, and a batch
		// holding an entry while it waits for that lock would deadlock
		// with it.
		if len(items) > 0 {
			ok, err := newBatch(s, tx).apply(ctx, items)
			if err != nil {
				return err
			}
			for k, i := range idx {
				applied[i] = ok[k]
			}
		}
		if ids := leaseIDs(tasks); len(ids) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM skript_tasks WHERE id = ANY($1)`, ids); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// StartStep implements store.Store: the records, fenced like a
// completion, in a transaction of their own.
func (s *Store) StartStep(ctx context.Context, task *store.Task, recs []*store.Record) (bool, error) {
	var applied bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		ok, err := newBatch(s, tx).apply(ctx, []item{{run: task.Run, worker: task.Worker, fenced: true,
			tr: &store.Transition{Token: task.Token, Seq: task.Seq, Records: recs}}})
		applied = err == nil && ok[0]
		return err
	})
	return applied, err
}

// Extend implements store.Store: the entries stay invisible for another
// lease from now.
func (s *Store) Extend(ctx context.Context, tasks []*store.Task) error {
	ids := leaseIDs(tasks)
	if len(ids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE skript_tasks SET visible = $2 WHERE id = ANY($1)`, ids, time.Now().Add(s.opts.Lease))
	return err
}

// Release implements store.Store: the entries are visible, and ready,
// from now on.
func (s *Store) Release(ctx context.Context, tasks []*store.Task) error {
	ids := leaseIDs(tasks)
	if len(ids) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		now := time.Now()
		if _, err := tx.Exec(ctx, `UPDATE skript_tasks SET visible = $2, enqueued = $2, worker = NULL WHERE id = ANY($1)`, ids, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, chanTasks)
		return err
	})
}

// Ended implements store.Store: the ids of runs that end, from the
// skript_ended notifications.
func (s *Store) Ended(ctx context.Context) <-chan string {
	ch := make(chan string, 1024)
	lis := s.listen()
	lis.subscribe(ch)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.lisCtx.Done():
		}
		lis.unsubscribe(ch)
	}()
	return ch
}
