package app

import (
	"context"
	"errors"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// Choice is a refusal that asks the sender to choose (a branch, a period):
// the bot shows the choices as buttons. Like a *domain.UserError it undoes
// what the use case wrote and is answered, not logged as a failure.
type Choice interface {
	error
	AsksToChoose()
}

// ErrChooseBranch means the sender is secretary of several branches and
// must name one; Branches lists them.
type ErrChooseBranch struct{ Branches []domain.Role }

func (e *ErrChooseBranch) Error() string { return "several branches: choose one" }

// AsksToChoose marks the error as a Choice.
func (e *ErrChooseBranch) AsksToChoose() {}

// InTxRefusable runs fn in one transaction (under a savepoint of the
// caller's, such as a chat update's). When fn refuses — a
// *domain.UserError, or a Choice asking the sender to choose — what it wrote is undone but for its refusal records
// (the audit entry), and the refusal is returned (storage.InTxUndoing).
func (a *App) InTxRefusable(ctx context.Context, fn func(*App) error) error {
	return a.Store.InTxUndoing(ctx, IsRefusal, func(tx *storage.Store) error { return fn(a.With(tx)) })
}

// IsRefusal reports an answer to the user rather than a failure.
func IsRefusal(err error) bool {
	var ue *domain.UserError
	var choice Choice
	return errors.As(err, &ue) || errors.As(err, &choice)
}
