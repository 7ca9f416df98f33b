package storage

import (
	"errors"

	"context"
	"fmt"
	"github.com/zhibu/zhibu/domain"

	"github.com/jmoiron/sqlx"
)

// sqlxGet and sqlxSelect run on the pool or the current transaction.
func sqlxGet(ctx context.Context, s *Store, dest any, q string, args ...any) error {
	return sqlx.GetContext(ctx, s.q, dest, q, args...)
}

func sqlxSelect(ctx context.Context, s *Store, dest any, q string, args ...any) error {
	return sqlx.SelectContext(ctx, s.q, dest, q, args...)
}

func notFoundf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return notFound(err, fmt.Sprintf(format, args...))
}

func isNotFound(err error) bool { return errors.Is(err, domain.ErrNotFound) }
