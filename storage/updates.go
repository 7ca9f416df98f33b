package storage

import (
	"slices"

	"github.com/lib/pq"

	"context"
	"encoding/json"
	"fmt"
)

// StoredUpdate is an inbound update as stored.
type StoredUpdate struct {
	UpdateID int64           `db:"update_id"`
	Raw      json.RawMessage `db:"raw"`
	Attempts int             `db:"attempts"`
	UserID   int64           `db:"user_id"` // the sender, 0 if none (LockUpdates only)
}

// InsertUpdate stores a raw update. It returns false when the update_id was
// already stored (a redelivery), which the caller acknowledges and skips.
//
// The update log is partitioned by month (part_month, see migration 00018):
// ON CONFLICT refuses a duplicate within the month's partition, concurrent
// ones included, and a lookup one kept in any other partition, so an
// update_id is refused as long as the retention window keeps it (see
// InsertUpdates).
func (s *Store) InsertUpdate(ctx context.Context, id int64, raw []byte, chatID, userID int64, kind string) (bool, error) {
	n, err := s.InsertUpdates(ctx, []NewUpdate{{ID: id, Raw: raw, ChatID: chatID, UserID: userID, Kind: kind}})
	if err != nil {
		return false, fmt.Errorf("storage: insert update %d: %w", id, err)
	}
	return n[id], nil
}

// BumpAttempts counts a failed processing attempt, outside the processing
// transaction (which rolled back), so that an update that keeps failing is
// given up after a few tries. attempts counts failures only.
func (s *Store) BumpAttempts(ctx context.Context, id int64) (int, error) {
	return getOne[int](ctx, s, fmt.Sprintf("update %d", id), `UPDATE updates SET attempts = attempts + 1 WHERE update_id = $1 AND processed_at IS NULL RETURNING attempts`, id)
}

// LockUpdate locks an unprocessed update inside the processing transaction;
// it returns domain.ErrNotFound when it is processed or another worker holds it.
func (s *Store) LockUpdate(ctx context.Context, id int64) (StoredUpdate, error) {
	return getOne[StoredUpdate](ctx, s, fmt.Sprintf("update %d", id), `SELECT update_id, raw, attempts FROM updates WHERE update_id = $1 AND processed_at IS NULL FOR UPDATE SKIP LOCKED`, id)
}

// FinishUpdate records the outcome of processing.
func (s *Store) FinishUpdate(ctx context.Context, id int64, outcome, errText string) error {
	return exec(ctx, s, fmt.Sprintf("finish update %d", id), `UPDATE updates SET processed_at = now(), outcome = $2, error = NULLIF($3, '') WHERE update_id = $1`, id, outcome, errText)
}

// LockUpdates locks the unprocessed updates among ids, like LockUpdate,
// for processing several in one transaction; the ones processed or held
// elsewhere are missing from the map. The raw update is not read back for
// the ids in known: the caller has it in hand from ingest.
func (s *Store) LockUpdates(ctx context.Context, ids, known []int64) (map[int64]StoredUpdate, error) {
	var us []struct {
		StoredUpdate
		Raw []byte `db:"raw"` // NULL for the known ones (json.RawMessage cannot scan NULL)
	}
	// The live months first (see livemonths.go); the past months' only for
	// ids that can be stored there and were not found.
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return nil, err
	}
	const lock = `
		SELECT update_id, CASE WHEN update_id = ANY($2) THEN NULL ELSE raw END AS raw, attempts, COALESCE(user_id, 0) AS user_id
		FROM updates WHERE update_id = ANY($1) AND processed_at IS NULL AND part_month %s {live} ORDER BY update_id FOR UPDATE SKIP LOCKED`
	if err := s.selectP(ctx, &us, withLive(fmt.Sprintf(lock, ">="), lo), pq.Array(ids), pq.Array(known)); err != nil {
		return nil, fmt.Errorf("storage: lock %d updates: %w", len(ids), err)
	}
	if len(us) < len(ids) {
		oldMax, err := s.oldUpdateMax(ctx, lo)
		if err != nil {
			return nil, err
		}
		found := make(map[int64]bool, len(us))
		for _, u := range us {
			found[u.UpdateID] = true
		}
		var rest []int64
		for _, id := range ids {
			if id <= oldMax && !found[id] {
				rest = append(rest, id)
			}
		}
		if len(rest) > 0 {
			more := us[:0:0]
			if err := s.selectP(ctx, &more, withLive(fmt.Sprintf(lock, "<"), lo), pq.Array(rest), pq.Array(known)); err != nil {
				return nil, fmt.Errorf("storage: lock %d updates of past months: %w", len(rest), err)
			}
			us = append(us, more...)
		}
	}
	out := make(map[int64]StoredUpdate, len(us))
	for _, u := range us {
		u.StoredUpdate.Raw = u.Raw
		out[u.UpdateID] = u.StoredUpdate
	}
	return out, nil
}

// Outcome is the result of processing one update.
type Outcome struct {
	UpdateID int64
	Outcome  string
}

// FinishUpdates records the outcomes of several updates in one statement.
// The rows are found by update_id = ANY, each month's partition searched by
// its index, and each takes its outcome by its place in the ids: a join
// with the unnested arrays was planned as a hash join over a scan of every
// stored update (13 ms a batch at 15,000 rows) and, given the ANY as well,
// as a nested loop that searched the index for every id once per row (0.6
// against 0.4 ms a batch of 25).
func (s *Store) FinishUpdates(ctx context.Context, os []Outcome) error {
	if len(os) == 0 {
		return nil
	}
	ids := make([]int64, len(os))
	outs := make([]string, len(os))
	for i, o := range os {
		ids[i], outs[i] = o.UpdateID, o.Outcome
	}
	// The live months' partitions (livemonths.go), then the past months'
	// for the ids that can be stored there.
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return err
	}
	const finish = `
		UPDATE updates u SET processed_at = now(), outcome = ($2::text[])[array_position($1::bigint[], u.update_id)], error = NULL
		WHERE u.update_id = ANY($1::bigint[]) AND u.part_month %s {live}`
	res, err := s.execP(ctx, withLive(fmt.Sprintf(finish, ">="), lo), pq.Array(ids), pq.Array(outs))
	if err != nil {
		return fmt.Errorf("storage: finish %d updates: %w", len(os), err)
	}
	if n, err := res.RowsAffected(); err != nil || n >= int64(len(ids)) {
		return err
	}
	oldMax, err := s.oldUpdateMax(ctx, lo)
	if err != nil {
		return err
	}
	var oldIDs []int64
	var oldOuts []string
	for i, id := range ids {
		if id <= oldMax {
			oldIDs, oldOuts = append(oldIDs, id), append(oldOuts, outs[i])
		}
	}
	if len(oldIDs) == 0 {
		return nil
	}
	if _, err := s.execP(ctx, withLive(fmt.Sprintf(finish, "<"), lo), pq.Array(oldIDs), pq.Array(oldOuts)); err != nil {
		return fmt.Errorf("storage: finish %d updates of past months: %w", len(oldIDs), err)
	}
	return nil
}

// PendingUpdate is a stored update not processed yet.
type PendingUpdate struct {
	UpdateID int64 `db:"update_id"`
	ChatID   int64 `db:"chat_id"`
}

// UnprocessedUpdates lists stored but unprocessed updates, oldest first:
// the work a restarted process picks up.
func (s *Store) UnprocessedUpdates(ctx context.Context, limit int) ([]PendingUpdate, error) {
	return selectAll[PendingUpdate](ctx, s, "unprocessed updates", `SELECT update_id, COALESCE(chat_id, 0) AS chat_id FROM updates WHERE processed_at IS NULL ORDER BY update_id LIMIT $1`, limit)
}

// UpdateOutcome returns the outcome of a processed update ("" if pending).
func (s *Store) UpdateOutcome(ctx context.Context, id int64) (string, error) {
	o, err := getOne[*string](ctx, s, "update outcome", `SELECT outcome FROM updates WHERE update_id = $1`, id)
	if err != nil || o == nil {
		return "", err
	}
	return *o, nil
}

// NewUpdate is one inbound update to store.
type NewUpdate struct {
	ID             int64
	Raw            []byte
	ChatID, UserID int64
	Kind           string
}

// InsertUpdates stores a batch of updates in one statement and one commit
// (group commit for concurrent webhook requests). It returns the ids that
// were new; the others were stored before (redeliveries). The ids stored in
// other months' partitions are looked up once, by index, as an array: as a
// NOT EXISTS join the planner, guessing 100 rows for the unnest, hashed
// every stored update instead (40 ms a batch at 38,000 rows).
func (s *Store) InsertUpdates(ctx context.Context, us []NewUpdate) (map[int64]bool, error) {
	ids := make([]int64, len(us))
	raws := make([][]byte, len(us))
	chats := make([]int64, len(us))
	users := make([]int64, len(us))
	kinds := make([]string, len(us))
	for i, u := range us {
		ids[i], raws[i], chats[i], users[i], kinds[i] = u.ID, u.Raw, u.ChatID, u.UserID, u.Kind
	}
	if len(us) == 0 {
		return map[int64]bool{}, nil
	}
	// ON CONFLICT refuses an update stored this month; the lookup, one
	// stored in another month: the live months' partitions
	// (livemonths.go), and every partition only when an id is not above
	// the highest one stored in the past months (update_ids grow, so a
	// redelivery of an update from a past month has such an id), never
	// this month's (otherMonths).
	lo, err := s.liveFrom(ctx)
	if err != nil {
		return nil, err
	}
	oldMax, err := s.oldUpdateMax(ctx, lo)
	if err != nil {
		return nil, err
	}
	var inserted []int64
	err = s.selectP(ctx, &inserted, withLive(insertUpdatesSQL(slices.Min(ids) <= oldMax), lo), pq.Array(ids), jsonArray(raws), pq.Array(chats), pq.Array(users), pq.Array(kinds))
	if err != nil {
		return nil, fmt.Errorf("storage: insert %d updates: %w", len(us), err)
	}
	out := make(map[int64]bool, len(inserted))
	for _, id := range inserted {
		out[id] = true
	}
	return out, nil
}

// insertUpdatesSQL is InsertUpdates' statement: its lookup of updates
// stored before searches every month's partition but this month's when
// everyMonth, else the live months' but this month's. $1 ids, $2 the
// updates as one JSON array, $3 chats, $4 senders, $5 kinds.
func insertUpdatesSQL(everyMonth bool) string {
	window := "AND part_month >= {live} AND " + otherMonths
	if everyMonth {
		window = "AND " + otherMonths
	}
	return `
		INSERT INTO updates (update_id, raw, chat_id, user_id, kind)
		SELECT id, raw, NULLIF(chat, 0), NULLIF(usr, 0), kind
		FROM ROWS FROM (unnest($1::bigint[]), json_array_elements($2::json), unnest($3::bigint[]), unnest($4::bigint[]), unnest($5::text[]))
			AS t(id, raw, chat, usr, kind)
		WHERE NOT (t.id = ANY (ARRAY(SELECT update_id FROM updates WHERE update_id = ANY($1::bigint[]) ` + window + `)))
		ON CONFLICT (update_id, part_month) DO NOTHING
		RETURNING update_id`
}

// jsonArray joins JSON documents into one JSON array, to pass many of them
// as one parameter (taken apart by json_array_elements): as a text[] each
// would be quoted and escaped on the way in and parsed twice on arrival.
// Each element must be valid JSON.
func jsonArray(docs [][]byte) string {
	n := 2
	for _, d := range docs {
		n += len(d) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, d := range docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, d...)
	}
	return string(append(b, ']'))
}
