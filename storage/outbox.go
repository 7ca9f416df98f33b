package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"
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

// Outbox kinds of the health check's notices: a digest to a person, and its
// copy to a unit's group robots.
const (
	KindHealth = "health"
	KindRobot  = "robot"
)

// AtMostOnce is the one rule of which outbox messages are sent at most once
// rather than at least once: the health check's red notices (supervision
// of a branch in the red, to its secretary, to the committee above, to a
// unit's group robot), which must never arrive twice. The dispatcher
// commits the start of such a row's call before it makes it
// (Store.OutboxCalling); a row taken back while its call may have been
// delivered, or whose call was not answered, is not sent again but ends
// OutboxUncertain. Every other message is sent at least once: a call in
// doubt is made again.
func AtMostOnce(kind string, priority int) bool {
	return priority == PriorityRed && (kind == KindHealth || kind == KindRobot)
}

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

// Enqueue writes a message to the outbox, idempotently on DedupeKey (a key
// enqueued before is skipped). Run it inside the transaction of the change
// that causes the message: there the row is held and written, together with
// the transaction's other messages in one statement, just before the commit
// (or before the transaction next touches the outbox), so that handling an
// update costs no round trip per reply. Outside a transaction it is written
// at once.
func (s *Store) Enqueue(ctx context.Context, m OutMessage) error {
	if m.DedupeKey == "" {
		return fmt.Errorf("storage: enqueue: empty dedupe key")
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
		return fmt.Errorf("storage: enqueue %s: payload: %w", m.DedupeKey, err)
	}
	r := outRow{m: m, payload: payload}
	if s.tx != nil {
		s.tx.outbox = append(s.tx.outbox, r)
		return nil
	}
	return s.insertOutbox(ctx, []outRow{r})
}

// outRow is an enqueued message with its payload encoded.
type outRow struct {
	m       OutMessage
	payload []byte
}

// flushOutbox writes the messages this transaction has enqueued so far.
// Whatever reads or changes outbox rows inside a transaction calls it first,
// so that the transaction sees its own messages, in the order enqueued.
func (s *Store) flushOutbox(ctx context.Context) error {
	if s.tx == nil || s.tx.written == len(s.tx.outbox) {
		return nil
	}
	rows := s.tx.outbox[s.tx.written:]
	s.tx.written = len(s.tx.outbox)
	return s.insertOutbox(ctx, rows)
}

func (s *Store) insertOutbox(ctx context.Context, rows []outRow) error {
	n := len(rows)
	keys, channels, kinds, methods, notBefore := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payloads := make([][]byte, n)
	chats, persons, priorities := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, r := range rows {
		m := r.m
		keys[i], channels[i], kinds[i], methods[i], payloads[i] = m.DedupeKey, m.Channel, m.Kind, m.Method, r.payload
		chats[i], persons[i], priorities[i] = m.ChatID, m.PersonID, int64(m.Priority)
		if !m.NotBefore.IsZero() {
			notBefore[i] = m.NotBefore.UTC().Format(time.RFC3339Nano)
		}
	}
	// ORDER BY ord: ids follow the order of enqueueing, which is the order
	// a chat's messages leave in. The outbox is partitioned by month
	// (migration 00018): ON CONFLICT refuses a key within this month's
	// partition (concurrent enqueues included), the NOT ... ANY a key kept in
	// the previous month's (or a later one: the live months, livemonths.go;
	// looked up once, by index, never in this month's: see InsertUpdates).
	// A key stored before the previous month is no longer refused: see
	// docs/ARCHITECTURE.md (Retention) for why that is enough.
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return err
	}
	var res []struct {
		Added    int64          `db:"added"`
		Orphans  pq.Int64Array  `db:"orphans"`
		Notified pq.StringArray `db:"notified"`
	}
	err = s.selectP(ctx, &res, withLive(insertOutboxSQL, lo),
		pq.Array(keys), pq.Array(channels), pq.Array(chats), pq.Array(persons), pq.Array(priorities),
		pq.Array(kinds), pq.Array(methods), jsonArray(payloads), pq.Array(notBefore))
	if err == nil && len(res) == 1 && len(res[0].Orphans) > 0 {
		// Edits whose original is older than the live months (rare: a card
		// decided after a month or more) look it up in every month, once.
		_, err = s.q.ExecContext(ctx, withLive(`
			UPDATE outbox o SET edit_of_month = (SELECT max(k.part_month) FROM outbox k WHERE k.dedupe_key = o.edit_of)
			WHERE o.id = ANY($1) AND o.part_month >= {live}`, lo), res[0].Orphans)
	}
	if err != nil {
		if n == 1 {
			return fmt.Errorf("storage: enqueue %s: %w", keys[0], err)
		}
		return fmt.Errorf("storage: enqueue %d messages (%s, …): %w", n, keys[0], err)
	}
	if len(res) == 1 && s.tx != nil {
		// The statement woke the dispatchers of the channels it wrote to
		// (delivered at commit, dropped on rollback): not again in this
		// transaction.
		for _, ch := range res[0].Notified {
			s.tx.notified[ch] = true
		}
	}
	return nil
}

// insertOutboxSQL is insertOutbox's statement: $1 keys, $2 channels, $3
// chats, $4 persons, $5 priorities, $6 kinds, $7 methods, $8 payloads as
// one JSON array, $9 not_before (RFC 3339, "" for now). It returns how many
// rows it added, the ids of the edits whose original it did not find in
// the live months (orphans), and the NOTIFY channels it signalled: one
// for each outbox channel it added rows to (named as OutboxNotifyChannel
// names them), sent by the statement rather than after it to save a round
// trip. An edit's edit_of_month is its original's month (migration
// 00026): the live months' row, else this month's when the original is in
// the same statement.
const insertOutboxSQL = `
		WITH ins AS (
		INSERT INTO outbox (dedupe_key, channel, chat_id, person_id, priority, kind, method, payload, not_before, edit_of_month)
		SELECT k, ch, chat, NULLIF(p, 0), pr, kd, m, pl, COALESCE(NULLIF(nb, '')::timestamptz, now()),
			CASE WHEN pl->>'edit_of' IS NOT NULL THEN COALESCE(
				(SELECT max(o.part_month) FROM outbox o WHERE o.dedupe_key = pl->>'edit_of' AND o.part_month >= {live}),
				CASE WHEN pl->>'edit_of' = ANY($1::text[]) THEN date_trunc('month', now() AT TIME ZONE 'UTC')::date END) END
		FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), unnest($3::bigint[]), unnest($4::bigint[]), unnest($5::int[]),
			unnest($6::text[]), unnest($7::text[]), jsonb_array_elements($8::jsonb), unnest($9::text[]))
			WITH ORDINALITY AS t(k, ch, chat, p, pr, kd, m, pl, nb, ord)
		WHERE NOT (t.k = ANY (ARRAY(SELECT dedupe_key FROM outbox WHERE dedupe_key = ANY($1::text[]) AND part_month >= {live} AND ` + otherMonths + `)))
		ORDER BY ord
		ON CONFLICT (dedupe_key, part_month) DO NOTHING
		RETURNING id, channel, edit_of, edit_of_month),
		woken AS (SELECT 'outbox_' || channel AS name FROM ins GROUP BY channel)
		SELECT (SELECT count(*) FROM ins) AS added,
			COALESCE((SELECT array_agg(id) FROM ins WHERE edit_of IS NOT NULL AND edit_of_month IS NULL), '{}') AS orphans,
			COALESCE((SELECT array_agg(name) FROM woken WHERE pg_notify(name, '') IS NOT NULL), '{}') AS notified`

// OutboxNotifyChannel is the NOTIFY channel that announces new outbox rows
// of an outbox channel ("telegram", "wecom", …). Each outbox channel has its
// own, so that a Telegram reply does not wake the robot dispatchers.
// insertOutboxSQL builds the same names in SQL; the savepoint tests,
// listening here, receive its NOTIFYs.
func OutboxNotifyChannel(channel string) string { return "outbox_" + channel }
