package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/zhibu/zhibu/domain"
)

// sqlxGet and sqlxSelect run on the pool or the current transaction.
func sqlxGet(ctx context.Context, s *Store, dest any, q string, args ...any) error {
	return sqlx.GetContext(ctx, s.q, dest, q, args...)
}

func sqlxSelect(ctx context.Context, s *Store, dest any, q string, args ...any) error {
	return sqlx.SelectContext(ctx, s.q, dest, q, args...)
}

// The helpers below are the few shapes almost every store method has: run
// one statement and wrap its error as "storage: <what>: …", what naming the
// thing read or written as the error message shows it.

// selectAll lists the rows of q as Ts (structs by their db tags, or one
// column); nil when there are none.
func selectAll[T any](ctx context.Context, s *Store, what, q string, args ...any) ([]T, error) {
	var out []T
	if err := sqlxSelect(ctx, s, &out, q, args...); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	return out, nil
}

// orEmpty makes a list without rows empty rather than nil, for the lists
// written out as JSON arrays ([] rather than null).
func orEmpty[T any](out []T, err error) ([]T, error) {
	if err == nil && out == nil {
		out = []T{}
	}
	return out, err
}

// getOne reads the one row of q as a T (a struct by its db tags, or one
// column); no row is domain.ErrNotFound.
func getOne[T any](ctx context.Context, s *Store, what, q string, args ...any) (T, error) {
	var v T
	if err := sqlxGet(ctx, s, &v, q, args...); err != nil {
		return v, notFound(err, what)
	}
	return v, nil
}

// getValue is getOne for a statement that always yields its row (an
// aggregate, EXISTS, INSERT … RETURNING): any error is a failure.
func getValue[T any](ctx context.Context, s *Store, what, q string, args ...any) (T, error) {
	var v T
	if err := sqlxGet(ctx, s, &v, q, args...); err != nil {
		var zero T
		return zero, fmt.Errorf("storage: %s: %w", what, err)
	}
	return v, nil
}

// getIfAny is getOne for a row that may rightly be missing (an INSERT …
// ON CONFLICT DO NOTHING RETURNING, a lookup with a fallback): found is
// false, and err nil, when there is none.
func getIfAny[T any](ctx context.Context, s *Store, what, q string, args ...any) (v T, found bool, err error) {
	if err := sqlxGet(ctx, s, &v, q, args...); err != nil {
		var zero T
		if errors.Is(err, sql.ErrNoRows) {
			return zero, false, nil
		}
		return zero, false, fmt.Errorf("storage: %s: %w", what, err)
	}
	return v, true, nil
}

// chatValue is one row of a per-chat aggregate, selected as chat_id and v.
type chatValue[V any] struct {
	ChatID int64 `db:"chat_id"`
	V      V     `db:"v"`
}

// perChat runs q, an aggregate of (chat_id, v) rows, into a map by chat.
func perChat[V any](ctx context.Context, s *Store, what, q string, args ...any) (map[int64]V, error) {
	rows, err := selectAll[chatValue[V]](ctx, s, what, q, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]V, len(rows))
	for _, r := range rows {
		out[r.ChatID] = r.V
	}
	return out, nil
}

// scanAll lists the rows of q, each read into a T by scan (rows read
// column by column rather than by db tags); nil when there are none.
func scanAll[T any](ctx context.Context, s *Store, what string, scan func(*sql.Rows, *T) error, q string, args ...any) ([]T, error) {
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, fmt.Errorf("storage: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	return out, nil
}

// only is the one row of a list read for it (xs, err); none is
// domain.ErrNotFound for what.
func only[T any](what string, xs []T, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(xs) == 0 {
		return zero, notFound(sql.ErrNoRows, what)
	}
	return xs[0], nil
}

// exec runs a statement.
func exec(ctx context.Context, s *Store, what, q string, args ...any) error {
	if _, err := s.q.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	return nil
}

// execAffected runs a statement and reports whether it touched a row: the
// conditional UPDATE (or INSERT … ON CONFLICT DO NOTHING) that one of
// several concurrent callers wins.
func execAffected(ctx context.Context, s *Store, what, q string, args ...any) (bool, error) {
	res, err := s.q.ExecContext(ctx, q, args...)
	return affected(res, err, what)
}

// execCount runs a statement and returns how many rows it touched.
func execCount(ctx context.Context, s *Store, what, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("storage: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("storage: %s: %w", what, err)
	}
	return n, nil
}

func isNotFound(err error) bool { return errors.Is(err, domain.ErrNotFound) }
