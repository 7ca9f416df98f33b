package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Outbound webhooks (migration 00007): subscriptions, the fan-out of events
// into deliveries, and the delivery bookkeeping of package webhooks.

// Webhook delivery states.
const (
	DeliveryPending   = "pending"
	DeliverySending   = "sending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookSubscription is a stored subscription (its secret only when asked).
type WebhookSubscription struct {
	ID             int64          `db:"id"`
	URL            string         `db:"url"`
	Secret         string         `db:"secret"`
	EventTypes     pq.StringArray `db:"event_types"`
	UnitID         int64          `db:"unit_id"`
	UnitCode       string         `db:"unit_code"`
	Active         bool           `db:"active"`
	FailureCount   int            `db:"failure_count"`
	DisabledAt     *time.Time     `db:"disabled_at"`
	DisabledReason *string        `db:"disabled_reason"`
	CreatedBy      string         `db:"created_by"`
	CreatedAt      time.Time      `db:"created_at"`
}

// NewWebhookSubscription is a subscription to create.
type NewWebhookSubscription struct {
	URL        string
	Secret     string
	EventTypes []string // empty = every type
	UnitID     int64
	CreatedBy  string
}

const subscriptionCols = `w.id, w.url, w.secret, w.event_types, w.unit_id, u.code AS unit_code, w.active,
	w.failure_count, w.disabled_at, w.disabled_reason, w.created_by, w.created_at`

// CreateWebhookSubscription stores a subscription. It receives the events
// appended from now on (its cursor starts at the current horizon).
func (s *Store) CreateWebhookSubscription(ctx context.Context, n NewWebhookSubscription) (WebhookSubscription, error) {
	types := n.EventTypes
	if types == nil {
		types = []string{}
	}
	id, err := getValue[int64](ctx, s, "create webhook subscription", `
		INSERT INTO webhook_subscriptions (url, secret, event_types, unit_id, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, n.URL, n.Secret, pq.Array(types), n.UnitID, n.CreatedBy)
	if err != nil {
		return WebhookSubscription{}, err
	}
	return s.WebhookSubscription(ctx, id)
}

// WebhookSubscription returns a subscription that is not deleted.
func (s *Store) WebhookSubscription(ctx context.Context, id int64) (WebhookSubscription, error) {
	return getOne[WebhookSubscription](ctx, s, fmt.Sprintf("webhook subscription %d", id), `SELECT `+subscriptionCols+` FROM webhook_subscriptions w JOIN units u ON u.id = w.unit_id
		WHERE w.id = $1 AND w.deleted_at IS NULL`, id)
}

// WebhookSubscriptionsIn lists the subscriptions scoped to units in root's
// subtree (root 0: all), by id.
func (s *Store) WebhookSubscriptionsIn(ctx context.Context, root int64) ([]WebhookSubscription, error) {
	return orEmpty(selectAll[WebhookSubscription](ctx, s, "webhook subscriptions", `SELECT `+subscriptionCols+` FROM webhook_subscriptions w JOIN units u ON u.id = w.unit_id
		WHERE w.deleted_at IS NULL AND ($1 = 0 OR u.path @> ARRAY[$1::bigint]) ORDER BY w.id`, root))
}

// DeleteWebhookSubscription deactivates and hides a subscription; its
// deliveries and attempts stay for the record.
func (s *Store) DeleteWebhookSubscription(ctx context.Context, id int64, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE webhook_subscriptions SET active = false, deleted_at = $2
		WHERE id = $1 AND deleted_at IS NULL`, id, at)
	return affectedOne(res, err, "delete webhook subscription", fmt.Sprintf("webhook subscription %d", id))
}

// FanOutWebhookEvents creates the deliveries of the events appended since
// each active subscription's cursor, up to batch events per subscription,
// and advances the cursors. Events are taken in (xid, id) order below
// webhook_event_horizon() (see migration 00007), so an event whose
// transaction commits late is never skipped. An event goes to a
// subscription when its type is subscribed (or the subscription takes every
// type) and its unit lies in the subscription's subtree; an event without a
// unit goes to subscriptions scoped to a root unit. Subscriptions another
// fan-out holds are skipped. It returns the deliveries created and whether
// some subscription may have more events waiting (a full batch).
func (s *Store) FanOutWebhookEvents(ctx context.Context, batch int, now time.Time) (created int, more bool, err error) {
	var r struct {
		Created int `db:"created"`
		Fullest int `db:"fullest"`
	}
	err = sqlxGet(ctx, s, &r, `
WITH horizon AS MATERIALIZED (
	SELECT webhook_event_horizon() AS h
), subs AS (
	SELECT w.id, w.unit_id, w.event_types, w.cursor_xid, w.cursor_id,
	       (SELECT u.parent_id IS NULL FROM units u WHERE u.id = w.unit_id) AS root
	FROM webhook_subscriptions w WHERE w.active
	FOR UPDATE SKIP LOCKED
), scan AS (
	SELECT s.id AS sub_id, s.unit_id AS scope, s.event_types, s.root, e.id AS event_id, e.xid, e.type, e.unit_id
	FROM horizon, subs s CROSS JOIN LATERAL (
		SELECT e.id, e.xid, e.type, e.unit_id FROM events e
		WHERE (e.xid, e.id) > (s.cursor_xid, s.cursor_id) AND e.xid < horizon.h
		ORDER BY e.xid, e.id LIMIT $1) e
), ins AS (
	INSERT INTO webhook_deliveries (subscription_id, event_id, next_attempt_at, created_at)
	SELECT sc.sub_id, sc.event_id, $2, $2 FROM scan sc LEFT JOIN units u ON u.id = sc.unit_id
	WHERE (cardinality(sc.event_types) = 0 OR sc.type = ANY(sc.event_types))
	  AND (u.path @> ARRAY[sc.scope] OR (sc.unit_id IS NULL AND sc.root))
	ORDER BY sc.sub_id, sc.xid, sc.event_id
	ON CONFLICT (subscription_id, event_id) DO NOTHING
	RETURNING 1
), last AS (
	SELECT DISTINCT ON (sub_id) sub_id, xid, event_id FROM scan ORDER BY sub_id, xid DESC, event_id DESC
), upd AS (
	UPDATE webhook_subscriptions w SET cursor_xid = l.xid, cursor_id = l.event_id
	FROM last l WHERE w.id = l.sub_id
	RETURNING 1
)
SELECT (SELECT count(*) FROM ins) AS created,
       COALESCE((SELECT max(n) FROM (SELECT count(*) AS n FROM scan GROUP BY sub_id) x), 0) AS fullest`, batch, now)
	if err != nil {
		return 0, false, fmt.Errorf("storage: fan out webhook events: %w", err)
	}
	return r.Created, r.Fullest >= batch, nil
}

// WebhookJob is a claimed delivery with what it takes to send it.
type WebhookJob struct {
	ID             int64           `db:"id"`
	SubscriptionID int64           `db:"subscription_id"`
	EventID        int64           `db:"event_id"`
	Attempt        int             `db:"attempts"` // including this one
	URL            string          `db:"url"`
	Secret         string          `db:"secret"`
	EventType      string          `db:"type"`
	EventAt        time.Time       `db:"at"`
	Payload        json.RawMessage `db:"payload"`
}

// ClaimWebhookDeliveries marks up to limit due deliveries 'sending'
// (attempts+1, lease until leaseUntil, the claim's fence) and returns them.
// At most one delivery per subscription is in flight, and each claim takes
// the subscription's oldest due delivery, so a slow or failing receiver
// holds up no one else and is not flooded. Rows are locked with SKIP LOCKED.
//
// fence, when set, is the leadership the claim is made under: the claim is
// refused (ErrStaleLeader) unless its epoch is still the key's current one
// in leader_epoch, as for ClaimOutbox.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int, fence LeaderFence) ([]WebhookJob, error) {
	out := []WebhookJob{}
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.checkFence(ctx, fence); err != nil {
			return err
		}
		key, epoch := fence.columns()
		return sqlxSelect(ctx, tx, &out, `
WITH cand AS (
	SELECT d.id, d.next_attempt_at FROM webhook_subscriptions w CROSS JOIN LATERAL (
		SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
		WHERE d.subscription_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= $1
		ORDER BY d.next_attempt_at, d.id LIMIT 1) d
	WHERE w.active AND NOT EXISTS (
		SELECT 1 FROM webhook_deliveries b WHERE b.subscription_id = w.id AND b.status = 'sending')
), picked AS (
	SELECT d.id FROM webhook_deliveries d JOIN cand c ON c.id = d.id
	WHERE d.status = 'pending'
	ORDER BY c.next_attempt_at, d.id LIMIT $3
	FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1, lease_until = $2,
	claim_key = $4, claim_epoch = $5
FROM picked p, webhook_subscriptions w, events e
WHERE d.id = p.id AND w.id = d.subscription_id AND e.id = d.event_id
RETURNING d.id, d.subscription_id, d.event_id, d.attempts, w.url, w.secret, e.type, e.at, e.payload`, now, leaseUntil, limit, key, epoch)
	})
	if err != nil {
		return nil, fmt.Errorf("storage: claim webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookAttempt is one HTTP attempt of a delivery.
type WebhookAttempt struct {
	DeliveryID int64         `db:"delivery_id"`
	Attempt    int           `db:"attempt"`
	At         time.Time     `db:"at"`
	StatusCode int           `db:"status_code"` // 0: no answer
	Error      string        `db:"error"`       // "" on success
	Duration   time.Duration `db:"-"`
}

// WebhookOutcome is what became of an attempt.
type WebhookOutcome struct {
	Delivered bool
	// Retry: pending again until NextAttempt. Otherwise (and not delivered)
	// the delivery failed for good.
	Retry       bool
	NextAttempt time.Time
	// MaxFailures disables the subscription when this many deliveries in a
	// row have failed for good.
	MaxFailures int
}

// WebhookResult is how RecordWebhookAttempt left things.
type WebhookResult struct {
	Current  bool // the delivery was still this attempt's (not taken back)
	Disabled bool // the subscription was disabled by this failure
}

// RecordWebhookAttempt logs an attempt and applies its outcome in one
// transaction: a delivered row resets the subscription's failure count; a
// row that failed for good adds one, and the subscription is disabled when
// the count reaches MaxFailures. The attempt is always logged; the outcome
// only when the row is still in this attempt's hands.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a WebhookAttempt, o WebhookOutcome) (WebhookResult, error) {
	var res WebhookResult
	err := s.InTx(ctx, func(tx *Store) error {
		if err := exec(ctx, tx, "log webhook attempt", `
			INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
			SELECT $1::bigint, $2::int, $3::timestamptz, NULLIF($4::int, 0), NULLIF($5::text, ''), $6::int
			WHERE NOT EXISTS (SELECT 1 FROM webhook_attempts WHERE delivery_id = $1::bigint AND attempt = $2::int)
			ON CONFLICT (delivery_id, attempt, part_month) DO NOTHING`,
			a.DeliveryID, a.Attempt, a.At, a.StatusCode, a.Error, a.Duration.Milliseconds()); err != nil {
			return err
		}
		var q string
		args := []any{a.DeliveryID, a.Attempt, a.At, a.StatusCode, a.Error}
		switch {
		case o.Delivered:
			q = `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $3, lease_until = NULL,
				last_status = NULLIF($4, 0), last_error = NULL
				WHERE id = $1 AND attempts = $2 AND status = 'sending' RETURNING subscription_id`
			args = args[:4]
		case o.Retry:
			q = `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, lease_until = NULL,
				last_status = NULLIF($4, 0), last_error = NULLIF($5, '')
				WHERE id = $1 AND attempts = $2 AND status = 'sending' RETURNING subscription_id`
			args[2] = o.NextAttempt
		default:
			q = `UPDATE webhook_deliveries SET status = 'failed', failed_at = $3, lease_until = NULL,
				last_status = NULLIF($4, 0), last_error = NULLIF($5, '')
				WHERE id = $1 AND attempts = $2 AND status = 'sending' RETURNING subscription_id`
		}
		subID, current, err := getIfAny[int64](ctx, tx, "record webhook delivery", q, args...)
		if err != nil || !current {
			return err // not current: taken back after its lease, only the attempt is logged
		}
		res.Current = true
		switch {
		case o.Delivered:
			_, err = tx.q.ExecContext(ctx, `UPDATE webhook_subscriptions SET failure_count = 0 WHERE id = $1 AND failure_count <> 0`, subID)
		case !o.Retry:
			err = tx.q.QueryRowxContext(ctx, `
				UPDATE webhook_subscriptions SET failure_count = failure_count + 1,
					active = active AND failure_count + 1 < $2,
					disabled_at = CASE WHEN active AND failure_count + 1 >= $2 THEN $3 ELSE disabled_at END,
					disabled_reason = CASE WHEN active AND failure_count + 1 >= $2
						THEN format('%s deliveries in a row failed; last: %s', failure_count + 1, $4::text) ELSE disabled_reason END
				WHERE id = $1
				RETURNING COALESCE(NOT active AND disabled_at = $3, false)`, subID, max(o.MaxFailures, 1), a.At, a.Error).Scan(&res.Disabled)
		}
		if err != nil {
			return fmt.Errorf("storage: record webhook subscription: %w", err)
		}
		return nil
	})
	return res, err
}

// RecoverWebhookLeases puts deliveries whose lease ran out (the sender died
// mid-request) back to pending; the attempt stays counted.
func (s *Store) RecoverWebhookLeases(ctx context.Context, now time.Time) (int64, error) {
	return execCount(ctx, s, "recover webhook leases", `
		UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL, next_attempt_at = $1,
			last_error = COALESCE(last_error, 'lease expired in flight')
		WHERE status = 'sending' AND lease_until < $1`, now)
}

// RecoverWebhookFromOldLeaders puts back to pending the deliveries in
// flight under an older epoch of fence's key: their leader is gone (fence
// is the current leadership, checked in the same statement), and while one
// is 'sending' its subscription gets nothing else. They keep their
// next_attempt_at (they were due when claimed), so each is again its
// subscription's oldest due delivery. Their request was maybe made: the
// receiver may get that event twice, with the same webhook-id.
func (s *Store) RecoverWebhookFromOldLeaders(ctx context.Context, fence LeaderFence) (int64, error) {
	return execCount(ctx, s, "recover webhook deliveries from old leaders", `
		WITH cur AS (SELECT epoch FROM leader_epoch WHERE key = $1 AND epoch = $2 FOR SHARE)
		UPDATE webhook_deliveries SET status = 'pending', lease_until = NULL,
			last_error = COALESCE(last_error, 'in flight when its leader was replaced')
		WHERE status = 'sending' AND claim_key = $1 AND claim_epoch < $2
		  AND EXISTS (SELECT 1 FROM cur)`, fence.Key, fence.Epoch)
}

// WebhookDelivery is a delivery's state, for the API and tests.
type WebhookDelivery struct {
	ID             int64      `db:"id"`
	SubscriptionID int64      `db:"subscription_id"`
	EventID        int64      `db:"event_id"`
	EventType      string     `db:"type"`
	Status         string     `db:"status"`
	Attempts       int        `db:"attempts"`
	NextAttemptAt  time.Time  `db:"next_attempt_at"`
	LastStatus     *int       `db:"last_status"`
	LastError      *string    `db:"last_error"`
	CreatedAt      time.Time  `db:"created_at"`
	DeliveredAt    *time.Time `db:"delivered_at"`
	FailedAt       *time.Time `db:"failed_at"`
}

// WebhookDeliveries lists a subscription's deliveries, newest first.
// beforeID > 0 lists the deliveries older than that one (the next page).
func (s *Store) WebhookDeliveries(ctx context.Context, subscriptionID int64, limit int, beforeID int64) ([]WebhookDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	return orEmpty(selectAll[WebhookDelivery](ctx, s, "webhook deliveries", `
		SELECT d.id, d.subscription_id, d.event_id, e.type, d.status, d.attempts, d.next_attempt_at,
			d.last_status, d.last_error, d.created_at, d.delivered_at, d.failed_at
		FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.subscription_id = $1 AND ($3::bigint = 0 OR d.id < $3)
		ORDER BY d.id DESC LIMIT $2`, subscriptionID, limit, beforeID))
}

// WebhookAttemptRow is a logged attempt with its duration in milliseconds.
type WebhookAttemptRow struct {
	DeliveryID int64     `db:"delivery_id"`
	EventID    int64     `db:"event_id"`
	Attempt    int       `db:"attempt"`
	At         time.Time `db:"at"`
	StatusCode *int      `db:"status_code"`
	Error      *string   `db:"error"`
	DurationMS int       `db:"duration_ms"`
}

// WebhookAttemptsOf lists the attempts of the given deliveries, newest first.
func (s *Store) WebhookAttemptsOf(ctx context.Context, deliveryIDs []int64) ([]WebhookAttemptRow, error) {
	if len(deliveryIDs) == 0 {
		return []WebhookAttemptRow{}, nil
	}
	return orEmpty(selectAll[WebhookAttemptRow](ctx, s, "webhook attempts", webhookAttemptSelect+`
		WHERE a.delivery_id = ANY($1) ORDER BY a.at DESC, a.id DESC`, pq.Array(deliveryIDs)))
}

const webhookAttemptSelect = `
		SELECT a.delivery_id, d.event_id, a.attempt, a.at, a.status_code, a.error, a.duration_ms
		FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id`

// WebhookAttempts lists the attempts of a subscription's deliveries, newest
// first.
func (s *Store) WebhookAttempts(ctx context.Context, subscriptionID int64, limit int) ([]WebhookAttemptRow, error) {
	if limit <= 0 {
		limit = 100
	}
	return orEmpty(selectAll[WebhookAttemptRow](ctx, s, "webhook attempts", webhookAttemptSelect+`
		WHERE d.subscription_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT $2`, subscriptionID, limit))
}

// WebhookQueueStats counts deliveries for metrics.
type WebhookQueueStats struct {
	Pending   int64 `db:"pending"`
	Sending   int64 `db:"sending"`
	OldestDue float64
}

// WebhookQueue counts pending and in-flight deliveries and the age in
// seconds of the oldest due one.
func (s *Store) WebhookQueue(ctx context.Context, now time.Time) (WebhookQueueStats, error) {
	var st WebhookQueueStats
	var oldest sql.NullTime
	err := s.q.QueryRowxContext(ctx, `
		SELECT count(*) FILTER (WHERE d.status = 'pending'),
		       count(*) FILTER (WHERE d.status = 'sending'),
		       min(d.next_attempt_at) FILTER (WHERE d.status = 'pending' AND d.next_attempt_at <= $1)
		FROM webhook_deliveries d JOIN webhook_subscriptions w ON w.id = d.subscription_id AND w.active
		WHERE d.status IN ('pending', 'sending')`, now).Scan(&st.Pending, &st.Sending, &oldest)
	if err != nil {
		return st, fmt.Errorf("storage: webhook queue: %w", err)
	}
	if oldest.Valid && now.After(oldest.Time) {
		st.OldestDue = now.Sub(oldest.Time).Seconds()
	}
	return st, nil
}
