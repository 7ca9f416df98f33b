package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// stmtCache holds the server-side prepared statements of the hot path:
// storing, locking and finishing updates and writing replies. PostgreSQL
// then parses and plans each once per connection instead of on every call,
// which under load was an eighth of its time. Other statements stay
// unprepared: they run rarely and a prepared statement costs a server
// resource on every connection of the pool.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// prepared returns query prepared on the pool, bound to the current
// transaction if there is one.
func (s *Store) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	s.stmts.mu.Lock()
	st := s.stmts.m[query]
	s.stmts.mu.Unlock()
	if st == nil {
		p, err := s.db.PreparexContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("storage: prepare: %w", err)
		}
		s.stmts.mu.Lock()
		if st = s.stmts.m[query]; st == nil {
			s.stmts.m[query], st = p, p
		} else {
			p.Close() // prepared meanwhile by another caller
		}
		s.stmts.mu.Unlock()
	}
	tx, err := s.sqlTx(ctx)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		return tx.StmtxContext(ctx, st), nil
	}
	return st, nil
}

// execP, selectP and getP run a prepared statement.
func (s *Store) execP(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (s *Store) selectP(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

func (s *Store) closeStatements() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for q, st := range s.stmts.m {
		st.Close()
		delete(s.stmts.m, q)
	}
}
