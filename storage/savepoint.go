package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/jmoiron/sqlx"
)

// A refusal undoes what the use case wrote and keeps its records: the
// audited refusals (audit entries with Allowed=false) and the other writes
// that exist to record a refusal (a failed /start, which the lockout
// counts). InTxUndoing is the one implementation: inside a transaction
// (a chat update's) the use case runs under a savepoint, rolled back to on
// a refusal; on its own it gets a transaction that is rolled back. Either
// way the refusal's records are then written again.
//
// Savepoints cost a round trip, so the SAVEPOINT statement is sent lazily,
// just before the transaction's next statement (txConn): a handler that
// sends none, such as /help answered from what the batch read ahead, costs
// nothing. A savepoint is never released on its own (that would be one
// more round trip); the next one at the same depth releases it in the same
// round trip as it is taken, so savepoints do not nest ever deeper along a
// batch of updates. Savepoints asked for one right after the other share
// one (see mark).

// keptWrite is a write that records a refusal: it is done again after the
// refusal's writes are undone.
type keptWrite func(ctx context.Context, s *Store) error

// mark is the state of the transaction when a savepoint was asked for.
// db is the database savepoint that holds its rows once sent: marks asked
// for with no statement between them share one (a use case's savepoint
// taken as the router's handler starts), so that a batch's updates give
// PostgreSQL one subtransaction each, not two (more than 64 in a
// transaction overflow its subtransaction cache and slow every snapshot).
type mark struct {
	outbox, written, kept int
	notified              map[string]bool
	actors                *actorCache
	db                    int
}

// savepoint is an open savepoint: the level-th mark.
type savepoint struct{ level int }

func savepointName(level int) string { return "zhibu_" + strconv.Itoa(level) }

// keep records w as a write to do again when the writes around it are
// undone by a refusal (a no-op outside a transaction, where nothing is
// undone).
func (s *Store) keep(w keptWrite) {
	if s.tx != nil {
		s.tx.kept = append(s.tx.kept, w)
	}
}

// RefusalsRecorded is how many refusal records (see InTxUndoing) the
// transaction holds so far; 0 outside one. A use case compares it before
// and after a step to learn whether the step's refusal was audited.
func (s *Store) RefusalsRecorded() int {
	if s.tx == nil {
		return 0
	}
	return len(s.tx.kept)
}

// InTxUndoing runs fn in a transaction: under a savepoint of the caller's
// transaction, or in one of its own. When fn fails with an error undo
// accepts (a refusal), everything fn wrote is undone (rows, outbox messages
// enqueued, NOTIFYs) except its refusal records — audited refusals, failed
// /start attempts — which are written again: in the caller's transaction,
// or after fn's own transaction rolled back, in a new one. fn's error is
// returned. Any other error is returned as it is, for the caller to roll
// back.
func (s *Store) InTxUndoing(ctx context.Context, undo func(error) bool, fn func(tx *Store) error) error {
	if s.tx != nil {
		sp := s.savepoint()
		err := fn(s)
		if err == nil || !undo(err) {
			s.forget(sp)
			return err
		}
		if uerr := s.rollbackTo(ctx, sp); uerr != nil {
			return errors.Join(err, uerr)
		}
		return err
	}
	var kept []keptWrite
	err := s.InTx(ctx, func(tx *Store) error {
		err := fn(tx)
		if err != nil && undo(err) {
			kept = tx.tx.kept
		}
		return err
	})
	if len(kept) == 0 {
		return err
	}
	if kerr := s.InTx(ctx, func(tx *Store) error { return tx.redo(ctx, kept) }); kerr != nil {
		return errors.Join(err, kerr)
	}
	return err
}

// savepoint asks for a savepoint of the transaction; its SAVEPOINT is sent
// before the next statement.
func (s *Store) savepoint() savepoint {
	t := s.tx
	t.marks = append(t.marks, mark{outbox: len(t.outbox), written: t.written, kept: len(t.kept), notified: maps.Clone(t.notified), actors: t.actors})
	return savepoint{level: len(t.marks)}
}

// forget closes sp without undoing anything (and without a round trip).
func (s *Store) forget(sp savepoint) {
	t := s.tx
	t.marks = t.marks[:sp.level-1]
	t.sent = min(t.sent, len(t.marks))
}

// rollbackTo undoes what the transaction did since sp (and closes it):
// rows, outbox messages (held or written), NOTIFYs (the server drops those
// sent since; they are sent again when something is written again), the
// read-ahead of senders; then does the refusal records kept since sp again.
func (s *Store) rollbackTo(ctx context.Context, sp savepoint) error {
	t := s.tx
	m := t.marks[sp.level-1]
	sent := sp.level <= t.sent
	s.forget(sp)
	if sent {
		// No statement since the mark means nothing to undo in the database.
		if _, err := s.q.(*txConn).Tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepointName(m.db)); err != nil {
			return fmt.Errorf("storage: rollback to savepoint: %w", err)
		}
		t.established = m.db
	}
	kept := slices.Clone(t.kept[m.kept:])
	t.outbox, t.written, t.kept = t.outbox[:m.outbox], m.written, t.kept[:m.kept]
	t.notified, t.actors = m.notified, m.actors
	return s.redo(ctx, kept)
}

// redo does kept writes again.
func (s *Store) redo(ctx context.Context, kept []keptWrite) error {
	for _, w := range kept {
		if err := w(ctx, s); err != nil {
			return fmt.Errorf("storage: keeping a refusal's record: %w", err)
		}
	}
	return nil
}

// txConn is the transaction of a Store inside InTx: it sends the
// savepoints asked for before the next statement.
type txConn struct {
	*sqlx.Tx
	st *txState
}

// sendMarks sends the savepoint of the marks asked for and not yet sent
// (one for all of them: no statement came between them), releasing first
// an older savepoint of the same depth in the same round trip.
func (c *txConn) sendMarks(ctx context.Context) error {
	t := c.st
	if t.sent == len(t.marks) {
		return nil
	}
	level := 1
	if t.sent > 0 {
		level = t.marks[t.sent-1].db + 1
	}
	q := "SAVEPOINT " + savepointName(level)
	if level <= t.established {
		q = "RELEASE SAVEPOINT " + savepointName(level) + "; " + q
	}
	if _, err := c.Tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("storage: savepoint: %w", err)
	}
	for i := t.sent; i < len(t.marks); i++ {
		t.marks[i].db = level
	}
	t.sent, t.established = len(t.marks), level
	return nil
}

// sqlTx is the transaction, its savepoints sent, for statements that need
// it itself (prepared statements, COPY).
func (s *Store) sqlTx(ctx context.Context) (*sqlx.Tx, error) {
	c, ok := s.q.(*txConn)
	if !ok {
		return nil, nil
	}
	if err := c.sendMarks(ctx); err != nil {
		return nil, err
	}
	return c.Tx, nil
}

func (c *txConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := c.sendMarks(ctx); err != nil {
		return nil, err
	}
	return c.Tx.ExecContext(ctx, query, args...)
}

func (c *txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := c.sendMarks(ctx); err != nil {
		return nil, err
	}
	return c.Tx.QueryContext(ctx, query, args...)
}

func (c *txConn) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if err := c.sendMarks(ctx); err != nil {
		return nil, err
	}
	return c.Tx.QueryxContext(ctx, query, args...)
}

// QueryRowxContext cannot return the savepoint's error itself: when the
// SAVEPOINT failed, the transaction is aborted (or its connection gone) and
// the query fails with it.
func (c *txConn) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	_ = c.sendMarks(ctx)
	return c.Tx.QueryRowxContext(ctx, query, args...)
}
