package storage

import (
	"github.com/lib/pq"

	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEntry records who did what to what; refusals have Allowed=false.
type AuditEntry struct {
	ActorID int64
	Actor   string
	Action  string
	Subject string
	Allowed bool
	Details map[string]any
}

// Audit appends an entry to the audit log. A refusal's entry outlives
// the refusal's undoing (InTxUndoing).
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	d, err := json.Marshal(e.Details)
	if err != nil {
		return fmt.Errorf("storage: audit details: %w", err)
	}
	if err := exec(ctx, s, "audit "+e.Action, `INSERT INTO audit_log (actor_id, actor, action, subject, allowed, details) VALUES (NULLIF($1::bigint, 0), $2, $3, $4, $5, $6)`,
		e.ActorID, e.Actor, e.Action, e.Subject, e.Allowed, string(d)); err != nil {
		return err
	}
	if !e.Allowed {
		s.keep(func(ctx context.Context, s *Store) error { return s.Audit(ctx, e) })
	}
	return nil
}

// AuditRow is a stored audit entry.
type AuditRow struct {
	ID      int64           `db:"id"`
	At      time.Time       `db:"at"`
	ActorID *int64          `db:"actor_id"`
	Actor   string          `db:"actor"`
	Action  string          `db:"action"`
	Subject string          `db:"subject"`
	Allowed bool            `db:"allowed"`
	Details json.RawMessage `db:"details"`
}

// AuditLog lists entries newest first, optionally filtered by action. With
// roots, only entries whose actor belongs to the roots' subtrees are
// listed: a person acting is in them when every one of their roles is (a
// person who also holds a role elsewhere may have acted there, SPEC §7.5),
// an API token ("api:ID") when its unit is. Entries of other actors
// (unlinked chat users, the scheduler, integrations, the CLI operator)
// belong to no unit and are listed only without roots (the operator).
func (s *Store) AuditLog(ctx context.Context, action string, roots []int64, limit int) ([]AuditRow, error) {
	return s.AuditLogBefore(ctx, action, roots, limit, 0)
}

// AuditLogBefore is AuditLog from the entry before beforeID on (0: from the
// newest): the pages of GET /api/v1/audit.
func (s *Store) AuditLogBefore(ctx context.Context, action string, roots []int64, limit int, beforeID int64) ([]AuditRow, error) {
	return selectAll[AuditRow](ctx, s, "audit log", `SELECT id, at, actor_id, actor, action, subject, allowed, details FROM audit_log a
		WHERE ($1 = '' OR action = $1)
		  AND ($3::bigint[] IS NULL
		    OR (EXISTS (SELECT 1 FROM roles r WHERE r.person_id = a.actor_id)
		        AND NOT EXISTS (SELECT 1 FROM roles r JOIN units u ON u.id = r.unit_id
		                        WHERE r.person_id = a.actor_id AND NOT u.path && $3::bigint[]))
		    OR EXISTS (SELECT 1 FROM api_tokens t JOIN units u ON u.id = t.unit_id
		               WHERE a.actor = 'api:' || t.id AND u.path && $3::bigint[]))
		  AND ($4::bigint = 0 OR id < $4)
		ORDER BY id DESC LIMIT $2`, action, limit, pq.Array(roots), beforeID)
}

// AppendEvent appends a domain event (the source of outbound webhooks).
func (s *Store) AppendEvent(ctx context.Context, typ string, unitID int64, payload any) error {
	p, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("storage: event payload: %w", err)
	}
	if err := exec(ctx, s, fmt.Sprintf("append event %s", typ), `INSERT INTO events (type, unit_id, payload) VALUES ($1, NULLIF($2::bigint, 0), $3)`, typ, unitID, string(p)); err != nil {
		return err
	}
	return s.notify(ctx, "events")
}
