// Package storage is zhibu's PostgreSQL persistence: one Store over sqlx,
// one file per entity, SQL in plain view, migrations embedded in the binary.
// A missing row is domain.ErrNotFound; dedup and exactly-once live in the
// schema (unique keys, ON CONFLICT, conditional updates).
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/zhibu/zhibu/domain"
)

// Migrations holds the numbered SQL migrations.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// MigrationsDir is the directory inside Migrations.
const MigrationsDir = "migrations"

// Store runs queries against the pool or, inside InTx, a transaction.
type Store struct {
	db *sqlx.DB
	q  sqlx.ExtContext
	// tx is the state of the transaction q belongs to; nil outside one.
	tx    *txState
	stmts *stmtCache
	// months is the database's current month as last seen (livemonths.go).
	months *monthCache
}

// txState is shared by every Store bound to one transaction.
type txState struct {
	notified map[string]bool
	// outbox holds the messages enqueued in the transaction; the first
	// written of them are written (see Enqueue and flushOutbox).
	outbox  []outRow
	written int
	actors  *actorCache // read ahead for a batch of updates (see PrefetchActors)
	// kept are the refusal records written so far (see InTxUndoing).
	kept []keptWrite
	// marks are the open savepoints, innermost last; the first sent of
	// them are in the database. established savepoints (by depth) exist in
	// the database, open or not (savepoint.go).
	marks       []mark
	sent        int
	established int
}

// notify wakes the listeners of channel when the transaction commits
// (at once outside a transaction). Within a transaction it is sent once:
// listeners only need to know that something is new, and every NOTIFY makes
// the commit take PostgreSQL's notification-queue lock.
func (s *Store) notify(ctx context.Context, channel string) error {
	if s.tx != nil {
		if s.tx.notified[channel] {
			return nil
		}
	}
	if err := exec(ctx, s, fmt.Sprintf("notify %s", channel), `SELECT pg_notify($1, '')`, channel); err != nil {
		return err
	}
	if s.tx != nil {
		s.tx.notified[channel] = true
	}
	return nil
}

// New wraps an open pool.
func New(db *sqlx.DB) *Store {
	return &Store{db: db, q: db, stmts: &stmtCache{m: map[string]*sqlx.Stmt{}}, months: &monthCache{}}
}

// DriverURL adds binary_parameters=yes to a lib/pq connection URL (or
// key=value string) unless it says otherwise. Without it lib/pq sends every
// statement with arguments as two round trips (prepare, then execute); with
// it, one. Its one other effect, []byte arguments sent as binary data, is
// right for bytea; storage passes JSON to json/jsonb columns as strings.
func DriverURL(raw string) string {
	if strings.Contains(raw, "binary_parameters") {
		return raw
	}
	return addParam(raw, "binary_parameters", "yes")
}

// DB returns the pool (for the leader lock and metrics).
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error {
	s.closeStatements()
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// InTx runs fn in one transaction; fn's Store sees the transaction. A nested
// call joins the outer transaction (InTxUndoing gives a step of it that a
// refusal undoes).
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	st := &txState{notified: map[string]bool{}}
	txs := &Store{db: s.db, q: &txConn{Tx: tx, st: st}, stmts: s.stmts, months: s.months, tx: st}
	if err := fn(txs); err != nil {
		return err
	}
	if err := txs.flushOutbox(ctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	return nil
}

// Migrate applies pending migrations under a PostgreSQL session lock, so two
// processes starting at once do not race.
func Migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	sub, err := fs.Sub(Migrations, MigrationsDir)
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("storage: migration lock: %w", err)
	}
	// Migrations are independent of one another and numbered when a change
	// starts, so one merged later may carry a lower number than one already
	// applied: apply it rather than refuse the start.
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	for _, r := range res {
		log.Info("migration applied", slog.Int64("version", r.Source.Version), slog.String("file", r.Source.Path), slog.Duration("took", r.Duration))
	}
	return nil
}

// notFound maps sql.ErrNoRows to domain.ErrNotFound with context.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: %s: %w", what, domain.ErrNotFound)
	}
	return fmt.Errorf("storage: %s: %w", what, err)
}

// isUnique reports a unique violation.
func isUnique(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsBadData reports that the database refused a value itself (class 22,
// data exception: text that is not valid UTF-8, say), as opposed to being
// unreachable or refusing the statement: retrying will not help.
func IsBadData(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code.Class() == "22"
}

// IsUnavailable reports errors that mean the database cannot be reached, as
// opposed to a bad query or constraint: callers answer 503 on these.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		// Class 08 connection exceptions, 57P admin shutdown / cannot connect now, 53 resources.
		c := string(pe.Code)
		return len(c) >= 2 && (c[:2] == "08" || c[:2] == "53" || c[:3] == "57P")
	}
	return true
}
