package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

// NoticeLine is one line of a digest as the notification log keeps it:
// its key (health.NoticeKey: person/unit/obligation/period/level/slot) and
// why the person got it.
type NoticeLine struct {
	Key        string
	PersonID   int64
	UnitID     int64
	Obligation string
	Period     string
	Level      string
	Slot       int64
	Role       string // secretary or organiser
	OrgLevel   int
}

// DigestRecord is one digest to log and, when it has a chat, to enqueue.
type DigestRecord struct {
	// DedupeKey identifies the digest by its lines ("hc:<hash>"); its
	// outbox rows are DedupeKey+":1", ":2", … one per text part.
	DedupeKey     string
	PersonID      int64
	PersonName    string
	ChatID        int64
	ViaFallback   bool
	Undeliverable bool
	Level         string
	Priority      int
	Texts         []string
	// Markup is the reply_markup of the last part (nil = none).
	Markup any
	Lines  []NoticeLine
}

// telegramPayload is a sendMessage payload (without chat_id).
type telegramPayload struct {
	Text        string         `json:"text"`
	ParseMode   string         `json:"parse_mode"`
	LinkPreview map[string]any `json:"link_preview_options"`
	ReplyMarkup any            `json:"reply_markup,omitempty"`
}

var noPreview = map[string]any{"is_disabled": true}

// ConflictError says which notice lines were logged already (key and
// role): the digests were not recorded, and the caller plans again without
// those lines.
type ConflictError struct{ Lines []NoticeLine }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("storage: %d notice lines already logged", len(e.Lines))
}

func (e *ConflictError) Unwrap() error { return domain.ErrConflict }

// copyIn streams n rows into table with COPY (the caller's transaction).
func (s *Store) copyIn(ctx context.Context, table string, cols []string, n int, row func(i int, dst []any) []any) error {
	tx, err := s.sqlTx(ctx)
	if err != nil {
		return fmt.Errorf("storage: copy into %s: %w", table, err)
	}
	if tx == nil {
		return fmt.Errorf("storage: copy into %s: not in a transaction", table)
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := tx.PrepareContext(ctx, "COPY "+pq.QuoteIdentifier(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("storage: copy into %s: %w", table, err)
	}
	dst := make([]any, 0, len(cols))
	for i := range n {
		if _, err := stmt.ExecContext(ctx, row(i, dst[:0])...); err != nil {
			stmt.Close()
			return fmt.Errorf("storage: copy into %s: %w", table, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return fmt.Errorf("storage: copy into %s: %w", table, err)
	}
	if err := stmt.Close(); err != nil {
		return fmt.Errorf("storage: copy into %s: %w", table, err)
	}
	return nil
}

// RecordDigests logs the digests of one evaluation and their lines, then
// enqueues every deliverable one, in the caller's transaction (COPY, so a
// province's morning fits in seconds). Sending at most once lives here:
// the log's primary key is the notice key, so a line logged before (by an
// earlier evaluation, a restart, another replica) makes the whole batch
// fail; it is then rolled back to a savepoint and a *ConflictError lists
// the keys already logged, for the caller to plan again without them. It
// returns the number of outbox rows written.
func (s *Store) RecordDigests(ctx context.Context, at time.Time, ds []DigestRecord) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	if s.tx == nil {
		return 0, fmt.Errorf("storage: record digests: not in a transaction")
	}
	sp := s.savepoint()
	n, err := s.recordDigests(ctx, at, ds)
	if err == nil {
		s.forget(sp)
		return n, nil
	}
	if rerr := s.rollbackTo(ctx, sp); rerr != nil {
		return 0, fmt.Errorf("storage: record digests: %w (rollback: %v)", err, rerr)
	}
	if !isUnique(err) {
		return 0, err
	}
	var keys []string
	for i := range ds {
		for _, l := range ds[i].Lines {
			keys = append(keys, l.Key)
		}
	}
	var logged []struct {
		Key  string `db:"key"`
		Role string `db:"role"`
	}
	if qerr := sqlxSelect(ctx, s, &logged, `SELECT key, role FROM notification_log WHERE key = ANY($1)`, pq.StringArray(keys)); qerr != nil {
		return 0, fmt.Errorf("storage: record digests: %w (finding logged keys: %v)", err, qerr)
	}
	if len(logged) == 0 {
		return 0, fmt.Errorf("storage: record digests: %w", err)
	}
	ce := &ConflictError{}
	for _, l := range logged {
		ce.Lines = append(ce.Lines, NoticeLine{Key: l.Key, Role: l.Role})
	}
	return 0, ce
}

func (s *Store) recordDigests(ctx context.Context, at time.Time, ds []DigestRecord) (int, error) {
	ids, err := selectAll[int64](ctx, s, "record digests", `SELECT nextval('notification_digests_id_seq') FROM generate_series(1, $1)`, len(ds))
	if err != nil {
		return 0, err
	}
	err = s.copyIn(ctx, "notification_digests",
		[]string{"id", "dedupe_key", "person_id", "person_name", "chat_id", "via_fallback", "undeliverable", "level", "items", "texts", "at"},
		len(ds), func(i int, dst []any) []any {
			d := &ds[i]
			return append(dst, ids[i], d.DedupeKey, d.PersonID, d.PersonName, d.ChatID, d.ViaFallback, d.Undeliverable, d.Level,
				len(d.Lines), pq.StringArray(d.Texts), at)
		})
	if err != nil {
		return 0, err
	}
	type ref struct{ d, l int }
	var lines []ref
	for i := range ds {
		for j := range ds[i].Lines {
			lines = append(lines, ref{i, j})
		}
	}
	err = s.copyIn(ctx, "notification_log",
		[]string{"key", "person_id", "unit_id", "obligation", "period", "level", "slot", "role", "org_level", "digest_id", "at"},
		len(lines), func(i int, dst []any) []any {
			l := &ds[lines[i].d].Lines[lines[i].l]
			return append(dst, l.Key, l.PersonID, l.UnitID, l.Obligation, l.Period, l.Level, l.Slot, l.Role, l.OrgLevel, ids[lines[i].d], at)
		})
	if err != nil {
		return 0, err
	}
	type part struct{ d, t int }
	var parts []part
	for i := range ds {
		if ds[i].Undeliverable || ds[i].ChatID == 0 {
			continue
		}
		for j := range ds[i].Texts {
			parts = append(parts, part{i, j})
		}
	}
	var perr error
	if err := s.flushOutbox(ctx); err != nil { // keep the order of enqueueing
		return 0, err
	}
	err = s.copyIn(ctx, "outbox", []string{"dedupe_key", "chat_id", "person_id", "priority", "kind", "payload"},
		len(parts), func(i int, dst []any) []any {
			d := &ds[parts[i].d]
			j := parts[i].t
			p := telegramPayload{Text: d.Texts[j], ParseMode: "HTML", LinkPreview: noPreview}
			if j == len(d.Texts)-1 {
				p.ReplyMarkup = d.Markup
			}
			payload, err := json.Marshal(p)
			if err != nil {
				perr = err
			}
			var person any
			if !d.ViaFallback {
				person = d.PersonID
			}
			return append(dst, d.DedupeKey+":"+strconv.Itoa(j+1), d.ChatID, person, d.Priority, KindHealth, string(payload))
		})
	if err != nil {
		return 0, err
	}
	if perr != nil {
		return 0, fmt.Errorf("storage: enqueue digests: payload: %w", perr)
	}
	if len(parts) > 0 {
		// Wake the dispatcher; delivered at commit, dropped on rollback.
		if err := s.notify(ctx, OutboxNotifyChannel("telegram")); err != nil {
			return 0, err
		}
	}
	return len(parts), nil
}

// memoryChunk bounds the arrays of one memory upsert.
const memoryChunk = 20000

// SaveHealthMemory replaces the memory of the given units (health_units;
// mems[i] is units[i]'s), in unit order so that it never deadlocks with the
// triggers that keep the other columns.
func (s *Store) SaveHealthMemory(ctx context.Context, units []int64, mems []HealthMemory) error {
	data := make([]string, len(mems))
	var b strings.Builder
	for i := range mems {
		data[i] = mems[i].encode(&b)
	}
	for lo := 0; lo < len(units); lo += memoryChunk {
		hi := min(lo+memoryChunk, len(units))
		if err := exec(ctx, s, "save health memory", `
			INSERT INTO health_units AS h (unit_id, memory)
			SELECT u, d FROM unnest($1::bigint[], $2::text[]) AS t(u, d) ORDER BY u
			ON CONFLICT (unit_id) DO UPDATE SET memory = EXCLUDED.memory`, pq.Int64Array(units[lo:hi]), pq.StringArray(data[lo:hi])); err != nil {
			return err
		}
	}
	return nil
}

// LightChange is an item whose light changed between evaluations.
type LightChange struct {
	UnitID int64
	// Payload is the light.changed event's JSON.
	Payload []byte
}

// AppendLightEvents appends one light.changed event per change (COPY).
func (s *Store) AppendLightEvents(ctx context.Context, cs []LightChange) error {
	if len(cs) == 0 {
		return nil
	}
	err := s.copyIn(ctx, "events", []string{"type", "unit_id", "payload"}, len(cs), func(i int, dst []any) []any {
		return append(dst, "light.changed", cs[i].UnitID, string(cs[i].Payload))
	})
	if err != nil {
		return err
	}
	return s.notify(ctx, "events")
}

// HealthRun summarises one state-changing evaluation.
type HealthRun struct {
	At       time.Time
	RootID   int64
	Took     time.Duration
	Items    int
	Digests  int
	Lines    int
	Changes  int
	Deferred bool
}

// RecordHealthRun notes that an evaluation ran.
func (s *Store) RecordHealthRun(ctx context.Context, r HealthRun) error {
	var root any
	if r.RootID != 0 {
		root = r.RootID
	}
	return exec(ctx, s, "record health run", `INSERT INTO health_runs (at, root_id, took_ms, items, digests, lines, changes, deferred)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.At, root, r.Took.Milliseconds(), r.Items, r.Digests, r.Lines, r.Changes, r.Deferred)
}
