package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skript-dev/skript/store"
)

var _ store.RunIndex = (*Store)(nil)

// defaultRunsPage is how many runs ListRuns returns when limit is 0.
const defaultRunsPage = 100

var errCursor = errors.New("not a cursor of this store's ListRuns")

// filterSQL is the WHERE clause of f (from argument n+1 on) and its
// arguments.
func filterSQL(f store.RunFilter, withStatus bool, args []any) (string, []any) {
	var where []string
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Workflow != "" {
		where = append(where, "workflow = "+arg(f.Workflow))
	}
	if withStatus && f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
	}
	if !f.CreatedAfter.IsZero() {
		where = append(where, "created > "+arg(f.CreatedAfter.UnixNano()))
	}
	if !f.CreatedBefore.IsZero() {
		where = append(where, "created < "+arg(f.CreatedBefore.UnixNano()))
	}
	if len(where) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListRuns implements store.RunIndex: an index scan newest first from the
// cursor's place. The headers leave Inputs and Output out.
func (s *Store) ListRuns(ctx context.Context, f store.RunFilter, cursor string, limit int) (*store.RunPage, error) {
	if limit <= 0 {
		limit = defaultRunsPage
	}
	where, args := filterSQL(f, true, nil)
	if cursor != "" {
		n, id, ok := strings.Cut(cursor, "/")
		created, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil {
			return nil, errCursor
		}
		args = append(args, created, id)
		cond := "(created, id) < ($" + strconv.Itoa(len(args)-1) + ", $" + strconv.Itoa(len(args)) + ")"
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
	}
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, `SELECT status, header, error, ended FROM skript_runs`+where+
		` ORDER BY created DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &store.RunPage{Runs: []*store.Run{}}
	for rows.Next() {
		var status string
		var header, errInfo []byte
		var ended *int64
		if err := rows.Scan(&status, &header, &errInfo, &ended); err != nil {
			return nil, err
		}
		r, err := decodeRun(status, header, nil, errInfo, ended, false)
		if err != nil {
			return nil, err
		}
		r.Inputs = nil
		page.Runs = append(page.Runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Runs) > limit {
		page.Runs = page.Runs[:limit]
		last := page.Runs[limit-1]
		page.Next = strconv.FormatInt(last.Created.UnixNano(), 10) + "/" + last.ID
	}
	return page, nil
}

// CountRuns implements store.RunIndex.
func (s *Store) CountRuns(ctx context.Context, f store.RunFilter) (map[store.Status]int, error) {
	where, args := filterSQL(f, false, nil)
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM skript_runs`+where+` GROUP BY status`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[store.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[store.Status(st)] = n
	}
	return out, rows.Err()
}

// Retention's pace: a process deletes expired runs at most this often, at
// most expireBatch runs per statement.
const (
	expireEvery = time.Minute
	expireBatch = 500
	// expireRounds bounds the batches one Expire deletes, so a backlog
	// (a retention just shortened) is worked off over several calls
	// rather than holding up the CreateRun that started it.
	expireRounds = 20
)

// maybeExpire deletes ended runs past their retention, in bounded
// batches, at most once a minute per process; a failure is logged and
// tried again next time.
func (s *Store) maybeExpire(ctx context.Context) {
	if s.opts.ReadOnly || s.opts.Retention <= 0 {
		return
	}
	s.expireMu.Lock()
	now := time.Now()
	if now.Before(s.expireAt) {
		s.expireMu.Unlock()
		return
	}
	s.expireAt = now.Add(expireEvery)
	s.expireMu.Unlock()
	if _, err := s.Expire(ctx, now.Add(-s.opts.Retention)); err != nil {
		s.log.Warn("postgres store: deleting expired runs", "error", err)
	}
}

// Expire deletes the runs that ended before cutoff, with everything they
// hold, expireBatch runs per transaction, and the Blueprints no kept run
// uses that were last stored before cutoff. It returns how many runs went
// (at most expireRounds batches: call it again for more).
func (s *Store) Expire(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for range expireRounds {
		n, err := s.expireBatch(ctx, cutoff)
		if err != nil {
			return total, err
		}
		total += n
		if n < expireBatch {
			break
		}
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM skript_blueprints b WHERE touched < $1
		AND NOT EXISTS (SELECT 1 FROM skript_runs r WHERE r.hash = b.hash)`, cutoff)
	return total, err
}

// expireBatch deletes up to expireBatch expired runs in one transaction.
func (s *Store) expireBatch(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM skript_runs WHERE id IN (
			SELECT id FROM skript_runs WHERE ended < $1 ORDER BY ended LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id`,
			cutoff.UnixNano(), expireBatch)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			return err
		}
		n = len(ids)
		pb := &pgx.Batch{}
		for _, table := range []string{"skript_records", "skript_events", "skript_tasks", "skript_tokens", "skript_groups", "skript_slots"} {
			pb.Queue(`DELETE FROM `+table+` WHERE run = ANY($1)`, ids)
		}
		return tx.SendBatch(ctx, pb).Close()
	})
	return n, err
}
