package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
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

// HealthUnit is a unit as the health check reads it.
type HealthUnit struct {
	ID       int64
	Code     string
	Name     string
	Kind     string
	ParentID int64 // 0 for a root
	ThemeDay int   // 0 = not set
	// StartedOn is the civil date (at UTC midnight) from which the unit
	// owes obligations.
	StartedOn time.Time
	// Above: an ancestor of the root, read for its organisers and name.
	Above bool
}

// HealthUnits lists root's subtree and root's ancestors, ordered by id.
func (s *Store) HealthUnits(ctx context.Context, rootID int64) ([]HealthUnit, error) {
	q := `WITH ` + scopeCTE(rootID, true) + `
		SELECT u.id, u.code, u.name, u.kind, COALESCE(u.parent_id, 0), COALESCE(u.theme_day, 0), u.started_on,
		       NOT (` + inSubtree("u", rootID) + `)
		FROM units u JOIN scope ON scope.id = u.id
		ORDER BY u.id`
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return nil, fmt.Errorf("storage: health units: %w", err)
	}
	defer rows.Close()
	var out []HealthUnit
	for rows.Next() {
		var u HealthUnit
		if err := rows.Scan(&u.ID, &u.Code, &u.Name, &u.Kind, &u.ParentID, &u.ThemeDay, &u.StartedOn, &u.Above); err != nil {
			return nil, fmt.Errorf("storage: health units: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: health units: %w", err)
	}
	return out, nil
}

// HealthHolder is a secretary or organiser with their private chat.
type HealthHolder struct {
	Role     string
	UnitID   int64
	PersonID int64
	Name     string
	// ChatID is the linked private chat; 0 when not linked or when the
	// person blocked the bot (unreachable).
	ChatID int64
}

// HealthHolders lists the secretaries and organisers of root's subtree and
// ancestors.
func (s *Store) HealthHolders(ctx context.Context, rootID int64) ([]HealthHolder, error) {
	q := `WITH ` + scopeCTE(rootID, true) + `
		SELECT r.role, r.unit_id, p.id, p.name, CASE WHEN c.unreachable_at IS NULL THEN COALESCE(c.chat_id, 0) ELSE 0 END
		FROM roles r
		JOIN scope ON scope.id = r.unit_id
		JOIN people p ON p.id = r.person_id
		LEFT JOIN chat_links c ON c.person_id = p.id
		WHERE r.role IN ('secretary', 'organiser')
		ORDER BY r.unit_id, r.role, p.id`
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return nil, fmt.Errorf("storage: health holders: %w", err)
	}
	defer rows.Close()
	var out []HealthHolder
	for rows.Next() {
		var h HealthHolder
		if err := rows.Scan(&h.Role, &h.UnitID, &h.PersonID, &h.Name, &h.ChatID); err != nil {
			return nil, fmt.Errorf("storage: health holders: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: health holders: %w", err)
	}
	return out, nil
}

// HealthGroupChats maps units of root's subtree and ancestors to their bound
// group chat, leaving out groups that refused the bot.
func (s *Store) HealthGroupChats(ctx context.Context, rootID int64) (map[int64]int64, error) {
	q := `WITH ` + scopeCTE(rootID, true) + `
		SELECT g.unit_id, g.chat_id FROM group_chats g JOIN scope ON scope.id = g.unit_id
		WHERE g.unreachable_at IS NULL`
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return nil, fmt.Errorf("storage: health group chats: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var unit, chat int64
		if err := rows.Scan(&unit, &chat); err != nil {
			return nil, fmt.Errorf("storage: health group chats: %w", err)
		}
		out[unit] = chat
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: health group chats: %w", err)
	}
	return out, nil
}

// HealthDone streams the done items of root's subtree: for each unit that
// has any, one call with the distinct (obligation, period) pairs of its
// check-ins that are neither withdrawn nor rejected, encoded as
// "obligation period,obligation period,…". The slice is only valid during
// the call. Aggregating per unit in the database keeps a province (a
// million check-ins) to one row per branch on the wire.
func (s *Store) HealthDone(ctx context.Context, rootID int64, fn func(unitID int64, pairs []byte) error) error {
	q := `SELECT d.unit_id, string_agg(d.obligation || ' ' || d.period, ',')
		FROM (SELECT ci.unit_id, ci.obligation, ci.period
		      FROM checkin_items ci
		      JOIN checkins c ON c.id = ci.checkin_id
		      JOIN units u ON u.id = ci.unit_id
		      WHERE c.withdrawn_at IS NULL AND c.rejected_at IS NULL AND ` + inSubtree("u", rootID) + `
		      GROUP BY ci.unit_id, ci.obligation, ci.period) d
		GROUP BY d.unit_id`
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return fmt.Errorf("storage: health done: %w", err)
	}
	defer rows.Close()
	var pairs sql.RawBytes
	for rows.Next() {
		var unit int64
		if err := rows.Scan(&unit, &pairs); err != nil {
			return fmt.Errorf("storage: health done: %w", err)
		}
		if err := fn(unit, pairs); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: health done: %w", err)
	}
	return nil
}

// HealthItem names one item: a unit (branch or party group), an obligation
// code and a period key.
type HealthItem struct {
	UnitID     int64  `json:"unit_id"`
	Obligation string `json:"obligation"`
	Period     string `json:"period"`
}

// HealthExemptions lists the standing exemptions of root's subtree.
func (s *Store) HealthExemptions(ctx context.Context, rootID int64) ([]HealthItem, error) {
	q := `SELECT e.unit_id, e.obligation, e.period FROM health_exemptions e JOIN units u ON u.id = e.unit_id
		WHERE e.revoked_at IS NULL AND ` + inSubtree("u", rootID)
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return nil, fmt.Errorf("storage: health exemptions: %w", err)
	}
	defer rows.Close()
	var out []HealthItem
	for rows.Next() {
		var it HealthItem
		if err := rows.Scan(&it.UnitID, &it.Obligation, &it.Period); err != nil {
			return nil, fmt.Errorf("storage: health exemptions: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: health exemptions: %w", err)
	}
	return out, nil
}

// Silence mutes notices about a unit subtree for a time range.
type Silence struct {
	ID         int64     `json:"id"`
	UnitID     int64     `json:"unit_id"`
	UnitCode   string    `json:"unit"`
	Obligation string    `json:"obligation,omitempty"` // "" = every obligation
	From       time.Time `json:"from"`
	Until      time.Time `json:"until"`
	Reason     string    `json:"reason"`
	Actor      string    `json:"actor"`
}

// HealthSilences lists the silences in force at instant at on root's
// subtree or above it.
func (s *Store) HealthSilences(ctx context.Context, rootID int64, at time.Time) ([]Silence, error) {
	q := `WITH ` + scopeCTE(rootID, true) + `
		SELECT s.id, s.unit_id, u.code, COALESCE(s.obligation, ''), s.starts_at, s.ends_at, s.reason, s.actor
		FROM health_silences s JOIN scope ON scope.id = s.unit_id JOIN units u ON u.id = s.unit_id
		WHERE s.revoked_at IS NULL AND s.starts_at <= $2 AND s.ends_at > $2
		ORDER BY s.id`
	rows, err := s.q.QueryContext(ctx, q, rootID, at)
	if err != nil {
		return nil, fmt.Errorf("storage: health silences: %w", err)
	}
	defer rows.Close()
	var out []Silence
	for rows.Next() {
		var x Silence
		if err := rows.Scan(&x.ID, &x.UnitID, &x.UnitCode, &x.Obligation, &x.From, &x.Until, &x.Reason, &x.Actor); err != nil {
			return nil, fmt.Errorf("storage: health silences: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: health silences: %w", err)
	}
	return out, nil
}

// Ack is a secretary's acknowledgement of a red item.
type Ack struct {
	HealthItem
	PersonID  int64      `json:"person_id"`
	Person    string     `json:"person"`
	At        time.Time  `json:"at"`
	PlannedOn *time.Time `json:"planned_on,omitempty"` // civil date at UTC midnight
	Until     time.Time  `json:"until"`
}

// HealthAcks lists the latest acknowledgement of every item of root's
// subtree that has one.
func (s *Store) HealthAcks(ctx context.Context, rootID int64) ([]Ack, error) {
	q := `SELECT DISTINCT ON (a.unit_id, a.obligation, a.period)
		       a.unit_id, a.obligation, a.period, a.person_id, p.name, a.acked_at, a.planned_on, a.until
		FROM health_acks a JOIN units u ON u.id = a.unit_id JOIN people p ON p.id = a.person_id
		WHERE ` + inSubtree("u", rootID) + `
		ORDER BY a.unit_id, a.obligation, a.period, a.acked_at DESC, a.id DESC`
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return nil, fmt.Errorf("storage: health acks: %w", err)
	}
	defer rows.Close()
	var out []Ack
	for rows.Next() {
		var a Ack
		var planned pq.NullTime
		if err := rows.Scan(&a.UnitID, &a.Obligation, &a.Period, &a.PersonID, &a.Person, &a.At, &planned, &a.Until); err != nil {
			return nil, fmt.Errorf("storage: health acks: %w", err)
		}
		if planned.Valid {
			t := planned.Time
			a.PlannedOn = &t
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: health acks: %w", err)
	}
	return out, nil
}

// HealthSent streams the notification state of root's subtree for the given
// periods: per (recipient, unit, obligation, period, level) the latest slot
// logged. The byte slices are only valid during the call.
func (s *Store) HealthSent(ctx context.Context, rootID int64, periods []string,
	fn func(person, unit int64, obligation, period, level []byte, lastSlot int64) error) error {
	q := `SELECT n.person_id, n.unit_id, n.obligation, n.period, n.level, n.last_slot
		FROM notification_state n JOIN units u ON u.id = n.unit_id
		WHERE n.period = ANY($2) AND ` + inSubtree("u", rootID)
	rows, err := s.q.QueryContext(ctx, q, rootID, pq.StringArray(periods))
	if err != nil {
		return fmt.Errorf("storage: health sent: %w", err)
	}
	defer rows.Close()
	var ob, period, level sql.RawBytes
	for rows.Next() {
		var person, unit, slot int64
		if err := rows.Scan(&person, &unit, &ob, &period, &level, &slot); err != nil {
			return fmt.Errorf("storage: health sent: %w", err)
		}
		if err := fn(person, unit, ob, period, level, slot); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: health sent: %w", err)
	}
	return nil
}

// RedNotified is an item whose red notice reached organisers and whose
// "resolved" note has not gone out yet.
type RedNotified struct {
	HealthItem
	People []int64 // the organisers who got a red line
}

// HealthRedNotified lists the items of root's subtree that organisers got a
// red notice about and no "resolved" note yet: when such an item is green,
// the organisers are told.
func (s *Store) HealthRedNotified(ctx context.Context, rootID int64) ([]RedNotified, error) {
	q := `SELECT n.unit_id, n.obligation, n.period, array_agg(n.person_id ORDER BY n.person_id)
		FROM notification_state n JOIN units u ON u.id = n.unit_id
		WHERE n.level = 'red' AND n.org AND ` + inSubtree("u", rootID) + `
		  AND NOT EXISTS (SELECT 1 FROM notification_state r
		                  WHERE r.unit_id = n.unit_id AND r.obligation = n.obligation AND r.period = n.period AND r.level = 'resolved')
		GROUP BY n.unit_id, n.obligation, n.period`
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return nil, fmt.Errorf("storage: health red notified: %w", err)
	}
	defer rows.Close()
	var out []RedNotified
	for rows.Next() {
		var r RedNotified
		var people pq.Int64Array
		if err := rows.Scan(&r.UnitID, &r.Obligation, &r.Period, &people); err != nil {
			return nil, fmt.Errorf("storage: health red notified: %w", err)
		}
		r.People = people
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: health red notified: %w", err)
	}
	return out, nil
}

// HealthLights streams the stored yellow and red lights of root's subtree.
func (s *Store) HealthLights(ctx context.Context, rootID int64, fn func(unit int64, obligation, period, light []byte) error) error {
	q := `SELECT l.unit_id, l.obligation, l.period, l.light FROM health_lights l JOIN units u ON u.id = l.unit_id
		WHERE ` + inSubtree("u", rootID)
	rows, err := s.q.QueryContext(ctx, q, rootID)
	if err != nil {
		return fmt.Errorf("storage: health lights: %w", err)
	}
	defer rows.Close()
	var ob, period, light sql.RawBytes
	for rows.Next() {
		var unit int64
		if err := rows.Scan(&unit, &ob, &period, &light); err != nil {
			return fmt.Errorf("storage: health lights: %w", err)
		}
		if err := fn(unit, ob, period, light); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: health lights: %w", err)
	}
	return nil
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
	if _, err := s.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(healthLockKey)); err != nil {
		return fmt.Errorf("storage: lock healthcheck: %w", err)
	}
	return nil
}

// TuneForScan raises work_mem and turns JIT off for the current transaction:
// the evaluation's aggregations then stay in memory, and short queries do
// not pay for compilation.
func (s *Store) TuneForScan(ctx context.Context) error {
	if _, ok := s.q.(interface{ Commit() error }); !ok {
		return nil
	}
	for _, q := range []string{`SET LOCAL work_mem = '64MB'`, `SET LOCAL jit = off`} {
		if _, err := s.q.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("storage: %s: %w", strings.TrimPrefix(q, "SET LOCAL "), err)
		}
	}
	return nil
}
