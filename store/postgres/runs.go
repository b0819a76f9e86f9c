package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skript-dev/skript/store"
)

// notFound turns pgx's "no rows" into store.ErrNotFound for what.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// PutBlueprint implements store.Store.
func (s *Store) PutBlueprint(ctx context.Context, hash string, data []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO skript_blueprints (hash, data, touched) VALUES ($1, $2, now())
		ON CONFLICT (hash) DO UPDATE SET touched = now()`, hash, data)
	return err
}

// GetBlueprint implements store.Store.
func (s *Store) GetBlueprint(ctx context.Context, hash string) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM skript_blueprints WHERE hash = $1`, hash).Scan(&data)
	return data, notFound(err, "blueprint "+hash)
}

// CreateRun implements store.Store: the header and the first transition
// in one transaction.
func (s *Store) CreateRun(ctx context.Context, run *store.Run, first *store.Transition) error {
	s.maybeExpire(ctx)
	hdr := *run
	hdr.Status = store.Running
	if hdr.Created.IsZero() {
		hdr.Created = time.Now()
	}
	enc, err := encodeHeader(&hdr)
	if err != nil {
		return err
	}
	var key *string
	if hdr.Key != "" {
		key = &hdr.Key
	}
	if first == nil {
		first = &store.Transition{}
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO skript_runs (id, workflow, hash, status, created, idem_key, header)
			VALUES ($1, $2, $3, 'running', $4, $5, $6)`, hdr.ID, hdr.Workflow, hdr.Hash, hdr.Created.UnixNano(), key, enc)
		if err != nil {
			return err
		}
		_, err = newBatch(s, tx).apply(ctx, []item{{run: hdr.ID, tr: first, created: &hdr}})
		return err
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		if pe.ConstraintName == "skript_runs_idem_key" {
			var id string
			if qerr := s.pool.QueryRow(ctx, `SELECT id FROM skript_runs WHERE idem_key = $1`, hdr.Key).Scan(&id); qerr == nil {
				return &store.RunExistsError{Key: hdr.Key, ID: id}
			}
			return &store.RunExistsError{Key: hdr.Key}
		}
		return fmt.Errorf("run %s already exists", hdr.ID)
	}
	return err
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, id string) (*store.Run, error) {
	var status string
	var header, output, errInfo []byte
	var ended *int64
	err := s.pool.QueryRow(ctx, `SELECT status, header, output, error, ended FROM skript_runs WHERE id = $1`, id).
		Scan(&status, &header, &output, &errInfo, &ended)
	if err != nil {
		return nil, notFound(err, "run "+id)
	}
	return decodeRun(status, header, output, errInfo, ended, true)
}

// decodeRun builds a run's header from its columns.
func decodeRun(status string, header, output, errInfo []byte, ended *int64, values bool) (*store.Run, error) {
	r, err := decodeHeader(header)
	if err != nil {
		return nil, err
	}
	r.Status = store.Status(status)
	if values && len(output) > 0 {
		if r.Output, err = decodeValue(output); err != nil {
			return nil, err
		}
	}
	if r.Error, err = decodeError(errInfo); err != nil {
		return nil, err
	}
	if ended != nil {
		r.Ended = time.Unix(0, *ended)
	}
	return r, nil
}

// Records implements store.Store.
func (s *Store) Records(ctx context.Context, run string, keys []store.RecordKey) ([]*store.Record, error) {
	frames, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		frames[i], names[i] = k.Frame, k.Key
	}
	rows, err := s.pool.Query(ctx, `SELECT k.i, r.data FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(frame, key, i)
		JOIN skript_records r ON r.run = $1 AND r.frame = k.frame AND r.key = k.key`, run, frames, names)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]*store.Record, len(keys))
	for rows.Next() {
		var i int64
		var data []byte
		if err := rows.Scan(&i, &data); err != nil {
			return nil, err
		}
		if out[i-1], err = decodeRecord(data); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// AllRecords implements store.Store.
func (s *Store) AllRecords(ctx context.Context, run string) ([]*store.Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT data FROM skript_records WHERE run = $1`, run)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Record
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		rec, err := decodeRecord(data)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// WaitRun implements store.Store: it waits for the run's notifications,
// and looks again every few seconds should one be missed.
func (s *Store) WaitRun(ctx context.Context, id string) (*store.Run, error) {
	for {
		wake := s.listen().run(id)
		r, err := s.GetRun(ctx, id)
		if err != nil || r.Status.Done() {
			return r, err
		}
		timer := time.NewTimer(5 * time.Second)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Cancel implements store.Store.
func (s *Store) Cancel(ctx context.Context, id string, reason string) error {
	if reason == "" {
		reason = "cancelled"
	}
	var exists bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b := newBatch(s, tx)
		_, err := b.apply(ctx, []item{{run: id, cancel: &store.RunEnd{Status: store.Cancelled, Error: &store.ErrorInfo{Message: reason}}}})
		exists = b.runs[id] != nil
		return err
	})
	if err == nil && !exists {
		return fmt.Errorf("run %s: %w", id, store.ErrNotFound)
	}
	return err
}
