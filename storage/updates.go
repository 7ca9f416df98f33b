package storage

import (
	"context"
	"encoding/json"
	"fmt"
)

// StoredUpdate is an inbound update as stored.
type StoredUpdate struct {
	UpdateID int64           `db:"update_id"`
	Raw      json.RawMessage `db:"raw"`
	Attempts int             `db:"attempts"`
}

// InsertUpdate stores a raw update. It returns false when the update_id was
// already stored (a redelivery), which the caller acknowledges and skips.
func (s *Store) InsertUpdate(ctx context.Context, id int64, raw []byte, chatID, userID int64, kind string) (bool, error) {
	res, err := s.q.ExecContext(ctx, `
		INSERT INTO updates (update_id, raw, chat_id, user_id, kind) VALUES ($1, $2, NULLIF($3, 0), NULLIF($4, 0), $5)
		ON CONFLICT (update_id) DO NOTHING`, id, raw, chatID, userID, kind)
	if err != nil {
		return false, fmt.Errorf("storage: insert update %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ClaimUpdate marks an unprocessed update as taken by this worker and returns
// it; it returns domain.ErrNotFound when it is processed or taken already.
func (s *Store) ClaimUpdate(ctx context.Context, id int64) (StoredUpdate, error) {
	var u StoredUpdate
	err := sqlxGet(ctx, s, &u, `
		UPDATE updates SET attempts = attempts + 1
		WHERE update_id = (SELECT update_id FROM updates WHERE update_id = $1 AND processed_at IS NULL FOR UPDATE SKIP LOCKED)
		RETURNING update_id, raw, attempts`, id)
	return u, notFoundf(err, "update %d", id)
}

// FinishUpdate records the outcome of processing.
func (s *Store) FinishUpdate(ctx context.Context, id int64, outcome, errText string) error {
	_, err := s.q.ExecContext(ctx, `UPDATE updates SET processed_at = now(), outcome = $2, error = NULLIF($3, '') WHERE update_id = $1`, id, outcome, errText)
	if err != nil {
		return fmt.Errorf("storage: finish update %d: %w", id, err)
	}
	return nil
}

// UnprocessedUpdates lists stored but unprocessed update ids, oldest first:
// the work a restarted process picks up.
func (s *Store) UnprocessedUpdates(ctx context.Context, limit int) ([]int64, error) {
	var ids []int64
	err := sqlxSelect(ctx, s, &ids, `SELECT update_id FROM updates WHERE processed_at IS NULL ORDER BY update_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: unprocessed updates: %w", err)
	}
	return ids, nil
}

// UpdateOutcome returns the outcome of a processed update ("" if pending).
func (s *Store) UpdateOutcome(ctx context.Context, id int64) (string, error) {
	var o *string
	err := s.q.QueryRowxContext(ctx, `SELECT outcome FROM updates WHERE update_id = $1`, id).Scan(&o)
	if err != nil {
		return "", notFound(err, "update outcome")
	}
	if o == nil {
		return "", nil
	}
	return *o, nil
}
