package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Outbox row states.
const (
	OutboxPending = "pending"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
	// OutboxUncertain: a message sent at most once (AtMostOnce) whose call
	// may or may not have been delivered (its leader was replaced or its
	// lease ran out during the call, or the call was not answered). Final:
	// it is not sent again.
	OutboxUncertain = "uncertain"
)

// MethodAnswerCallback is the one Bot API method outside every chat's
// order and pace: answering a button tap is not a message in the chat.
const MethodAnswerCallback = "answerCallbackQuery"

// UnreachablePrefix starts the failed_reason of a message whose chat refused
// the bot (blocked, kicked, deactivated).
const UnreachablePrefix = "unreachable: "

// OutboxRow is a claimed outbox row, as the dispatcher sends it.
type OutboxRow struct {
	ID         int64         `db:"id"`
	DedupeKey  string        `db:"dedupe_key"`
	Channel    string        `db:"channel"`
	ChatID     int64         `db:"chat_id"`
	Priority   int           `db:"priority"`
	Kind       string        `db:"kind"`
	Method     string        `db:"method"`
	Payload    []byte        `db:"payload"`
	Attempts   int           `db:"attempts"` // including this one
	Failures   int           `db:"failures"`
	CreatedAt  time.Time     `db:"created_at"`
	MessageIDs pq.Int64Array `db:"tg_message_ids"` // parts already sent

	// For edits: the original message named by edit_of.
	EditOf        sql.NullString `db:"edit_of"`
	OrigStatus    sql.NullString `db:"orig_status"`
	OrigChatID    sql.NullInt64  `db:"orig_chat_id"`
	OrigMessageID sql.NullInt64  `db:"orig_message_id"`
}

// OutboxClaim says which rows ClaimOutbox may take.
type OutboxClaim struct {
	Channel string
	Now     time.Time     // rows with not_before <= Now are due
	Lease   time.Duration // a claimed row returns to pending after this
	// SkipChats are chats the caller cannot send to now (pacing, 429 pause).
	SkipChats []int64
	// ByPriority rows are taken in (priority, id) order, then up to ByAge
	// more in id order, oldest first, whatever their priority.
	ByPriority int
	ByAge      int
	// Fence, when set, is the leadership the claim is made under: the
	// claim is refused (ErrStaleLeader) unless its epoch is still the
	// key's current one in leader_epoch.
	Fence LeaderFence
}

// LeaderFence is a leadership's fencing token (leader.Fence): the lock
// key and the epoch of the take-over. The zero value fences nothing.
type LeaderFence struct{ Key, Epoch int64 }

// ErrStaleLeader refuses a claim made under a superseded leadership.
var ErrStaleLeader = errors.New("storage: another replica has taken over the leadership")

// checkFence refuses (ErrStaleLeader) a claim under f unless f's epoch is
// still its key's current one; the zero fence passes. It must run in the
// claim's transaction: FOR SHARE waits for a take-over in progress (it
// updates the row) and keeps one from committing until the claim has.
func (s *Store) checkFence(ctx context.Context, f LeaderFence) error {
	if f.Epoch == 0 {
		return nil
	}
	var epoch int64
	err := s.q.QueryRowxContext(ctx, `SELECT epoch FROM leader_epoch WHERE key = $1 FOR SHARE`, f.Key).Scan(&epoch)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("fencing epoch: %w", err)
	}
	if epoch != f.Epoch {
		return fmt.Errorf("%w (claim under epoch %d, current %d)", ErrStaleLeader, f.Epoch, epoch)
	}
	return nil
}

// columns is the fence as the claim_key and claim_epoch of a claimed row
// (NULL for the zero fence).
func (f LeaderFence) columns() (key, epoch sql.NullInt64) {
	if f.Epoch == 0 {
		return key, epoch
	}
	return sql.NullInt64{Int64: f.Key, Valid: true}, sql.NullInt64{Int64: f.Epoch, Valid: true}
}

// ClaimOutbox marks due rows 'sending' (attempts+1, lease) and returns them.
//
// A row is due when it is pending, its not_before has come, it is not in
// SkipChats, an edit's original is sent (or failed), and no earlier row of
// its chat — in (priority, id) order — is in flight, due, or waiting to be
// retried. So at most one row per chat is in flight and a chat's messages
// leave in order, also across dispatchers; rows scheduled for later (a
// future not_before never tried) do not hold their chat up. Answers to
// callback queries are outside any chat's order.
//
// Rows are locked with FOR UPDATE SKIP LOCKED: two dispatchers never claim
// the same row.
func (s *Store) ClaimOutbox(ctx context.Context, c OutboxClaim) ([]OutboxRow, error) {
	if c.ByPriority <= 0 && c.ByAge <= 0 {
		return nil, nil
	}
	skip := c.SkipChats
	if skip == nil {
		skip = []int64{}
	}
	var rows []OutboxRow
	err := s.InTx(ctx, func(tx *Store) error {
		// The claim must walk the (priority, id) and id indexes in order and
		// stop after LIMIT rows. Right after a broadcast is enqueued the
		// statistics still describe a table with few pending rows, and the
		// planner then prefers a bitmap scan of every pending row plus a
		// sort — O(queue) per claim. Ruling those plans out keeps a claim
		// proportional to the rows it takes.
		//
		// For the same reason its generic plan is as good as a custom one,
		// and planning it costs as much as running it (6-18 ms with three
		// partitions): PostgreSQL's choice between the two made a custom
		// plan for about every other claim.
		if _, err := tx.q.ExecContext(ctx, claimSettings); err != nil {
			return err
		}
		if err := tx.checkFence(ctx, c.Fence); err != nil {
			return err
		}
		key, epoch := c.Fence.columns()
		// Prepared: on the partitioned outbox (migration 00018) its
		// subqueries span every month's partition, and planning it took
		// longer than running it (23 ms against 2 ms with ten partitions).
		// It searches the months that can hold a pending row (claimFrom),
		// and an edit's original in its month (edit_of_month), pruned as
		// the lookup runs.
		from, err := tx.claimFrom(ctx)
		if err != nil {
			return err
		}
		return tx.selectP(ctx, &rows, withLive(claimSQL, from),
			c.Channel, c.Now, c.Now.Add(c.Lease), pq.Array(skip), max(c.ByPriority, 0), max(c.ByAge, 0), key, epoch)
	})
	if err != nil {
		return nil, fmt.Errorf("storage: claim outbox: %w", err)
	}
	return rows, nil
}

// claimSettings are the planner settings of a claim's transaction (see
// ClaimOutbox).
const claimSettings = `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL plan_cache_mode = force_generic_plan`

// claimSQL: $1 channel, $2 now, $3 lease end, $4 chats to skip, $5 rows by
// priority, $6 rows by age, $7 and $8 the fence's key and epoch (or NULL);
// {live} is the first month that can hold a pending or sending row
// (claimFrom): the rows of a chat that hold its next message up are
// pending or sending too.
const claimSQL = `
WITH due AS NOT MATERIALIZED (
	SELECT o.id, o.priority FROM outbox o
	WHERE o.part_month >= {live} AND o.status = 'pending' AND o.channel = $1 AND o.not_before <= $2
	  AND (o.method = 'answerCallbackQuery' OR NOT (o.chat_id = ANY($4)))
	  AND (o.edit_of IS NULL OR EXISTS (
		SELECT 1 FROM outbox k WHERE k.dedupe_key = o.edit_of AND k.part_month = o.edit_of_month AND k.status IN ('sent', 'failed', 'uncertain')))
	  AND (o.method = 'answerCallbackQuery' OR NOT EXISTS (
		SELECT 1 FROM outbox b
		WHERE b.part_month >= {live} AND b.chat_id = o.chat_id AND b.channel = o.channel
		  AND b.status IN ('pending', 'sending') AND b.method <> 'answerCallbackQuery'
		  AND (b.priority, b.id) < (o.priority, o.id)
		  AND (b.status = 'sending' OR b.not_before <= $2 OR b.attempts > 0)
		  AND (b.edit_of IS NULL OR EXISTS (
			SELECT 1 FROM outbox k WHERE k.dedupe_key = b.edit_of AND k.part_month = b.edit_of_month AND k.status IN ('sent', 'failed', 'uncertain')))))
), pick AS (
	(SELECT id FROM due ORDER BY priority, id LIMIT $5)
	UNION
	(SELECT id FROM due ORDER BY id LIMIT $6)
), locked AS (
	-- The status test is written IS TRUE so that it implies no partial
	-- index's predicate: with the statistics of a young partition the
	-- planner otherwise walked the whole pending index to find these few
	-- ids (5 ms a claim at 40,000 pending rows) instead of taking them
	-- from the primary key.
	SELECT id FROM outbox WHERE part_month >= {live} AND id = ANY(ARRAY(SELECT id FROM pick)) AND (status = 'pending') IS TRUE
	FOR UPDATE SKIP LOCKED
)
UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1,
	lease_until = $3, last_attempt_at = $2, claim_key = $7, claim_epoch = $8, call_started_at = NULL
WHERE o.part_month >= {live} AND o.id = ANY(ARRAY(SELECT id FROM locked))
RETURNING o.id, o.dedupe_key, o.channel, o.chat_id, o.priority, o.kind, o.method, o.payload,
	o.attempts, o.failures, o.created_at, o.tg_message_ids, o.edit_of,
	(SELECT k.status FROM outbox k WHERE k.dedupe_key = o.edit_of AND k.part_month = o.edit_of_month) AS orig_status,
	(SELECT k.chat_id FROM outbox k WHERE k.dedupe_key = o.edit_of AND k.part_month = o.edit_of_month) AS orig_chat_id,
	(SELECT k.tg_message_id FROM outbox k WHERE k.dedupe_key = o.edit_of AND k.part_month = o.edit_of_month) AS orig_message_id`

// The statements a dispatcher runs for every message (claim, progress,
// sent, retry, fail) are prepared: on the partitioned outbox (migration
// 00018) planning one means opening every month's partition and its
// indexes, which cost more than running it. The per-message ones name the
// live months (execLive), so they open only those partitions, and the past
// months' only for a row not found there.

// OutboxProgress records the parts of a long message sent so far and
// extends the lease (and ends the call OutboxCalling marked: its result is
// recorded). It reports false when the row is no longer this
// attempt's (its lease ran out and it was taken back).
func (s *Store) OutboxProgress(ctx context.Context, id int64, attempt int, messageIDs []int64, leaseUntil time.Time) (bool, error) {
	n, err := s.execLive(ctx, 1, "", `
		UPDATE outbox SET tg_message_ids = $3, lease_until = $4, call_started_at = NULL
		WHERE id = $1 AND attempts = $2 AND status = 'sending' AND {window}`, id, attempt, pq.Array(nonNil(messageIDs)), leaseUntil)
	return liveAffected(n, err, "outbox progress")
}

// OutboxSent marks a row sent with the Telegram ids of its messages (the
// last one, which carries the buttons, goes to tg_message_id).
func (s *Store) OutboxSent(ctx context.Context, id int64, attempt int, messageIDs []int64, at time.Time) (bool, error) {
	var last any
	if n := len(messageIDs); n > 0 && messageIDs[n-1] != 0 {
		last = messageIDs[n-1]
	}
	n, err := s.execLive(ctx, 1, "", `
		UPDATE outbox SET status = 'sent', sent_at = $3, tg_message_id = $4, tg_message_ids = $5,
			lease_until = NULL, last_error = NULL
		WHERE id = $1 AND attempts = $2 AND status = 'sending' AND {window}`, id, attempt, at, last, pq.Array(nonNil(messageIDs)))
	return liveAffected(n, err, "outbox sent")
}

// OutboxSentRecord is one delivered row for OutboxSentBatch.
type OutboxSentRecord struct {
	ID         int64     `json:"id"`
	Attempt    int       `json:"attempt"`
	MessageIDs []int64   `json:"ids"`
	At         time.Time `json:"at"`
}

// OutboxSentBatch marks several rows sent in one statement (what OutboxSent
// does for one). It returns how many were still this attempt's.
func (s *Store) OutboxSentBatch(ctx context.Context, recs []OutboxSentRecord) (int64, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	for i := range recs {
		recs[i].MessageIDs = nonNil(recs[i].MessageIDs)
	}
	js, err := json.Marshal(recs)
	if err != nil {
		return 0, fmt.Errorf("storage: outbox sent batch: %w", err)
	}
	// The ids again as an array, so that each month's partition is searched
	// by its index rather than scanned for a hash join.
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	n, err := s.execLive(ctx, int64(len(recs)), "o", `
		UPDATE outbox o SET status = 'sent', sent_at = v.at, tg_message_ids = v.ids,
			tg_message_id = NULLIF(v.ids[cardinality(v.ids)], 0), lease_until = NULL, last_error = NULL
		FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, attempt int, ids bigint[], at timestamptz)
		WHERE o.id = v.id AND o.id = ANY($2::bigint[]) AND o.attempts = v.attempt AND o.status = 'sending' AND {window}`, string(js), pq.Array(ids))
	if err != nil {
		return 0, fmt.Errorf("storage: outbox sent batch: %w", err)
	}
	return n, nil
}

// OutboxRequeue describes a row going back to pending.
type OutboxRequeue struct {
	ID         int64
	Attempt    int
	NotBefore  time.Time
	Error      string  // last_error; "" keeps the previous one
	Failure    bool    // a temporary failure: failures+1
	Untried    bool    // the call was never made: attempts-1
	MessageIDs []int64 // parts sent so far
}

// OutboxRetry puts a claimed row back to pending until NotBefore.
func (s *Store) OutboxRetry(ctx context.Context, r OutboxRequeue) (bool, error) {
	fail, untried := 0, 0
	if r.Failure {
		fail = 1
	}
	if r.Untried {
		untried = 1
	}
	n, err := s.execLive(ctx, 1, "", `
		UPDATE outbox SET status = 'pending', not_before = $3, lease_until = NULL,
			last_error = COALESCE(NULLIF($4, ''), last_error), failures = failures + $5,
			attempts = attempts - $6, tg_message_ids = $7, call_started_at = NULL
		WHERE id = $1 AND attempts = $2 AND status = 'sending' AND {window}`,
		r.ID, r.Attempt, r.NotBefore, r.Error, fail, untried, pq.Array(nonNil(r.MessageIDs)))
	return liveAffected(n, err, "outbox retry")
}

// OutboxFail marks a claimed row failed for good with reason (for a chat
// that refused the bot, reason starts with UnreachablePrefix).
func (s *Store) OutboxFail(ctx context.Context, id int64, attempt int, reason string, messageIDs []int64, at time.Time) (bool, error) {
	return s.outboxEnd(ctx, OutboxFailed, id, attempt, reason, messageIDs, at)
}

// outboxEnd ends a claimed row in a final status other than sent (failed,
// uncertain) with reason.
func (s *Store) outboxEnd(ctx context.Context, status string, id int64, attempt int, reason string, messageIDs []int64, at time.Time) (bool, error) {
	n, err := s.execLive(ctx, 1, "", `
		UPDATE outbox SET status = $6, failed_reason = $3, last_error = $3, failed_at = $4,
			lease_until = NULL, tg_message_ids = $5
		WHERE id = $1 AND attempts = $2 AND status = 'sending' AND {window}`, id, attempt, reason, at, pq.Array(nonNil(messageIDs)), status)
	return liveAffected(n, err, "outbox "+status)
}

// OutboxCalling records, before the call is made, that the claimed row's
// call begins (call_started_at): a row sent at most once (AtMostOnce) whose
// call has begun is not sent again when it is taken back, but ends
// OutboxUncertain. It reports false — make no call — when the row is no
// longer this attempt's (taken back already) or its claim's leadership has
// been superseded. Whichever of this and a take-over commits first, the
// other sees it: the row is either taken back unmarked (and sent by the new
// leader) or marked (and not sent again).
func (s *Store) OutboxCalling(ctx context.Context, id int64, attempt int, at time.Time) (bool, error) {
	n, err := s.execLive(ctx, 1, "", `
		UPDATE outbox SET call_started_at = $3
		WHERE id = $1 AND attempts = $2 AND status = 'sending' AND {window}
		  AND (claim_epoch IS NULL OR claim_epoch = (SELECT epoch FROM leader_epoch WHERE key = outbox.claim_key))`, id, attempt, at)
	return liveAffected(n, err, "outbox calling")
}

// OutboxUncertain ends a claimed row OutboxUncertain with reason: its call
// was made but not answered, so it may have been delivered, and it is sent
// at most once.
func (s *Store) OutboxUncertain(ctx context.Context, id int64, attempt int, reason string, messageIDs []int64, at time.Time) (bool, error) {
	return s.outboxEnd(ctx, OutboxUncertain, id, attempt, reason, messageIDs, at)
}

// OutboxMoveChat follows a group that became a supergroup: the claimed row
// id and every pending row of oldChat now go to newChat. The row goes back
// to pending, due at once, without counting a failure (its attempt stays
// counted: a call was made).
func (s *Store) OutboxMoveChat(ctx context.Context, id int64, attempt int, oldChat, newChat int64, messageIDs []int64, now time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.ExecContext(ctx, `
			UPDATE outbox SET chat_id = $2 WHERE chat_id = $1 AND status = 'pending'`, oldChat, newChat); err != nil {
			return fmt.Errorf("storage: outbox move chat: %w", err)
		}
		if _, err := tx.q.ExecContext(ctx, `
			UPDATE outbox SET chat_id = $3, status = 'pending', not_before = $4, lease_until = NULL, tg_message_ids = $5
			WHERE id = $1 AND attempts = $2 AND status = 'sending'`, id, attempt, newChat, now, pq.Array(nonNil(messageIDs))); err != nil {
			return fmt.Errorf("storage: outbox move chat: %w", err)
		}
		return nil
	})
}

// OutboxMigrateChat is what a 400 with migrate_to_chat_id asks for, in one
// transaction: the group's bindings move to the new id (MigrateGroup) and
// the row in flight goes back to pending there with the chat's other
// pending rows (OutboxMoveChat). Done in two commits, a later row of the
// chat could be claimed at the new id while the earlier one was still in
// flight at the old, and arrive first. It reports whether a binding moved.
func (s *Store) OutboxMigrateChat(ctx context.Context, id int64, attempt int, oldChat, newChat int64, messageIDs []int64, now time.Time) (bool, error) {
	var moved bool
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if moved, err = tx.MigrateGroup(ctx, oldChat, newChat); err != nil {
			return err
		}
		return tx.OutboxMoveChat(ctx, id, attempt, oldChat, newChat, messageIDs, now)
	})
	return moved, err
}

// OutboxTakenBack counts the rows a recovery took back from a dispatcher
// that is gone: Requeued went back to pending (at least once: sent again),
// Uncertain ended OutboxUncertain (sent at most once, and their call had
// begun: not sent again).
type OutboxTakenBack struct{ Requeued, Uncertain int64 }

// takeBackSQL takes back the 'sending' rows of channel ($1) that cond
// selects, $2 being the time: a row whose call had begun (OutboxCalling:
// only rows sent at most once are marked) ends 'uncertain' with reason
// {why}, every other row goes back to pending. It answers the two counts.
const takeBackSQL = `
WITH back AS (
	UPDATE outbox SET lease_until = NULL,
		status = CASE WHEN call_started_at IS NULL THEN 'pending' ELSE 'uncertain' END,
		last_error = CASE WHEN call_started_at IS NULL THEN COALESCE(last_error, {why}) ELSE {why} END,
		failed_reason = CASE WHEN call_started_at IS NULL THEN failed_reason ELSE {why} END,
		failed_at = CASE WHEN call_started_at IS NULL THEN failed_at ELSE $2 END
	WHERE status = 'sending' AND channel = $1 AND {cond}
	RETURNING status)
SELECT count(*) FILTER (WHERE status = 'pending') AS requeued, count(*) FILTER (WHERE status = 'uncertain') AS uncertain FROM back`

func (s *Store) takeBack(ctx context.Context, what, why, cond string, args ...any) (OutboxTakenBack, error) {
	q := strings.NewReplacer("{why}", pq.QuoteLiteral(why), "{cond}", cond).Replace(takeBackSQL)
	var n OutboxTakenBack
	if err := s.q.QueryRowxContext(ctx, q, args...).Scan(&n.Requeued, &n.Uncertain); err != nil {
		return n, fmt.Errorf("storage: %s: %w", what, err)
	}
	return n, nil
}

// Reasons a row taken back is recorded with (last_error, and failed_reason
// of one that ends uncertain).
const (
	LeaseExpiredReason   = "lease expired in flight"
	LeaderReplacedReason = "in flight when its leader was replaced"
)

// RecoverOutboxLeases takes back rows of channel whose lease ran out before
// now (their dispatcher died mid-send): back to pending — they were maybe
// sent: at least once — or, for a row sent at most once whose call had
// begun, uncertain. Each channel's dispatcher recovers only its own rows,
// so the counts (and the metric) are per channel.
func (s *Store) RecoverOutboxLeases(ctx context.Context, channel string, now time.Time) (OutboxTakenBack, error) {
	return s.takeBack(ctx, "recover outbox leases", LeaseExpiredReason, `lease_until < $2`, channel, now)
}

// RecoverOutboxFromOldLeaders takes back, at once, the rows of channel in
// flight under an older epoch of fence's key: their leader is gone (fence
// is the current leadership, checked in the same statement), so waiting
// out their lease would only hold their chats up. Back to pending — they
// were maybe sent: at most the one row in flight per chat goes out twice —
// or, for a row sent at most once whose call had begun, uncertain (with
// now as its end).
func (s *Store) RecoverOutboxFromOldLeaders(ctx context.Context, channel string, fence LeaderFence, now time.Time) (OutboxTakenBack, error) {
	return s.takeBack(ctx, "recover outbox from old leaders", LeaderReplacedReason,
		`claim_key = $3 AND claim_epoch < $4 AND EXISTS (SELECT 1 FROM leader_epoch WHERE key = $3 AND epoch = $4 FOR SHARE)`,
		channel, now, fence.Key, fence.Epoch)
}

// ExpireOutbox fails pending rows of channel that have been due since
// before dueBefore and still could not be sent (e.g. an edit whose
// original never went out, a row held up behind its chat), and rows
// already tried that were created before dueBefore.
func (s *Store) ExpireOutbox(ctx context.Context, channel string, dueBefore, at time.Time) (int64, error) {
	return execCount(ctx, s, "expire outbox", `
		UPDATE outbox SET status = 'failed', failed_at = $3,
			failed_reason = 'expired: not sent in time' || COALESCE(' (last error: ' || last_error || ')', '')
		WHERE status = 'pending' AND channel = $1
		  AND (not_before < $2 OR (attempts > 0 AND created_at < $2))`, channel, dueBefore, at)
}

// RecentOutboxSends returns, per chat, the last time a message of channel
// was sent to it after since (callback answers aside). A dispatcher that
// just became leader starts its pacing from there.
func (s *Store) RecentOutboxSends(ctx context.Context, channel string, since time.Time) (map[int64]time.Time, error) {
	return perChat[time.Time](ctx, s, "recent outbox sends", `
		SELECT chat_id, max(sent_at) AS v FROM outbox
		WHERE status = 'sent' AND sent_at > $2 AND channel = $1 AND method <> 'answerCallbackQuery'
		GROUP BY chat_id`, channel, since)
}

// OutboxStats is a snapshot of the queue for metrics.
type OutboxStats struct {
	Pending    map[int]int64 // by priority, due or not
	Sending    int64
	OldestDue  time.Duration // age of the oldest due pending row, 0 if none
	FailedLast int64         // failed in the last 24 hours
}

// OutboxStatsOf counts the queue of channel as of now.
func (s *Store) OutboxStatsOf(ctx context.Context, channel string, now time.Time) (OutboxStats, error) {
	st := OutboxStats{Pending: map[int]int64{}}
	var byPrio []struct {
		Priority int   `db:"priority"`
		N        int64 `db:"n"`
	}
	if err := sqlxSelect(ctx, s, &byPrio, `
		SELECT priority, count(*) AS n FROM outbox WHERE status = 'pending' AND channel = $1 GROUP BY priority`, channel); err != nil {
		return st, fmt.Errorf("storage: outbox stats: %w", err)
	}
	for _, p := range byPrio {
		st.Pending[p.Priority] = p.N
	}
	var oldest sql.NullTime
	err := s.q.QueryRowxContext(ctx, `
		SELECT (SELECT count(*) FROM outbox WHERE status = 'sending' AND channel = $1),
		       (SELECT min(not_before) FROM outbox WHERE status = 'pending' AND channel = $1 AND not_before <= $2),
		       (SELECT count(*) FROM outbox WHERE status = 'failed' AND channel = $1 AND failed_at > $2 - interval '24 hours')`,
		channel, now).Scan(&st.Sending, &oldest, &st.FailedLast)
	if err != nil {
		return st, fmt.Errorf("storage: outbox stats: %w", err)
	}
	if oldest.Valid && now.After(oldest.Time) {
		st.OldestDue = now.Sub(oldest.Time)
	}
	return st, nil
}

// FailedMessage is an outbox row that will not be delivered.
type FailedMessage struct {
	ID          int64     `db:"id"`
	DedupeKey   string    `db:"dedupe_key"`
	Channel     string    `db:"channel"`
	ChatID      int64     `db:"chat_id"`
	PersonID    *int64    `db:"person_id"`
	Kind        string    `db:"kind"`
	Method      string    `db:"method"`
	Attempts    int       `db:"attempts"`
	CreatedAt   time.Time `db:"created_at"`
	FailedAt    time.Time `db:"failed_at"`
	Reason      string    `db:"failed_reason"`
	Unreachable bool      `db:"unreachable"`
}

// FailedQuery filters FailedOutbox.
type FailedQuery struct {
	Since           time.Time // failed at or after; zero = any time
	UnreachableOnly bool      // only chats that refused the bot
	PersonID        int64     // 0 = anyone
	Limit           int       // 0 = 100
}

// FailedOutbox lists undelivered messages, newest first: the misses to
// report (a blocked user, a malformed text, an expired notice).
func (s *Store) FailedOutbox(ctx context.Context, q FailedQuery) ([]FailedMessage, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	return selectAll[FailedMessage](ctx, s, "failed outbox", `
		SELECT id, dedupe_key, channel, chat_id, person_id, kind, method, attempts, created_at,
			COALESCE(failed_at, created_at) AS failed_at, COALESCE(failed_reason, '') AS failed_reason,
			COALESCE(failed_reason, '') LIKE 'unreachable: %' AS unreachable
		FROM outbox
		WHERE status = 'failed' AND COALESCE(failed_at, created_at) >= $1
		  AND (NOT $2 OR failed_reason LIKE 'unreachable: %')
		  AND ($3 = 0 OR person_id = $3)
		ORDER BY failed_at DESC NULLS LAST, id DESC LIMIT $4`, q.Since, q.UnreachableOnly, q.PersonID, q.Limit)
}

// OutboxRecord is an outbox row's delivery state.
type OutboxRecord struct {
	ID           int64          `db:"id"`
	DedupeKey    string         `db:"dedupe_key"`
	ChatID       int64          `db:"chat_id"`
	Priority     int            `db:"priority"`
	Method       string         `db:"method"`
	Status       string         `db:"status"`
	Attempts     int            `db:"attempts"`
	Failures     int            `db:"failures"`
	NotBefore    time.Time      `db:"not_before"`
	CreatedAt    time.Time      `db:"created_at"`
	SentAt       sql.NullTime   `db:"sent_at"`
	MessageID    sql.NullInt64  `db:"tg_message_id"`
	MessageIDs   pq.Int64Array  `db:"tg_message_ids"`
	LastError    sql.NullString `db:"last_error"`
	FailedReason sql.NullString `db:"failed_reason"`
}

const outboxRecordCols = `id, dedupe_key, chat_id, priority, method, status, attempts, failures, not_before,
	created_at, sent_at, tg_message_id, tg_message_ids, last_error, failed_reason`

// OutboxByKey returns the delivery state of the message with dedupe key.
func (s *Store) OutboxByKey(ctx context.Context, key string) (OutboxRecord, error) {
	return getOne[OutboxRecord](ctx, s, fmt.Sprintf("outbox %s", key), `SELECT `+outboxRecordCols+` FROM outbox WHERE dedupe_key = $1`, key)
}

// OutboxByStatus lists rows in status (all when status is ""), by id.
func (s *Store) OutboxByStatus(ctx context.Context, status string) ([]OutboxRecord, error) {
	return selectAll[OutboxRecord](ctx, s, "outbox by status", `SELECT `+outboxRecordCols+` FROM outbox WHERE ($1 = '' OR status = $1) ORDER BY id`, status)
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

func affected(res sql.Result, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("storage: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("storage: %s: %w", what, err)
	}
	return n > 0, nil
}

// affectedOne is affected for a statement that names its row: touching none
// is domain.ErrNotFound for subject.
func affectedOne(res sql.Result, err error, what, subject string) error {
	ok, err := affected(res, err, what)
	if err != nil {
		return err
	}
	if !ok {
		return notFound(sql.ErrNoRows, subject)
	}
	return nil
}

// IsUnreachableReason reports a failed_reason written for a chat that refused the bot.
func IsUnreachableReason(reason string) bool { return strings.HasPrefix(reason, UnreachablePrefix) }

// liveAffected is affected for execLive's count.
func liveAffected(n int64, err error, what string) (bool, error) {
	if err != nil {
		return false, fmt.Errorf("storage: %s: %w", what, err)
	}
	return n > 0, nil
}
