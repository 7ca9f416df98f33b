package app

import (
	"context"
	"errors"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// Inbox is the update log as the bot's ingest and router drive it: store,
// lock, run, finish (ARCHITECTURE "An update's effects commit together,
// exactly once"). It is the system's own bookkeeping (domain.System's):
// no user asks for it, so its steps take no actor and authorise nothing;
// the use cases a handler calls do.
type Inbox struct{ store *storage.Store }

// Inbox returns the update log on the App's store: the update's
// transaction when the App is bound to one (InTx).
func (a *App) Inbox() Inbox { return Inbox{a.Store} }

// Add stores a batch of updates in one statement (and, outside a
// transaction, one commit) and returns the ids that were new; the others
// were stored before (redeliveries).
func (in Inbox) Add(ctx context.Context, us []NewUpdate) (map[int64]bool, error) {
	return in.store.InsertUpdates(ctx, us)
}

// Unprocessed lists up to limit stored but unprocessed updates, oldest
// first: the work a restarted process, or a full queue, leaves.
func (in Inbox) Unprocessed(ctx context.Context, limit int) ([]PendingUpdate, error) {
	return in.store.UnprocessedUpdates(ctx, limit)
}

// Lock locks an unprocessed update inside its processing transaction;
// domain.ErrNotFound means it is processed or another worker holds it.
func (in Inbox) Lock(ctx context.Context, id int64) (StoredUpdate, error) {
	return in.store.LockUpdate(ctx, id)
}

// LockBatch locks the unprocessed updates among ids for processing in one
// transaction (those processed or held elsewhere are missing from the
// map; the raw update is not read back for the ids in known) and reads
// ahead their senders' links and roles for the rest of the transaction,
// so that each update does not cost a round trip to learn who sent it.
func (in Inbox) LockBatch(ctx context.Context, ids, known []int64) (map[int64]StoredUpdate, error) {
	locked, err := in.store.LockUpdates(ctx, ids, known)
	if err != nil {
		return nil, err
	}
	senders := make([]int64, 0, len(locked))
	for _, su := range locked {
		if su.UserID != 0 {
			senders = append(senders, su.UserID)
		}
	}
	if err := in.store.PrefetchActors(ctx, senders); err != nil {
		return nil, err
	}
	return locked, nil
}

// Run runs an update's handler fn under a savepoint of the update's
// transaction: a refusal (*domain.UserError) undoes what fn wrote but for
// its refusal records (audit entries), and is returned for the router to
// answer; the update's other effects and its batch-mates' stay. Any other
// error is returned as it is, for the caller to roll back.
func (in Inbox) Run(ctx context.Context, fn func() error) error {
	return in.store.InTxUndoing(ctx, isUserError, func(*storage.Store) error { return fn() })
}

// isUserError reports a refusal meant for the sender.
func isUserError(err error) bool {
	var ue *domain.UserError
	return errors.As(err, &ue)
}

// Finish records the outcome of processing an update (errText "" for
// none).
func (in Inbox) Finish(ctx context.Context, id int64, outcome, errText string) error {
	return in.store.FinishUpdate(ctx, id, outcome, errText)
}

// FinishBatch records the outcomes of several updates in one statement.
func (in Inbox) FinishBatch(ctx context.Context, os []Outcome) error {
	return in.store.FinishUpdates(ctx, os)
}

// CountFailure counts a failed processing attempt outside the processing
// transaction (which rolled back) and returns the failures so far, so
// that an update that keeps failing is given up after a few.
func (in Inbox) CountFailure(ctx context.Context, id int64) (int, error) {
	return in.store.BumpAttempts(ctx, id)
}
