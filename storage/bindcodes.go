package storage

import (
	"context"
	"fmt"
	"time"
)

// CreateBindCode stores the hash of a fresh bind code for a person and, in
// the same statement, revokes the person's older unused codes (SPEC §7.5):
// only the newest code handed out works.
func (s *Store) CreateBindCode(ctx context.Context, personID int64, hash []byte, expires time.Time) error {
	return exec(ctx, s, "create bind code", `
		WITH revoked AS (DELETE FROM bind_codes WHERE person_id = $1 AND used_at IS NULL)
		INSERT INTO bind_codes (person_id, code_hash, expires_at) VALUES ($1, $2, $3)`, personID, hash, expires)
}

// ConsumeBindCode marks an unused, unexpired code used and returns its
// person. Wrong, used and expired codes all return domain.ErrNotFound, so
// the caller cannot tell them apart (and cannot reveal which it was).
func (s *Store) ConsumeBindCode(ctx context.Context, hash []byte, now time.Time) (int64, error) {
	return getOne[int64](ctx, s, "bind code", `
		UPDATE bind_codes SET used_at = $2
		WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
		RETURNING person_id`, hash, now)
}

// RecordBindFailure counts a failed /start attempt of a Telegram account.
func (s *Store) RecordBindFailure(ctx context.Context, tgUserID int64, at time.Time) error {
	if err := exec(ctx, s, "record bind failure", `INSERT INTO bind_failures (tg_user_id, at) VALUES ($1, $2)`, tgUserID, at); err != nil {
		return err
	}
	s.keep(func(ctx context.Context, s *Store) error { return s.RecordBindFailure(ctx, tgUserID, at) })
	return nil
}

// BindFailuresSince returns how many failed /start attempts a Telegram
// account made after since, and when the oldest of them was.
func (s *Store) BindFailuresSince(ctx context.Context, tgUserID int64, since time.Time) (int, time.Time, error) {
	var row struct {
		N      int        `db:"n"`
		Oldest *time.Time `db:"oldest"`
	}
	if err := sqlxGet(ctx, s, &row, `SELECT count(*) AS n, min(at) AS oldest FROM bind_failures WHERE tg_user_id = $1 AND at > $2`, tgUserID, since); err != nil {
		return 0, time.Time{}, fmt.Errorf("storage: bind failures: %w", err)
	}
	if row.Oldest == nil {
		return row.N, time.Time{}, nil
	}
	return row.N, *row.Oldest, nil
}

// RelinkRequest is a redeemed bind code waiting for the new account's
// confirmation because its person is linked to another account.
type RelinkRequest struct {
	ID        int64     `db:"id"`
	PersonID  int64     `db:"person_id"`
	TGUserID  int64     `db:"tg_user_id"`
	ChatID    int64     `db:"chat_id"`
	Username  string    `db:"username"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
	Status    string    `db:"status"`
}

// CreateRelinkRequest stores a pending re-link and returns its id; the
// person's earlier pending requests are cancelled (only the newest counts).
func (s *Store) CreateRelinkRequest(ctx context.Context, r RelinkRequest) (int64, error) {
	if err := exec(ctx, s, "create relink request", `UPDATE relink_requests SET status = 'cancelled' WHERE person_id = $1 AND status = 'pending'`, r.PersonID); err != nil {
		return 0, err
	}
	return getValue[int64](ctx, s, "create relink request", `
		INSERT INTO relink_requests (person_id, tg_user_id, chat_id, username, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		r.PersonID, r.TGUserID, r.ChatID, r.Username, r.CreatedAt, r.ExpiresAt)
}

// LockRelinkRequest reads a re-link request and locks it until the end of
// the transaction, so that two taps decide it once.
func (s *Store) LockRelinkRequest(ctx context.Context, id int64) (RelinkRequest, error) {
	return getOne[RelinkRequest](ctx, s, fmt.Sprintf("relink request %d", id), `SELECT id, person_id, tg_user_id, chat_id, username, created_at, expires_at, status
		FROM relink_requests WHERE id = $1 FOR UPDATE`, id)
}

// FinishRelinkRequest marks a pending request confirmed or cancelled.
func (s *Store) FinishRelinkRequest(ctx context.Context, id int64, status string) error {
	return exec(ctx, s, fmt.Sprintf("finish relink request %d", id), `UPDATE relink_requests SET status = $2 WHERE id = $1 AND status = 'pending'`, id, status)
}
