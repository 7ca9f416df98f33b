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
// its key (person, unit, obligation, period, level, slot) and why the
// person got it.
type NoticeLine struct {
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

// maxParams keeps a statement under PostgreSQL's 65,535 bind parameters.
const maxParams = 60000

// valuesSQL renders "($1,$2,…),(…)" for n rows of cols parameters, with an
// optional cast per column ("" = none).
func valuesSQL(n int, casts []string) string {
	var b strings.Builder
	cols := len(casts)
	b.Grow(n * cols * 6)
	p := 1
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			b.WriteString(casts[j])
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// telegramPayload is a sendMessage payload (without chat_id).
type telegramPayload struct {
	Text        string         `json:"text"`
	ParseMode   string         `json:"parse_mode"`
	LinkPreview map[string]any `json:"link_preview_options"`
	ReplyMarkup any            `json:"reply_markup,omitempty"`
}

var noPreview = map[string]any{"is_disabled": true}

// RecordDigests logs the digests of one evaluation and their lines, then
// enqueues every deliverable one, all in the caller's transaction. Sending
// at most once lives here: the log's primary key is the notice key, so a
// line logged before (by an earlier evaluation, a restart, another replica)
// makes the insert fall short, and RecordDigests returns domain.ErrConflict
// — the caller rolls the whole evaluation back and the next one, reading
// the log afresh, plans only what is new. It returns the number of outbox
// rows written.
func (s *Store) RecordDigests(ctx context.Context, at time.Time, ds []DigestRecord) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	ids, err := s.insertDigests(ctx, at, ds)
	if err != nil {
		return 0, err
	}
	if err := s.insertNoticeLines(ctx, at, ds, ids); err != nil {
		return 0, err
	}
	if err := s.upsertNoticeState(ctx, at, ds); err != nil {
		return 0, err
	}
	return s.enqueueDigests(ctx, ds)
}

func (s *Store) insertDigests(ctx context.Context, at time.Time, ds []DigestRecord) ([]int64, error) {
	const cols = 10
	ids := make([]int64, len(ds))
	index := make(map[string]int, len(ds))
	for i := range ds {
		index[ds[i].DedupeKey] = i
	}
	casts := []string{"", "::bigint", "", "::bigint", "::boolean", "::boolean", "", "::int", "::text[]", "::timestamptz"}
	per := maxParams / cols
	for lo := 0; lo < len(ds); lo += per {
		hi := min(lo+per, len(ds))
		args := make([]any, 0, (hi-lo)*cols)
		for _, d := range ds[lo:hi] {
			args = append(args, d.DedupeKey, d.PersonID, d.PersonName, d.ChatID, d.ViaFallback, d.Undeliverable,
				d.Level, len(d.Lines), pq.StringArray(d.Texts), at)
		}
		q := `INSERT INTO notification_digests (dedupe_key, person_id, person_name, chat_id, via_fallback, undeliverable, level, items, texts, at)
			VALUES ` + valuesSQL(hi-lo, casts) + `
			ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key`
		rows, err := s.q.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("storage: record digests: %w", err)
		}
		n := 0
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return nil, fmt.Errorf("storage: record digests: %w", err)
			}
			ids[index[key]] = id
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("storage: record digests: %w", err)
		}
		if n != hi-lo {
			return nil, fmt.Errorf("storage: record digests: %d of %d already recorded: %w", hi-lo-n, hi-lo, domain.ErrConflict)
		}
	}
	return ids, nil
}

// lineChunk bounds the arrays of one unnest insert.
const lineChunk = 50000

func (s *Store) insertNoticeLines(ctx context.Context, at time.Time, ds []DigestRecord, ids []int64) error {
	var persons, units, slots, digests []int64
	var obs, periods, levels, roles []string
	var orgLevels []int64
	flush := func() error {
		if len(persons) == 0 {
			return nil
		}
		res, err := s.q.ExecContext(ctx, `
			INSERT INTO notification_log (person_id, unit_id, obligation, period, level, slot, role, org_level, digest_id, at)
			SELECT p, u, o, pe, l, s, r, ol, d, $10
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::int[], $9::bigint[])
			     AS t(p, u, o, pe, l, s, r, ol, d)
			ON CONFLICT DO NOTHING`,
			pq.Int64Array(persons), pq.Int64Array(units), pq.StringArray(obs), pq.StringArray(periods), pq.StringArray(levels),
			pq.Int64Array(slots), pq.StringArray(roles), pq.Int64Array(orgLevels), pq.Int64Array(digests), at)
		if err != nil {
			return fmt.Errorf("storage: log notices: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(persons)) {
			return fmt.Errorf("storage: log notices: %d of %d already logged: %w", int64(len(persons))-n, len(persons), domain.ErrConflict)
		}
		persons, units, slots, digests = persons[:0], units[:0], slots[:0], digests[:0]
		obs, periods, levels, roles, orgLevels = obs[:0], periods[:0], levels[:0], roles[:0], orgLevels[:0]
		return nil
	}
	for i := range ds {
		for _, l := range ds[i].Lines {
			persons = append(persons, l.PersonID)
			units = append(units, l.UnitID)
			obs = append(obs, l.Obligation)
			periods = append(periods, l.Period)
			levels = append(levels, l.Level)
			slots = append(slots, l.Slot)
			roles = append(roles, l.Role)
			orgLevels = append(orgLevels, int64(l.OrgLevel))
			digests = append(digests, ids[i])
			if len(persons) >= lineChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func (s *Store) upsertNoticeState(ctx context.Context, at time.Time, ds []DigestRecord) error {
	type key struct {
		person, unit      int64
		ob, period, level string
	}
	type val struct {
		slot int64
		org  bool
	}
	state := map[key]val{}
	for i := range ds {
		for _, l := range ds[i].Lines {
			k := key{l.PersonID, l.UnitID, l.Obligation, l.Period, l.Level}
			v := state[k]
			v.slot = max(v.slot, l.Slot)
			v.org = v.org || l.Role == "organiser"
			state[k] = v
		}
	}
	var persons, units, slots []int64
	var obs, periods, levels []string
	var orgs []bool
	flush := func() error {
		if len(persons) == 0 {
			return nil
		}
		_, err := s.q.ExecContext(ctx, `
			INSERT INTO notification_state AS n (person_id, unit_id, obligation, period, level, last_slot, org, last_at)
			SELECT p, u, o, pe, l, s, g, $8
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::boolean[]) AS t(p, u, o, pe, l, s, g)
			ON CONFLICT (unit_id, obligation, period, level, person_id) DO UPDATE
			SET last_slot = GREATEST(n.last_slot, EXCLUDED.last_slot), org = n.org OR EXCLUDED.org, last_at = EXCLUDED.last_at`,
			pq.Int64Array(persons), pq.Int64Array(units), pq.StringArray(obs), pq.StringArray(periods), pq.StringArray(levels),
			pq.Int64Array(slots), pq.BoolArray(orgs), at)
		if err != nil {
			return fmt.Errorf("storage: notice state: %w", err)
		}
		persons, units, slots, obs, periods, levels, orgs = persons[:0], units[:0], slots[:0], obs[:0], periods[:0], levels[:0], orgs[:0]
		return nil
	}
	for k, v := range state {
		persons = append(persons, k.person)
		units = append(units, k.unit)
		obs = append(obs, k.ob)
		periods = append(periods, k.period)
		levels = append(levels, k.level)
		slots = append(slots, v.slot)
		orgs = append(orgs, v.org)
		if len(persons) >= lineChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (s *Store) enqueueDigests(ctx context.Context, ds []DigestRecord) (int, error) {
	const cols = 6
	casts := []string{"", "::bigint", "::bigint", "::smallint", "", "::jsonb"}
	var args []any
	rows, total := 0, 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		q := `INSERT INTO outbox (dedupe_key, chat_id, person_id, priority, kind, payload) VALUES ` +
			valuesSQL(rows, casts) + ` ON CONFLICT (dedupe_key) DO NOTHING`
		res, err := s.q.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("storage: enqueue digests: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		args, rows = args[:0], 0
		return nil
	}
	for i := range ds {
		d := &ds[i]
		if d.Undeliverable || d.ChatID == 0 {
			continue
		}
		for j, text := range d.Texts {
			p := telegramPayload{Text: text, ParseMode: "HTML", LinkPreview: noPreview}
			if j == len(d.Texts)-1 {
				p.ReplyMarkup = d.Markup
			}
			payload, err := json.Marshal(p)
			if err != nil {
				return 0, fmt.Errorf("storage: enqueue digests: payload: %w", err)
			}
			var person any
			if !d.ViaFallback {
				person = d.PersonID
			}
			args = append(args, d.DedupeKey+":"+strconv.Itoa(j+1), d.ChatID, person, d.Priority, "health", string(payload))
			rows++
			if (rows+1)*cols > maxParams {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if total > 0 {
		// Wake the dispatcher; delivered at commit, dropped on rollback.
		if _, err := s.q.ExecContext(ctx, `SELECT pg_notify('outbox', '')`); err != nil {
			return 0, fmt.Errorf("storage: enqueue notify: %w", err)
		}
	}
	return total, nil
}

// LightChange is an item whose light changed between evaluations.
type LightChange struct {
	UnitID     int64
	Obligation string
	Period     string
	From, To   string // green, yellow or red
	// Payload is the light.changed event's JSON.
	Payload []byte
}

// SaveLightChanges stores the new lights (yellow and red kept, green
// dropped) and appends one light.changed event per change.
func (s *Store) SaveLightChanges(ctx context.Context, at time.Time, cs []LightChange) error {
	for lo := 0; lo < len(cs); lo += lineChunk {
		chunk := cs[lo:min(lo+lineChunk, len(cs))]
		var upU, delU, evU []int64
		var upO, upP, upL, delO, delP, evP []string
		for _, c := range chunk {
			if c.To == "yellow" || c.To == "red" {
				upU, upO, upP, upL = append(upU, c.UnitID), append(upO, c.Obligation), append(upP, c.Period), append(upL, c.To)
			} else {
				delU, delO, delP = append(delU, c.UnitID), append(delO, c.Obligation), append(delP, c.Period)
			}
			evU, evP = append(evU, c.UnitID), append(evP, string(c.Payload))
		}
		if len(upU) > 0 {
			_, err := s.q.ExecContext(ctx, `
				INSERT INTO health_lights AS l (unit_id, obligation, period, light, since)
				SELECT u, o, p, li, $5 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS t(u, o, p, li)
				ON CONFLICT (unit_id, obligation, period) DO UPDATE SET light = EXCLUDED.light, since = EXCLUDED.since`,
				pq.Int64Array(upU), pq.StringArray(upO), pq.StringArray(upP), pq.StringArray(upL), at)
			if err != nil {
				return fmt.Errorf("storage: save lights: %w", err)
			}
		}
		if len(delU) > 0 {
			_, err := s.q.ExecContext(ctx, `
				DELETE FROM health_lights l USING unnest($1::bigint[], $2::text[], $3::text[]) AS t(u, o, p)
				WHERE l.unit_id = t.u AND l.obligation = t.o AND l.period = t.p`,
				pq.Int64Array(delU), pq.StringArray(delO), pq.StringArray(delP))
			if err != nil {
				return fmt.Errorf("storage: save lights: %w", err)
			}
		}
		_, err := s.q.ExecContext(ctx, `
			INSERT INTO events (type, unit_id, payload)
			SELECT 'light.changed', u, p::jsonb FROM unnest($1::bigint[], $2::text[]) AS t(u, p)`,
			pq.Int64Array(evU), pq.StringArray(evP))
		if err != nil {
			return fmt.Errorf("storage: light events: %w", err)
		}
	}
	if len(cs) > 0 {
		if _, err := s.q.ExecContext(ctx, `SELECT pg_notify('events', '')`); err != nil {
			return fmt.Errorf("storage: event notify: %w", err)
		}
	}
	return nil
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
	_, err := s.q.ExecContext(ctx, `INSERT INTO health_runs (at, root_id, took_ms, items, digests, lines, changes, deferred)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.At, root, r.Took.Milliseconds(), r.Items, r.Digests, r.Lines, r.Changes, r.Deferred)
	if err != nil {
		return fmt.Errorf("storage: record health run: %w", err)
	}
	return nil
}
