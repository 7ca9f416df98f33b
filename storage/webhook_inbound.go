package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/zhibu/zhibu/domain"
)

// Inbound integrations (migration 00007): other platforms that post signed
// check-ins, the webhook-ids they used (replay protection) and their
// external ids (idempotency).

// Integration is a stored inbound integration.
type Integration struct {
	ID         int64      `db:"id"`
	Name       string     `db:"name"`
	Secret     string     `db:"secret"`
	UnitID     int64      `db:"unit_id"`
	UnitCode   string     `db:"unit_code"`
	UnitName   string     `db:"unit_name"`
	UnitKind   string     `db:"unit_kind"`
	Role       string     `db:"role"`
	Active     bool       `db:"active"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

const integrationCols = `i.id, i.name, i.secret, i.unit_id, u.code AS unit_code, u.name AS unit_name, u.kind AS unit_kind,
	i.role, i.active, i.created_at, i.last_used_at`

// CreateIntegration stores an integration; a taken name is domain.ErrConflict.
func (s *Store) CreateIntegration(ctx context.Context, name, secret string, unitID int64, role string) (Integration, error) {
	var id int64
	err := s.q.QueryRowxContext(ctx, `INSERT INTO integrations (name, secret, unit_id, role) VALUES ($1, $2, $3, $4) RETURNING id`,
		name, secret, unitID, role).Scan(&id)
	if isUnique(err) {
		return Integration{}, fmt.Errorf("storage: integration %q exists: %w", name, domain.Exists("集成", "名称", name))
	}
	if err != nil {
		return Integration{}, fmt.Errorf("storage: create integration: %w", err)
	}
	return getOne[Integration](ctx, s, fmt.Sprintf("integration %d", id), `SELECT `+integrationCols+` FROM integrations i JOIN units u ON u.id = i.unit_id WHERE i.id = $1`, id)
}

// ActiveIntegrations lists the active integrations, by id (the inbound
// endpoint tries their secrets in turn).
func (s *Store) ActiveIntegrations(ctx context.Context) ([]Integration, error) {
	return orEmpty(selectAll[Integration](ctx, s, "integrations", `SELECT `+integrationCols+` FROM integrations i JOIN units u ON u.id = i.unit_id
		WHERE i.active ORDER BY i.id`))
}

// Integrations lists every integration, by id.
func (s *Store) Integrations(ctx context.Context) ([]Integration, error) {
	return orEmpty(selectAll[Integration](ctx, s, "integrations", `SELECT `+integrationCols+` FROM integrations i JOIN units u ON u.id = i.unit_id ORDER BY i.id`))
}

// SetIntegrationActive turns an integration on or off by name.
func (s *Store) SetIntegrationActive(ctx context.Context, name string, active bool) error {
	res, err := s.q.ExecContext(ctx, `UPDATE integrations SET active = $2 WHERE name = $1`, name, active)
	return affectedOne(res, err, "set integration active", "integration "+name)
}

// TouchIntegration notes that an integration was used.
func (s *Store) TouchIntegration(ctx context.Context, id int64, at time.Time) error {
	return exec(ctx, s, "touch integration", `UPDATE integrations SET last_used_at = $2 WHERE id = $1`, id, at)
}

// ForgetIntegrationMessages drops the message ids received before before:
// their signed timestamps are out of tolerance by now, so a replay would be
// refused as stale anyway.
func (s *Store) ForgetIntegrationMessages(ctx context.Context, before time.Time) error {
	return exec(ctx, s, "forget integration messages", `DELETE FROM integration_messages WHERE received_at < $1`, before)
}

// ClaimIntegrationMessage records that integration id received msgID at
// now. fresh is false when the id was seen before; prior is then the
// check-in it created (0 if none yet). Within a transaction a concurrent
// request with the same id waits for this one to commit or roll back, so a
// message is processed once.
func (s *Store) ClaimIntegrationMessage(ctx context.Context, integrationID int64, msgID string, now time.Time) (fresh bool, prior int64, err error) {
	return s.claimOnce(ctx, "integration_messages", "msg_id", "received_at", "integration message", integrationID, msgID, now)
}

// ClaimExternalID reserves an integration's external id like
// ClaimIntegrationMessage reserves a message id, but for good.
func (s *Store) ClaimExternalID(ctx context.Context, integrationID int64, externalID string, now time.Time) (fresh bool, prior int64, err error) {
	return s.claimOnce(ctx, "integration_checkins", "external_id", "created_at", "external id", integrationID, externalID, now)
}

// claimOnce inserts (integration_id, keyCol, atCol) into table unless the
// key is there; fresh is false when it was, prior is then the row's
// checkin_id (0 if none yet). Its arguments are this file's constants,
// never input. what names the key in errors.
func (s *Store) claimOnce(ctx context.Context, table, keyCol, atCol, what string, integrationID int64, key string, now time.Time) (fresh bool, prior int64, err error) {
	_, fresh, err = getIfAny[int](ctx, s, "claim "+what, `
		INSERT INTO `+table+` (integration_id, `+keyCol+`, `+atCol+`) VALUES ($1, $2, $3)
		ON CONFLICT (integration_id, `+keyCol+`) DO NOTHING RETURNING 1`, integrationID, key, now)
	if err != nil || fresh {
		return fresh, 0, err
	}
	c, _, err := getIfAny[sql.NullInt64](ctx, s, what, `SELECT checkin_id FROM `+table+` WHERE integration_id = $1 AND `+keyCol+` = $2`,
		integrationID, key)
	return false, c.Int64, err
}

// LinkIntegrationCheckin notes the check-in a message (and its external id,
// if any) created.
func (s *Store) LinkIntegrationCheckin(ctx context.Context, integrationID int64, msgID, externalID string, checkinID int64) error {
	if err := exec(ctx, s, "link integration message", `UPDATE integration_messages SET checkin_id = $3 WHERE integration_id = $1 AND msg_id = $2`,
		integrationID, msgID, checkinID); err != nil {
		return err
	}
	if externalID == "" {
		return nil
	}
	return exec(ctx, s, "link external id", `UPDATE integration_checkins SET checkin_id = $3 WHERE integration_id = $1 AND external_id = $2`,
		integrationID, externalID, checkinID)
}
