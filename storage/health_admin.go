package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Exemption excuses one item, with a reason, by an organiser or admin.
type Exemption struct {
	ID         int64
	UnitID     int64
	UnitCode   string
	Obligation string
	Period     string
	Reason     string
	ByID       int64
	Actor      string
	At         time.Time
	RevokedAt  *time.Time
}

// CreateExemption records an exemption; an item already exempt gets
// created=false and the standing exemption's id.
func (s *Store) CreateExemption(ctx context.Context, e Exemption) (id int64, created bool, err error) {
	var by any
	if e.ByID != 0 {
		by = e.ByID
	}
	id, created, err = getIfAny[int64](ctx, s, "create exemption", `
		INSERT INTO health_exemptions (unit_id, obligation, period, reason, created_by, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (unit_id, obligation, period) WHERE revoked_at IS NULL DO NOTHING
		RETURNING id`, e.UnitID, e.Obligation, e.Period, e.Reason, by, e.Actor, e.At)
	if err != nil || created {
		return id, created, err
	}
	id, err = getValue[int64](ctx, s, "create exemption: existing", `SELECT id FROM health_exemptions WHERE unit_id = $1 AND obligation = $2 AND period = $3 AND revoked_at IS NULL`,
		e.UnitID, e.Obligation, e.Period)
	return id, false, err
}

// RevokeExemption marks a standing exemption revoked.
func (s *Store) RevokeExemption(ctx context.Context, id, byID int64, reason string, at time.Time) (Exemption, error) {
	var by any
	if byID != 0 {
		by = byID
	}
	res, err := s.q.ExecContext(ctx, `UPDATE health_exemptions SET revoked_at = $2, revoked_by = $3, revoke_reason = $4
		WHERE id = $1 AND revoked_at IS NULL`, id, at, by, reason)
	if err := affectedOne(res, err, "revoke exemption", fmt.Sprintf("revoke exemption %d", id)); err != nil {
		return Exemption{}, err
	}
	return s.ExemptionByID(ctx, id)
}

// exemptionSelect reads Exemptions (scanExemption) from health_exemptions e.
const exemptionSelect = `SELECT e.id, e.unit_id, u.code, e.obligation, e.period, e.reason, COALESCE(e.created_by, 0), e.actor, e.created_at, e.revoked_at
	FROM health_exemptions e JOIN units u ON u.id = e.unit_id`

func scanExemption(rows *sql.Rows, e *Exemption) error {
	return rows.Scan(&e.ID, &e.UnitID, &e.UnitCode, &e.Obligation, &e.Period, &e.Reason, &e.ByID, &e.Actor, &e.At, &e.RevokedAt)
}

// ExemptionByID loads an exemption.
func (s *Store) ExemptionByID(ctx context.Context, id int64) (Exemption, error) {
	what := fmt.Sprintf("exemption %d", id)
	es, err := scanAll(ctx, s, what, scanExemption, exemptionSelect+` WHERE e.id = $1`, id)
	return only(what, es, err)
}

// Exemptions lists the exemptions of root's subtree, newest first.
func (s *Store) Exemptions(ctx context.Context, rootID int64, limit int) ([]Exemption, error) {
	return scanAll(ctx, s, "exemptions", scanExemption, exemptionSelect+`
		WHERE `+inSubtree("u", rootID)+` ORDER BY e.id DESC LIMIT $2`, rootID, limit)
}

// CreateSilence records a silence and returns its id.
func (s *Store) CreateSilence(ctx context.Context, x Silence, byID int64) (int64, error) {
	var by, ob any
	if byID != 0 {
		by = byID
	}
	if x.Obligation != "" {
		ob = x.Obligation
	}
	return getValue[int64](ctx, s, "create silence", `
		INSERT INTO health_silences (unit_id, obligation, starts_at, ends_at, reason, created_by, actor)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, x.UnitID, ob, x.From, x.Until, x.Reason, by, x.Actor)
}

// AddAck records an acknowledgement of a red item.
func (s *Store) AddAck(ctx context.Context, a Ack) error {
	var planned any
	if a.PlannedOn != nil {
		planned = a.PlannedOn.Format(time.DateOnly)
	}
	return exec(ctx, s, "add ack", `INSERT INTO health_acks (unit_id, obligation, period, person_id, acked_at, planned_on, until)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.UnitID, a.Obligation, a.Period, a.PersonID, a.At, planned, a.Until)
}

// Miss is a digest that did not reach its person directly: sent to their
// unit's group instead (ViaFallback), sent to nobody (Undeliverable: no
// chat, no group), refused by Telegram (Failed, e.g. the bot is blocked),
// or a red notice whose send may or may not have arrived and that is not
// sent again (Uncertain: see storage.AtMostOnce).
type Miss struct {
	DigestID      int64
	PersonID      int64
	Person        string
	ChatID        int64
	Level         string
	Items         int
	ViaFallback   bool
	Undeliverable bool
	Failed        string
	Uncertain     bool
	At            time.Time
}

// HealthMisses lists the misses since a time about root's subtree, newest
// first.
func (s *Store) HealthMisses(ctx context.Context, rootID int64, since time.Time, limit int) ([]Miss, error) {
	q := `SELECT d.id, d.person_id, d.person_name, d.chat_id, d.level, d.items, d.via_fallback, d.undeliverable,
		       COALESCE((SELECT o.failed_reason FROM outbox o WHERE o.dedupe_key LIKE d.dedupe_key || ':%' AND o.status = 'failed' LIMIT 1), ''),
		       EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key LIKE d.dedupe_key || ':%' AND o.status = 'uncertain'),
		       d.at
		FROM notification_digests d
		WHERE d.at >= $2
		  AND (d.via_fallback OR d.undeliverable
		       OR EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key LIKE d.dedupe_key || ':%' AND o.status IN ('failed', 'uncertain')))
		  AND EXISTS (SELECT 1 FROM notification_log l JOIN units u ON u.id = l.unit_id
		              WHERE l.digest_id = d.id AND ` + inSubtree("u", rootID) + `)
		ORDER BY d.at DESC, d.id DESC LIMIT $3`
	return scanAll(ctx, s, "health misses", func(rows *sql.Rows, m *Miss) error {
		return rows.Scan(&m.DigestID, &m.PersonID, &m.Person, &m.ChatID, &m.Level, &m.Items, &m.ViaFallback, &m.Undeliverable, &m.Failed, &m.Uncertain, &m.At)
	}, q, rootID, since, limit)
}

// NoticeLog lists the logged lines of root's subtree sent at or after
// since, oldest first (tests and the dashboard read it).
func (s *Store) NoticeLog(ctx context.Context, rootID int64, since time.Time) ([]NoticeLine, error) {
	return scanAll(ctx, s, "notice log", func(rows *sql.Rows, l *NoticeLine) error {
		return rows.Scan(&l.PersonID, &l.UnitID, &l.Obligation, &l.Period, &l.Level, &l.Slot, &l.Role, &l.OrgLevel)
	}, `SELECT l.person_id, l.unit_id, l.obligation, l.period, l.level, l.slot, l.role, l.org_level
		FROM notification_log l JOIN units u ON u.id = l.unit_id
		WHERE l.at >= $2 AND `+inSubtree("u", rootID)+`
		ORDER BY l.at, l.digest_id, l.person_id, l.unit_id, l.obligation, l.period, l.level, l.slot`, rootID, since)
}
