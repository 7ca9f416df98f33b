package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Outbox priorities: lower is sent first. Replies to a user's own message go
// before notices so that a chat never feels unresponsive.
const (
	PriorityReply   = 0
	PriorityRed     = 1
	PriorityYellow  = 2
	PriorityGreen   = 3
	PriorityRanking = 4
	PriorityDefault = 5
	PriorityBulk    = 6
)

// OutMessage is one message to enqueue. Payload holds the Bot API parameters
// (text, parse_mode, reply_markup, ...) for Method.
type OutMessage struct {
	DedupeKey string
	Channel   string // "telegram" (default)
	ChatID    int64
	PersonID  int64 // 0 when sent to a group
	Priority  int
	Kind      string
	Method    string // "sendMessage" (default), "editMessageText", "answerCallbackQuery", ...
	Payload   any
	NotBefore time.Time // zero = now
}

// Enqueue writes a message to the outbox. It is idempotent on DedupeKey: the
// second call returns inserted=false and the first row's id. Run it inside
// the transaction of the change that causes the message.
func (s *Store) Enqueue(ctx context.Context, m OutMessage) (id int64, inserted bool, err error) {
	if m.DedupeKey == "" {
		return 0, false, fmt.Errorf("storage: enqueue: empty dedupe key")
	}
	if m.Channel == "" {
		m.Channel = "telegram"
	}
	if m.Method == "" {
		m.Method = "sendMessage"
	}
	if m.Kind == "" {
		m.Kind = "reply"
	}
	payload, err := json.Marshal(m.Payload)
	if err != nil {
		return 0, false, fmt.Errorf("storage: enqueue: payload: %w", err)
	}
	var notBefore any
	if !m.NotBefore.IsZero() {
		notBefore = m.NotBefore
	}
	err = s.q.QueryRowxContext(ctx, `
		INSERT INTO outbox (dedupe_key, channel, chat_id, person_id, priority, kind, method, payload, not_before)
		VALUES ($1, $2, $3, NULLIF($4::bigint, 0), $5, $6, $7, $8, COALESCE($9, now()))
		ON CONFLICT (dedupe_key) DO NOTHING
		RETURNING id`, m.DedupeKey, m.Channel, m.ChatID, m.PersonID, m.Priority, m.Kind, m.Method, payload, notBefore).Scan(&id)
	if err == nil {
		// Wake the dispatcher; delivered at commit, dropped on rollback.
		if _, err := s.q.ExecContext(ctx, `SELECT pg_notify('outbox', '')`); err != nil {
			return 0, false, fmt.Errorf("storage: enqueue notify: %w", err)
		}
		return id, true, nil
	}
	if isNotFound(notFound(err, "")) {
		if err := s.q.QueryRowxContext(ctx, `SELECT id FROM outbox WHERE dedupe_key = $1`, m.DedupeKey).Scan(&id); err != nil {
			return 0, false, fmt.Errorf("storage: enqueue: existing %s: %w", m.DedupeKey, err)
		}
		return id, false, nil
	}
	return 0, false, fmt.Errorf("storage: enqueue %s: %w", m.DedupeKey, err)
}
