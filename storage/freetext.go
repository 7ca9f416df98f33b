package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// PendingText is free text read by the bot and waiting for its sender's
// 确认, 修改 or 取消 (SPEC §7.3), one per chat message.
type PendingText struct {
	ID        int64           `db:"id"`
	ChatID    int64           `db:"chat_id"`
	MessageID int64           `db:"message_id"`
	PersonID  int64           `db:"person_id"`
	Kind      string          `db:"kind"` // "checkin" or "claim"
	Reading   json.RawMessage `db:"reading"`
	CreatedAt time.Time       `db:"created_at"`
	UsedAt    *time.Time      `db:"used_at"`
	Outcome   *string         `db:"outcome"`
}

// The kinds of pending free text.
const (
	PendingTextCheckin = "checkin"
	PendingTextClaim   = "claim"
)

// PendingTextKey is the outbox key of the card that shows pending free text
// id: the key its edits name, and how a reply to it finds the reading.
func PendingTextKey(id int64) string { return "freetext:" + strconv.FormatInt(id, 10) }

// SavePendingText keeps a reading of message (chatID, messageID) and returns
// its id; a message already kept keeps its first reading and id.
func (s *Store) SavePendingText(ctx context.Context, p PendingText, reading any) (int64, error) {
	raw, err := json.Marshal(reading)
	if err != nil {
		return 0, fmt.Errorf("storage: pending text: %w", err)
	}
	return getValue[int64](ctx, s, fmt.Sprintf("pending text of message %d in chat %d", p.MessageID, p.ChatID), `
		INSERT INTO freetext_pending (chat_id, message_id, person_id, kind, reading, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (chat_id, message_id) DO UPDATE SET chat_id = EXCLUDED.chat_id
		RETURNING id`, p.ChatID, p.MessageID, p.PersonID, p.Kind, string(raw), p.CreatedAt)
}

// LockPendingText loads pending free text and locks it until the end of the
// transaction, so that taps on its buttons are taken one at a time.
func (s *Store) LockPendingText(ctx context.Context, id int64) (PendingText, error) {
	return getOne[PendingText](ctx, s, fmt.Sprintf("pending text %d", id), `
		SELECT id, chat_id, message_id, person_id, kind, reading, created_at, used_at, outcome
		FROM freetext_pending WHERE id = $1 FOR UPDATE`, id)
}

// UsePendingText marks pending free text used with its outcome
// ("confirmed", "edit", "cancelled"); false when it already was.
func (s *Store) UsePendingText(ctx context.Context, id int64, outcome string, at time.Time) (bool, error) {
	return execAffected(ctx, s, fmt.Sprintf("use pending text %d", id), `UPDATE freetext_pending SET used_at = $2, outcome = $3 WHERE id = $1 AND used_at IS NULL`, id, at, outcome)
}

// AlbumHasPendingText reports whether a message of the Telegram album
// (chatID, mediaGroupID) was already read as free text, so that an album is
// read once, not once per captioned photo.
func (s *Store) AlbumHasPendingText(ctx context.Context, chatID int64, mediaGroupID string) (bool, error) {
	return getValue[bool](ctx, s, fmt.Sprintf("pending text of album %q in chat %d", mediaGroupID, chatID), `
		SELECT EXISTS (SELECT 1 FROM freetext_pending WHERE chat_id = $1
			AND $2 IN (reading->>'media_group_id', reading->'request'->>'media_group_id'))`, chatID, mediaGroupID)
}

// UpdatePendingText replaces the reading of pending free text not yet used
// (a correction of it); false when it was used meanwhile.
func (s *Store) UpdatePendingText(ctx context.Context, id int64, reading any) (bool, error) {
	raw, err := json.Marshal(reading)
	if err != nil {
		return false, fmt.Errorf("storage: pending text %d: %w", id, err)
	}
	return execAffected(ctx, s, fmt.Sprintf("update pending text %d", id), `UPDATE freetext_pending SET reading = $2 WHERE id = $1 AND used_at IS NULL`, id, string(raw))
}

// PendingTextOfCard is the id of the pending free text whose card
// (PendingTextKey) is Telegram message messageID in chat chatID: the card a
// reply answers. Only the live months are searched: a card sent before them
// expired long ago, and a reply to it is chatter. domain.ErrNotFound when the
// message is no card.
func (s *Store) PendingTextOfCard(ctx context.Context, chatID, messageID int64) (int64, error) {
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return 0, err
	}
	key, err := getOne[string](ctx, s, fmt.Sprintf("card %d in chat %d", messageID, chatID), withLive(`
		SELECT dedupe_key FROM outbox
		WHERE chat_id = $1 AND tg_message_id = $2 AND dedupe_key LIKE 'freetext:%' AND part_month >= {live}
		ORDER BY id DESC LIMIT 1`, lo), chatID, messageID)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(key[len("freetext:"):], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("storage: card key %q: %w", key, err)
	}
	return id, nil
}
