package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// The conversation as stored: every inbound update and every outbound
// message are kept (tables updates and outbox), which is enough to show a
// chat again after a restart (the offline sandbox's console does).

// ChatUpdate is a stored inbound update of one chat.
type ChatUpdate struct {
	UpdateID   int64           `db:"update_id"`
	ChatID     int64           `db:"chat_id"`
	Kind       string          `db:"kind"`
	Raw        json.RawMessage `db:"raw"`
	ReceivedAt time.Time       `db:"received_at"`
}

// ChatUpdates returns the last limit messages and button taps stored for
// the chats, oldest first.
func (s *Store) ChatUpdates(ctx context.Context, chats []int64, limit int) ([]ChatUpdate, error) {
	return selectAll[ChatUpdate](ctx, s, "chat updates", `
		SELECT * FROM (
			SELECT update_id, chat_id, kind, raw, received_at FROM updates
			WHERE chat_id = ANY($1) AND kind IN ('message', 'callback_query')
			ORDER BY update_id DESC LIMIT $2) AS t
		ORDER BY update_id`, pq.Array(chats), limit)
}

// ChatSend is a stored outbound Telegram message or edit of one chat.
type ChatSend struct {
	ID         int64          `db:"id"`
	ChatID     int64          `db:"chat_id"`
	DedupeKey  string         `db:"dedupe_key"`
	Method     string         `db:"method"`
	Status     string         `db:"status"`
	Payload    []byte         `db:"payload"`
	MessageIDs pq.Int64Array  `db:"tg_message_ids"`
	EditOf     sql.NullString `db:"edit_of"`
	CreatedAt  time.Time      `db:"created_at"`
	SentAt     sql.NullTime   `db:"sent_at"`
}

// ChatSends returns the last limit Telegram messages and edits enqueued for
// the chats (callback answers left out), oldest first.
func (s *Store) ChatSends(ctx context.Context, chats []int64, limit int) ([]ChatSend, error) {
	return selectAll[ChatSend](ctx, s, "chat sends", `
		SELECT * FROM (
			SELECT id, chat_id, dedupe_key, method, status, payload, tg_message_ids, edit_of, created_at, sent_at FROM outbox
			WHERE channel = 'telegram' AND chat_id = ANY($1) AND method <> $2
			ORDER BY id DESC LIMIT $3) AS t
		ORDER BY id`, pq.Array(chats), MethodAnswerCallback, limit)
}

// ConversationIDs returns the highest update id stored and, per chat, the
// highest message id seen in it (users' messages and the bot's): what a
// Bot API that lost its memory must continue after.
func (s *Store) ConversationIDs(ctx context.Context) (int64, map[int64]int, error) {
	last, err := getValue[int64](ctx, s, "last update id", `SELECT COALESCE(max(update_id), 0) FROM updates`)
	if err != nil {
		return 0, nil, err
	}
	ids, err := perChat[int](ctx, s, "last message ids", `
		SELECT chat_id, max(id) AS v FROM (
			SELECT chat_id, (COALESCE(raw->'message', raw->'edited_message')->>'message_id')::bigint AS id
			FROM updates WHERE chat_id IS NOT NULL AND kind IN ('message', 'edited_message')
			UNION ALL
			SELECT chat_id, (SELECT max(x) FROM unnest(tg_message_ids) AS x) FROM outbox
			WHERE channel = 'telegram' AND cardinality(tg_message_ids) > 0
		) AS t WHERE id IS NOT NULL GROUP BY chat_id`)
	if err != nil {
		return 0, nil, err
	}
	return last, ids, nil
}

// ChatMessageCounts counts, per chat, the messages stored: the users'
// messages received and the bot's messages enqueued.
func (s *Store) ChatMessageCounts(ctx context.Context, chats []int64) (map[int64]int, error) {
	return perChat[int](ctx, s, "chat message counts", `
		SELECT chat_id, sum(n)::int AS v FROM (
			SELECT chat_id, count(*) AS n FROM updates WHERE chat_id = ANY($1) AND kind = 'message' GROUP BY chat_id
			UNION ALL
			SELECT chat_id, count(*) FROM outbox WHERE channel = 'telegram' AND chat_id = ANY($1) AND method IN ('sendMessage', 'sendPhoto') GROUP BY chat_id
		) AS t GROUP BY chat_id`, pq.Array(chats))
}

// UpdateSettled reports whether update id has been processed and no
// Telegram message that is due now waits to go out: what the offline
// sandbox waits for before it shows the answer.
func (s *Store) UpdateSettled(ctx context.Context, id int64) (bool, error) {
	return getValue[bool](ctx, s, fmt.Sprintf("update %d settled", id), `
		SELECT EXISTS (SELECT 1 FROM updates WHERE update_id = $1 AND processed_at IS NOT NULL)
		   AND NOT EXISTS (SELECT 1 FROM outbox WHERE channel = 'telegram' AND status IN ('pending', 'sending') AND not_before <= now())`, id)
}
