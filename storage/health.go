package storage

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/zhibu/zhibu/domain/health"
)

// The health check reads a whole subtree in a few set-based queries (never
// one per branch). Each query is scoped by rootID: the units whose path
// contains it, or every unit when rootID is 0. Queries that concern the
// people and decisions above a branch (organisers, group chats, silences)
// also take root's ancestors.

// scopeCTE defines "scope(id)": root's subtree, plus its ancestors when
// withAncestors. $1 is the root id (0 = every unit).
func scopeCTE(rootID int64, withAncestors bool) string {
	if rootID == 0 {
		return `scope AS (SELECT id FROM units WHERE $1::bigint = 0)`
	}
	q := `scope AS (SELECT id FROM units WHERE path @> ARRAY[$1::bigint]`
	if withAncestors {
		q += ` UNION ALL SELECT a FROM units r, unnest(r.path) AS a WHERE r.id = $1 AND a <> $1`
	}
	return q + `)`
}

// inSubtree is the condition "unit alias.id lies in root's subtree", with
// the unit row joined as alias.
func inSubtree(alias string, rootID int64) string {
	if rootID == 0 {
		return `$1::bigint = 0`
	}
	return alias + `.path @> ARRAY[$1::bigint]`
}

// HealthRow is one unit as an evaluation reads it: the unit and its
// health_units row (people, group chat, done runs, memory; see the
// migration). What it holds is only valid during the callback.
type HealthRow struct {
	ID        int64
	ParentID  int64 // 0 for a root
	ThemeDay  int   // 0 = not set
	StartedOn time.Time
	Above     bool // an ancestor of the root, read for its organisers and name
	Kind      []byte
	// Code and Name are strings: the driver makes one of each text column
	// anyway, and scanning into a string keeps it without another copy.
	Code string
	Name string
	// A branch's attributes as stored (see domain.Unit.Info for defaults).
	ThemeWeekday []byte    // a weekday rule such as "first-fri", empty = none
	BranchType   []byte    // empty = never given
	Members      int       // -1 = unknown
	Committee    int8      // -1 = never given, 0 no, 1 yes
	TermEnd      time.Time // a civil date at UTC midnight; zero = none
	// GroupChat is the bound group chat (0 = none, or it refused the bot).
	GroupChat int64
	// Holders are the unit's secretaries, then its organisers, each in
	// person order.
	Holders []HealthHolder
	// Done lists the runs of consecutive periods covered by check-ins.
	Done []DoneRun
	// Memory is what the last evaluations left (see SaveHealthMemory).
	Memory HealthMemory
}

// TreeParts says what HealthTree reads besides the units and done periods.
type TreeParts struct {
	People bool // holders and group chats
	Memory bool // the evaluations' memory
}

// HealthHolder is a secretary or organiser of a unit as the read model
// keeps it (health_units.holders).
type HealthHolder struct {
	PersonID int64  `json:"person"`
	Role     string `json:"role"` // domain.RoleSecretary or domain.RoleOrganiser
	Name     string `json:"name"`
	ChatID   int64  `json:"chat"` // 0 = not linked, or the person blocked the bot
}

// DoneRun is a run of consecutive periods of one obligation covered by
// check-ins neither withdrawn nor rejected: the periods of Recurs numbered
// First..Last (health.Period.Seq; small, as the tree's load copies every
// unit's runs).
type DoneRun struct {
	Obligation  []byte // only valid during HealthTree's callback
	Recurs      health.Recurrence
	First, Last int32
}

// doneRuns reads health_units.done, the runs health_done_refresh writes as
// "obligation first[..last],…" ("dues 2025-11..2026-05,life_meeting 2025"),
// into runs (reused). The column stays text, read here only: typed, it cost
// the evaluation's load far more (at 10,000 branches 15 ms as text, 31 ms as
// json, 65 ms or more as arrays). A run it cannot read is skipped.
func doneRuns(b []byte, runs []DoneRun) []DoneRun {
	runs = runs[:0]
	for len(b) > 0 {
		var run []byte
		run, b, _ = bytes.Cut(b, []byte{','})
		ob, periods, ok := bytes.Cut(run, []byte{' '})
		if !ok {
			continue
		}
		first, last, isRange := bytes.Cut(periods, []byte(".."))
		if !isRange {
			last = first
		}
		f, ok1 := health.ParseKey(first)
		l, ok2 := health.ParseKey(last)
		if !ok1 || !ok2 || f.Rec != l.Rec || l.Before(f) {
			continue
		}
		runs = append(runs, DoneRun{Obligation: ob, Recurs: f.Rec, First: f.Seq(), Last: l.Seq()})
	}
	return runs
}

// HealthTreeSize is how many rows HealthTree will give (an estimate for
// every unit), to size the caller's arrays once.
func (s *Store) HealthTreeSize(ctx context.Context, rootID int64) (int, error) {
	q := `SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = 'units'::regclass AND $1::bigint = 0`
	if rootID != 0 {
		q = `WITH ` + scopeCTE(rootID, true) + ` SELECT count(*) FROM scope`
	}
	n, err := getValue[int64](ctx, s, "health tree size", q, rootID)
	if err != nil {
		return 0, err
	}
	return int(min(n, 1<<24)), nil
}

// HealthTree streams root's subtree and ancestors (rootID 0 = every unit),
// one row per unit in no particular order, with everything an evaluation
// needs about the unit in typed columns, so that a province costs one scan
// of health_units and one row per unit on the wire.
func (s *Store) HealthTree(ctx context.Context, rootID int64, parts TreeParts, fn func(*HealthRow) error) error {
	q, from, where, above := ``, `units u`, `$1::bigint = 0`, `false`
	if rootID != 0 {
		q = `WITH ` + scopeCTE(rootID, true)
		from, where = `units u JOIN scope ON scope.id = u.id`, `$1::bigint <> 0`
		above = `NOT (` + inSubtree("u", rootID) + `)`
	}
	chat, people, memory := `0`, `NULL`, `''`
	if parts.People {
		chat, people = `COALESCE(h.chat, 0)`, `h.holders`
	}
	if parts.Memory {
		memory = `COALESCE(h.memory, '')`
	}
	// Dates travel as day numbers (0 = none): cheaper to read than dates.
	q += ` SELECT u.id, COALESCE(u.parent_id, 0), COALESCE(u.theme_day, 0), u.started_on - DATE '1970-01-01', ` + above + `,
		       u.kind, u.code, u.name, COALESCE(u.theme_weekday, ''), COALESCE(u.branch_type, ''), COALESCE(u.members, -1),
		       CASE u.committee WHEN true THEN 1 WHEN false THEN 0 ELSE -1 END, COALESCE(u.term_end - DATE '1970-01-01', -1),
		       ` + chat + `, ` + people + `, COALESCE(h.done, ''), ` + memory + `
		FROM ` + from + ` LEFT JOIN health_units h ON h.unit_id = u.id WHERE ` + where
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return fmt.Errorf("storage: health tree: %w", err)
	}
	defer rows.Close()
	var (
		r                                HealthRow
		themeDay, started, members, term int64
		committee                        int64
		kind, weekday, btype             sql.RawBytes
		holders, done, mem               sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.ParentID, &themeDay, &started, &r.Above, &kind, &r.Code, &r.Name, &weekday, &btype,
			&members, &committee, &term, &r.GroupChat, &holders, &done, &mem); err != nil {
			return fmt.Errorf("storage: health tree: %w", err)
		}
		// The slice is reused from row to row (see HealthRow).
		r.Holders = r.Holders[:0]
		if len(holders) > 2 { // not NULL or "[]"
			if err := json.Unmarshal(holders, &r.Holders); err != nil {
				return fmt.Errorf("storage: health tree: holders of unit %d: %w", r.ID, err)
			}
		}
		r.ThemeDay, r.StartedOn = int(themeDay), time.Unix(started*86400, 0).UTC()
		r.Kind, r.ThemeWeekday, r.BranchType = kind, weekday, btype
		r.Members, r.Committee, r.TermEnd = int(members), int8(committee), time.Time{}
		if term >= 0 {
			r.TermEnd = time.Unix(term*86400, 0).UTC()
		}
		r.Done = doneRuns(done, r.Done)
		readMemory(mem, &r.Memory)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: health tree: %w", err)
	}
	return nil
}

// HealthItem names one item: a unit (branch or party group), an obligation
// code and a period key.
type HealthItem struct {
	UnitID     int64
	Obligation string
	Period     string
}

// HealthExemptions lists the standing exemptions of root's subtree.
func (s *Store) HealthExemptions(ctx context.Context, rootID int64) ([]HealthItem, error) {
	q := `SELECT e.unit_id, e.obligation, e.period FROM health_exemptions e JOIN units u ON u.id = e.unit_id
		WHERE e.revoked_at IS NULL AND ` + inSubtree("u", rootID)
	return scanAll(ctx, s, "health exemptions", func(rows *sql.Rows, it *HealthItem) error {
		return rows.Scan(&it.UnitID, &it.Obligation, &it.Period)
	}, q, rootID)
}

// Silence mutes notices about a unit subtree for a time range.
type Silence struct {
	ID         int64
	UnitID     int64
	UnitCode   string
	Obligation string // "" = every obligation
	From       time.Time
	Until      time.Time
	Reason     string
	Actor      string
}

// HealthSilences lists the silences in force at instant at on root's
// subtree or above it.
func (s *Store) HealthSilences(ctx context.Context, rootID int64, at time.Time) ([]Silence, error) {
	q := `WITH ` + scopeCTE(rootID, true) + `
		SELECT s.id, s.unit_id, u.code, COALESCE(s.obligation, ''), s.starts_at, s.ends_at, s.reason, s.actor
		FROM health_silences s JOIN scope ON scope.id = s.unit_id JOIN units u ON u.id = s.unit_id
		WHERE s.revoked_at IS NULL AND s.starts_at <= $2 AND s.ends_at > $2
		ORDER BY s.id`
	return scanAll(ctx, s, "health silences", func(rows *sql.Rows, x *Silence) error {
		return rows.Scan(&x.ID, &x.UnitID, &x.UnitCode, &x.Obligation, &x.From, &x.Until, &x.Reason, &x.Actor)
	}, q, rootID, at)
}

// Ack is a secretary's acknowledgement of a red item.
type Ack struct {
	HealthItem
	PersonID  int64
	Person    string
	At        time.Time
	PlannedOn *time.Time // civil date at UTC midnight
	Until     time.Time
}

// HealthAcks lists the latest acknowledgement of every item of root's
// subtree that has one.
func (s *Store) HealthAcks(ctx context.Context, rootID int64) ([]Ack, error) {
	q := `SELECT DISTINCT ON (a.unit_id, a.obligation, a.period)
		       a.unit_id, a.obligation, a.period, a.person_id, p.name, a.acked_at, a.planned_on, a.until
		FROM health_acks a JOIN units u ON u.id = a.unit_id JOIN people p ON p.id = a.person_id
		WHERE ` + inSubtree("u", rootID) + `
		ORDER BY a.unit_id, a.obligation, a.period, a.acked_at DESC, a.id DESC`
	return scanAll(ctx, s, "health acks", func(rows *sql.Rows, a *Ack) error {
		// A NULL date scans into the pointer as nil.
		return rows.Scan(&a.UnitID, &a.Obligation, &a.Period, &a.PersonID, &a.Person, &a.At, &a.PlannedOn, &a.Until)
	}, q, rootID)
}

// healthLockKey is the advisory lock that serialises state-changing
// evaluations across processes ("zhibu-hc").
const healthLockKey = 0x7a68696275_6863

// LockHealthcheck takes the evaluation lock for the current transaction: a
// second evaluation (another replica, the CLI) waits, then reads what the
// first one logged and sends nothing twice. It must run inside InTx.
func (s *Store) LockHealthcheck(ctx context.Context) error {
	if _, ok := s.q.(interface{ Commit() error }); !ok {
		return fmt.Errorf("storage: lock healthcheck: not in a transaction")
	}
	return exec(ctx, s, "lock healthcheck", `SELECT pg_advisory_xact_lock($1)`, int64(healthLockKey))
}

// TuneForScan raises work_mem and turns JIT off for the current transaction:
// the evaluation's aggregations then stay in memory, and short queries do
// not pay for compilation.
func (s *Store) TuneForScan(ctx context.Context) error {
	if _, ok := s.q.(interface{ Commit() error }); !ok {
		return nil
	}
	for _, q := range []string{`SET LOCAL work_mem = '64MB'`, `SET LOCAL jit = off`} {
		if err := exec(ctx, s, strings.TrimPrefix(q, "SET LOCAL "), q); err != nil {
			return err
		}
	}
	return nil
}
