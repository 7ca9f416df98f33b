package app

import (
	"context"
	"errors"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// Inbox is the update log as the bot's ingest and router drive it: store,
// then process — lock, run, finish, commit (ARCHITECTURE "An update's
// effects commit together, exactly once"). Its Process, ProcessBatch and
// GiveUp open the update's transaction, so the router never does. It is
// the system's own bookkeeping (domain.System's): no user asks for it, so
// its steps take no actor and authorise nothing; the use cases a handler
// calls do.
type Inbox struct{ app *App }

// Inbox returns the update log on the App's store: the update's
// transaction when the App is bound to one (InTx).
func (a *App) Inbox() Inbox { return Inbox{a} }

// ErrFailedBefore is ProcessBatch's answer for a batch that holds an
// update that failed before: it rolls back, and the caller processes each
// update alone (Process), where failures are counted.
var ErrFailedBefore = errors.New("app: batch holds an update that failed before")

// Process processes one stored update in one transaction: lock its row,
// run handle with an App bound to the transaction, record the outcome
// handle returns, commit. Outcome "" means the update is processed or held
// elsewhere. When handle (or the bookkeeping) fails, the transaction rolls
// back, the failed attempt is counted in a statement of its own, and
// failures is the update's failures so far.
func (in Inbox) Process(ctx context.Context, id int64, handle func(a *App, su StoredUpdate) (outcome string, err error)) (outcome string, failures int, err error) {
	attempts := 0
	err = in.app.InTx(ctx, func(a *App) error {
		su, err := a.Inbox().lock(ctx, id)
		if errors.Is(err, domain.ErrNotFound) {
			outcome = "" // processed by someone else already
			return nil
		}
		if err != nil {
			return err
		}
		attempts = su.Attempts
		if outcome, err = handle(a, su); err != nil {
			return err
		}
		return a.Inbox().finish(ctx, id, outcome, "")
	})
	if err == nil {
		return outcome, 0, nil
	}
	if n, berr := in.countFailure(ctx, id); berr == nil {
		attempts = n
	} else {
		attempts++
	}
	return "", attempts, err
}

// GiveUp records an update that keeps failing as processed with outcome
// and errText, in a fresh transaction that also holds what apologise
// enqueues (the apology to its sender). domain.ErrNotFound means it was
// processed elsewhere meanwhile.
func (in Inbox) GiveUp(ctx context.Context, id int64, outcome, errText string, apologise func(a *App, su StoredUpdate) error) error {
	return in.app.InTx(ctx, func(a *App) error {
		su, err := a.Inbox().lock(ctx, id)
		if err != nil {
			return err
		}
		if err := apologise(a, su); err != nil {
			return err
		}
		return a.Inbox().finish(ctx, id, outcome, errText)
	})
}

// ProcessBatch processes several stored updates in one transaction: lock
// those among ids not processed or held elsewhere (lockBatch; their raw
// update is not read back for the ids in known), run handle for each in
// the order of ids (i its index) with an App bound to the transaction,
// record their outcomes in one statement, commit. It returns the outcomes
// in the order of ids, "" for those not locked. Any failure rolls the
// whole batch back, as does an update that failed before
// (ErrFailedBefore); the outcomes are then void.
func (in Inbox) ProcessBatch(ctx context.Context, ids, known []int64, handle func(a *App, i int, su StoredUpdate) (outcome string, err error)) ([]string, error) {
	outcomes := make([]string, len(ids))
	err := in.app.InTx(ctx, func(a *App) error {
		locked, err := a.Inbox().lockBatch(ctx, ids, known)
		if err != nil {
			return err
		}
		done := make([]Outcome, 0, len(locked))
		for i, id := range ids {
			su, ok := locked[id]
			if !ok {
				continue
			}
			if su.Attempts > 0 {
				return ErrFailedBefore
			}
			if outcomes[i], err = handle(a, i, su); err != nil {
				return err
			}
			done = append(done, Outcome{UpdateID: id, Outcome: outcomes[i]})
		}
		return a.Inbox().finishBatch(ctx, done)
	})
	if err != nil {
		return nil, err
	}
	return outcomes, nil
}

// store is the store of the App the Inbox was taken from.
func (in Inbox) store() *storage.Store { return in.app.Store }

// Add stores a batch of updates in one statement (and, outside a
// transaction, one commit) and returns the ids that were new; the others
// were stored before (redeliveries).
func (in Inbox) Add(ctx context.Context, us []NewUpdate) (map[int64]bool, error) {
	return in.store().InsertUpdates(ctx, us)
}

// Unprocessed lists up to limit stored but unprocessed updates, oldest
// first: the work a restarted process, or a full queue, leaves.
func (in Inbox) Unprocessed(ctx context.Context, limit int) ([]PendingUpdate, error) {
	return in.store().UnprocessedUpdates(ctx, limit)
}

// lock locks an unprocessed update inside its processing transaction;
// domain.ErrNotFound means it is processed or another worker holds it.
func (in Inbox) lock(ctx context.Context, id int64) (StoredUpdate, error) {
	return in.store().LockUpdate(ctx, id)
}

// lockBatch locks the unprocessed updates among ids for processing in one
// transaction (those processed or held elsewhere are missing from the
// map; the raw update is not read back for the ids in known) and reads
// ahead their senders' links and roles for the rest of the transaction,
// so that each update does not cost a round trip to learn who sent it.
func (in Inbox) lockBatch(ctx context.Context, ids, known []int64) (map[int64]StoredUpdate, error) {
	locked, err := in.store().LockUpdates(ctx, ids, known)
	if err != nil {
		return nil, err
	}
	senders := make([]int64, 0, len(locked))
	for _, su := range locked {
		if su.UserID != 0 {
			senders = append(senders, su.UserID)
		}
	}
	if err := in.store().PrefetchActors(ctx, senders); err != nil {
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
	return in.store().InTxUndoing(ctx, isUserError, func(*storage.Store) error { return fn() })
}

// isUserError reports a refusal meant for the sender.
func isUserError(err error) bool {
	var ue *domain.UserError
	return errors.As(err, &ue)
}

// finish records the outcome of processing an update (errText "" for
// none).
func (in Inbox) finish(ctx context.Context, id int64, outcome, errText string) error {
	return in.store().FinishUpdate(ctx, id, outcome, errText)
}

// finishBatch records the outcomes of several updates in one statement.
func (in Inbox) finishBatch(ctx context.Context, os []Outcome) error {
	return in.store().FinishUpdates(ctx, os)
}

// countFailure counts a failed processing attempt outside the processing
// transaction (which rolled back) and returns the failures so far, so
// that an update that keeps failing is given up after a few.
func (in Inbox) countFailure(ctx context.Context, id int64) (int, error) {
	return in.store().BumpAttempts(ctx, id)
}
