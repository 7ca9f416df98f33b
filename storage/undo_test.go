package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func isUserError(err error) bool {
	var ue *domain.UserError
	return errors.As(err, &ue)
}

// undoEnv is a store and a listener of the Telegram outbox's NOTIFYs.
type undoEnv struct {
	t      *testing.T
	ctx    context.Context
	s      *storage.Store
	notify chan *pq.Notification
}

func newUndoEnv(t *testing.T) *undoEnv {
	url := testdb.URL(t)
	db, err := sqlx.Open("postgres", storage.DriverURL(url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := pq.NewListener(url, time.Second, time.Second, func(pq.ListenerEventType, error) {})
	t.Cleanup(func() { l.Close() })
	if err := l.Listen(storage.OutboxNotifyChannel("telegram")); err != nil {
		t.Fatal(err)
	}
	return &undoEnv{t: t, ctx: context.Background(), s: storage.New(db), notify: l.Notify}
}

func (e *undoEnv) enqueue(s *storage.Store, key string) {
	e.t.Helper()
	if err := s.Enqueue(e.ctx, storage.OutMessage{DedupeKey: key, ChatID: 1, Payload: map[string]any{"text": key}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *undoEnv) count(query string, args ...any) int {
	e.t.Helper()
	return testdb.Count(e.t, e.s, query, args...)
}

func (e *undoEnv) outboxKeys() []string {
	e.t.Helper()
	var ks []string
	if err := e.s.DB().SelectContext(e.ctx, &ks, `SELECT dedupe_key FROM outbox ORDER BY id`); err != nil {
		e.t.Fatal(err)
	}
	return ks
}

// notifications counts the NOTIFYs that arrive within wait.
func (e *undoEnv) notifications(wait time.Duration) int {
	n := 0
	deadline := time.After(wait)
	for {
		select {
		case <-e.notify:
			n++
		case <-deadline:
			return n
		}
	}
}

// keptStep creates a unit in a step that succeeds.
func (e *undoEnv) keptStep(tx *storage.Store, code string) error {
	return tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error {
		_, err := tx.CreateUnit(e.ctx, code, "留下", domain.KindBranch, nil, time.Now())
		return err
	})
}

// refusalKept checks that refusingStep's records were kept, once, and
// that notifies NOTIFYs arrived.
func (e *undoEnv) refusalKept(notifies int) {
	e.t.Helper()
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'test.refuse' AND NOT allowed`); n != 1 {
		e.t.Fatalf("refusal audited %d times, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM bind_failures WHERE tg_user_id = 7`); n != 1 {
		e.t.Fatalf("failed /start recorded %d times, want 1", n)
	}
	if n := e.notifications(300 * time.Millisecond); n != notifies {
		e.t.Fatalf("%d NOTIFYs, want %d", n, notifies)
	}
}

// refusingStep writes a unit, enqueues and writes a message (with its
// NOTIFY), audits a refusal and records a failed /start, then refuses.
func (e *undoEnv) refusingStep(tx *storage.Store, code, msg string) error {
	if _, err := tx.CreateUnit(e.ctx, code, "不该留下", domain.KindBranch, nil, time.Now()); err != nil {
		return err
	}
	e.enqueue(tx, msg)
	if err := tx.FlushOutbox(e.ctx); err != nil {
		return err
	}
	if err := tx.Audit(e.ctx, storage.AuditEntry{Actor: "tg:7", Action: "test.refuse", Subject: code}); err != nil {
		return err
	}
	if err := tx.RecordBindFailure(e.ctx, 7, time.Now()); err != nil {
		return err
	}
	return domain.Refuse(domain.ErrForbidden, "不行。")
}

// Inside a transaction, a refused step is undone to its savepoint: its
// unit, its message (written, NOTIFY and all) go; its audit entry and its
// failed /start stay; the steps before and after it, and a message held
// from before it but written during it, stay.
func TestRefusalInATransactionUndoesItsStepOnly(t *testing.T) {
	e := newUndoEnv(t)
	err := e.s.InTx(e.ctx, func(tx *storage.Store) error {
		if err := e.keptStep(tx, "KEEP1"); err != nil {
			return err
		}
		e.enqueue(tx, "before")
		err := tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error { return e.refusingStep(tx, "GONE", "refused") })
		if !isUserError(err) {
			t.Fatalf("refusal returned as %v", err)
		}
		if n := tx.RefusalsRecorded(); n != 2 {
			t.Fatalf("refusal records after the undo: %d, want 2", n)
		}
		// The next step at the same depth reuses the savepoint's name.
		if err := e.keptStep(tx, "KEEP2"); err != nil {
			return err
		}
		e.enqueue(tx, "after")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM units WHERE code IN ('KEEP1', 'KEEP2')`); n != 2 {
		t.Fatalf("the other steps' units: %d, want 2", n)
	}
	if n := e.count(`SELECT count(*) FROM units WHERE code = 'GONE'`); n != 0 {
		t.Fatal("the refused step's unit was committed")
	}
	if ks := e.outboxKeys(); len(ks) != 2 || ks[0] != "before" || ks[1] != "after" {
		t.Fatalf("outbox %q, want before, after", ks)
	}
	// The NOTIFY of the undone write was dropped; the commit's write sent
	// one again.
	e.refusalKept(1)
}

// A refused step whose message was its transaction's only one sends no
// NOTIFY; a refusal inside a step that itself succeeds undoes only the
// inner step.
func TestRefusalSendsNoNotifyAndNestsUnderAnOuterStep(t *testing.T) {
	e := newUndoEnv(t)
	err := e.s.InTx(e.ctx, func(tx *storage.Store) error {
		return tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error {
			if _, err := tx.CreateUnit(e.ctx, "OUTER", "留下", domain.KindBranch, nil, time.Now()); err != nil {
				return err
			}
			err := tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error { return e.refusingStep(tx, "INNER", "refused") })
			if !isUserError(err) {
				t.Fatalf("inner refusal returned as %v", err)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM units WHERE code = 'OUTER'`); n != 1 {
		t.Fatal("the outer step's unit is missing")
	}
	if n := e.count(`SELECT count(*) FROM units WHERE code = 'INNER'`); n != 0 {
		t.Fatal("the refused inner step's unit was committed")
	}
	if ks := e.outboxKeys(); len(ks) != 0 {
		t.Fatalf("outbox %q, want empty", ks)
	}
	e.refusalKept(0)
}

// On its own, a refused step's transaction is rolled back and its refusal
// records are written again in a transaction of their own; a failure that
// is not a refusal leaves nothing, its audit entries included.
func TestRefusalOnItsOwnRollsBackAndKeepsTheAudit(t *testing.T) {
	e := newUndoEnv(t)
	err := e.s.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error { return e.refusingStep(tx, "GONE", "refused") })
	if !isUserError(err) {
		t.Fatalf("refusal returned as %v", err)
	}
	boom := errors.New("boom")
	err = e.s.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error {
		if err := e.refusingStep(tx, "FAILED", "failed"); !isUserError(err) {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failure returned as %v", err)
	}
	if n := e.count(`SELECT count(*) FROM units WHERE code IN ('GONE', 'FAILED')`); n != 0 {
		t.Fatalf("%d units committed, want 0", n)
	}
	if ks := e.outboxKeys(); len(ks) != 0 {
		t.Fatalf("outbox %q, want empty", ks)
	}
	e.refusalKept(0)
}

// A step that sends no statement (a reply held, nothing read) costs no
// SAVEPOINT; steps one after the other reuse one savepoint instead of
// nesting ever deeper, and a refusal without a statement undoes what it
// held.
func TestSavepointsAreSentOnlyBeforeAStatement(t *testing.T) {
	e := newUndoEnv(t)
	err := e.s.InTx(e.ctx, func(tx *storage.Store) error {
		for i, key := range []string{"a", "b"} {
			if err := tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error {
				e.enqueue(tx, key)
				return nil
			}); err != nil {
				return err
			}
			if n := tx.SavepointsInDatabase(); n != 0 {
				t.Fatalf("step %d without a statement sent %d savepoints", i, n)
			}
		}
		if err := tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error {
			e.enqueue(tx, "refused")
			return domain.Refuse(domain.ErrInvalid, "不行。")
		}); !isUserError(err) {
			t.Fatalf("refusal returned as %v", err)
		}
		// A step that starts with a step shares its savepoint.
		if err := tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error {
			return e.keptStep(tx, "NESTED")
		}); err != nil {
			return err
		}
		if n := tx.SavepointsInDatabase(); n != 1 {
			t.Fatalf("after a step in a step: %d savepoints, want 1", n)
		}
		// An inner step refused undoes to the shared savepoint; the outer
		// step goes on and keeps what it writes after.
		if err := tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error {
			if err := tx.InTxUndoing(e.ctx, isUserError, func(tx *storage.Store) error { return e.refusingStep(tx, "GONE", "refused") }); !isUserError(err) {
				t.Fatalf("inner refusal returned as %v", err)
			}
			_, err := tx.CreateUnit(e.ctx, "AFTER", "留下", domain.KindBranch, nil, time.Now())
			return err
		}); err != nil {
			return err
		}
		for i := range 3 {
			if err := e.keptStep(tx, "U"+string(rune('0'+i))); err != nil {
				return err
			}
			if n := tx.SavepointsInDatabase(); n != 1 {
				t.Fatalf("after step %d with a statement: %d savepoints, want 1", i, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ks := e.outboxKeys(); len(ks) != 2 || ks[0] != "a" || ks[1] != "b" {
		t.Fatalf("outbox %q, want a, b", ks)
	}
	if n := e.count(`SELECT count(*) FROM units WHERE code LIKE 'U%' OR code IN ('NESTED', 'AFTER')`); n != 5 {
		t.Fatalf("%d units, want 5", n)
	}
	if n := e.count(`SELECT count(*) FROM units WHERE code = 'GONE'`); n != 0 {
		t.Fatal("the refused inner step's unit was committed")
	}
	e.refusalKept(1) // a and b's
}
