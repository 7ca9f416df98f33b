package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Points as villages run them (SPEC §7.4): the villagers' 公示 group, the
// reviewers' approvals toward the quorum and villagers' objections.

// dateArg passes an optional civil date as YYYY-MM-DD (NULL when nil).
func dateArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.DateOnly)
}

// BindPublicGroup binds a group chat as a village's villagers' group (/bind
// 公示). A village has one and a chat one binding: earlier bindings of
// either, here or as a reviewers'/branch group, are replaced.
func (s *Store) BindPublicGroup(ctx context.Context, chatID, unitID int64, title string, by int64) error {
	if err := exec(ctx, s, "bind public group", `DELETE FROM public_groups WHERE unit_id = $1 OR chat_id = $2`, unitID, chatID); err != nil {
		return err
	}
	if err := exec(ctx, s, "bind public group", `DELETE FROM group_chats WHERE chat_id = $1`, chatID); err != nil {
		return err
	}
	return exec(ctx, s, "bind public group", `INSERT INTO public_groups (chat_id, unit_id, title, bound_by) VALUES ($1, $2, $3, NULLIF($4::bigint, 0))`,
		chatID, unitID, title, by)
}

// UnbindPublicChat drops a chat's 公示 binding (the chat is being bound as a
// reviewers' or branch group).
func (s *Store) UnbindPublicChat(ctx context.Context, chatID int64) error {
	return exec(ctx, s, "unbind public group", `DELETE FROM public_groups WHERE chat_id = $1`, chatID)
}

// PublicGroupByChat returns the 公示 binding of a chat.
func (s *Store) PublicGroupByChat(ctx context.Context, chatID int64) (GroupChat, error) {
	return getOne[GroupChat](ctx, s, fmt.Sprintf("public group chat %d", chatID), `SELECT `+groupChatCols+` FROM public_groups WHERE chat_id = $1`, chatID)
}

// PublicGroupOfUnit returns where a village's public posts go: its
// villagers' group (/bind 公示), else its bound (reviewers') group as before
// two groups could be bound.
func (s *Store) PublicGroupOfUnit(ctx context.Context, unitID int64) (GroupChat, error) {
	return getOne[GroupChat](ctx, s, fmt.Sprintf("public group of unit %d", unitID), `
		SELECT chat_id, unit_id, title, unreachable FROM (
			SELECT chat_id, unit_id, title, unreachable_at IS NOT NULL AS unreachable, 0 AS pref FROM public_groups WHERE unit_id = $1
			UNION ALL
			SELECT chat_id, unit_id, title, unreachable_at IS NOT NULL, 1 FROM group_chats WHERE unit_id = $1
		) g ORDER BY pref LIMIT 1`, unitID)
}

// PublicGroups lists the villages with a group for public posts, its chat
// (the villagers' group, else the bound group), for the daily 公示 list.
func (s *Store) PublicGroups(ctx context.Context) ([]GroupChat, error) {
	return selectAll[GroupChat](ctx, s, "public groups", `
		SELECT DISTINCT ON (unit_id) chat_id, unit_id, title, unreachable FROM (
			SELECT chat_id, unit_id, title, unreachable_at IS NOT NULL AS unreachable, 0 AS pref FROM public_groups
			UNION ALL
			SELECT g.chat_id, g.unit_id, g.title, g.unreachable_at IS NOT NULL, 1 FROM group_chats g
			JOIN units u ON u.id = g.unit_id WHERE u.kind IN ('village','community')
		) g ORDER BY unit_id, pref`)
}

// Approval is one reviewer's 通过 toward the quorum.
type Approval struct {
	Approver string    `db:"approver"`
	Name     string    `db:"name"`
	At       time.Time `db:"at"`
}

// AddApproval records a reviewer's approval of a claim in a review round
// once; added is false when they had approved this round already.
func (s *Store) AddApproval(ctx context.Context, claimID int64, round int, a Approval) (added bool, err error) {
	return execAffected(ctx, s, fmt.Sprintf("approval of claim %d", claimID), `INSERT INTO claim_approvals (claim_id, round, approver, name, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, claimID, round, a.Approver, a.Name, a.At)
}

// Approvals lists a claim's approvals in a review round in the order they came.
func (s *Store) Approvals(ctx context.Context, claimID int64, round int) ([]Approval, error) {
	return selectAll[Approval](ctx, s, fmt.Sprintf("approvals of claim %d", claimID), `SELECT approver, name, at FROM claim_approvals WHERE claim_id = $1 AND round = $2 ORDER BY seq`,
		claimID, round)
}

// Objection statuses.
const (
	ObjectionOpen      = "open"
	ObjectionUpheld    = "upheld"
	ObjectionDismissed = "dismissed"
)

// Objection is a villager's objection (异议) to a claim in 公示.
type Objection struct {
	ID         int64          `db:"id"`
	ClaimID    int64          `db:"claim_id"`
	PersonID   *int64         `db:"person_id"`
	PersonName string         `db:"person_name"`
	Reason     string         `db:"reason"`
	Status     string         `db:"status"`
	CreatedAt  time.Time      `db:"created_at"`
	DecidedAt  *time.Time     `db:"decided_at"`
	Decider    string         `db:"decider"`
	CardKeys   pq.StringArray `db:"card_keys"`
}

// InsertObjection opens an objection; ok is false when the claim has an
// open one already.
func (s *Store) InsertObjection(ctx context.Context, o Objection) (id int64, ok bool, err error) {
	return getIfAny[int64](ctx, s, fmt.Sprintf("objection to claim %d", o.ClaimID), `INSERT INTO claim_objections (claim_id, person_id, reason, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (claim_id) WHERE status = 'open' DO NOTHING RETURNING id`, o.ClaimID, o.PersonID, o.Reason, o.CreatedAt)
}

const objectionSelect = `SELECT o.id, o.claim_id, o.person_id, COALESCE(p.name, '') AS person_name, o.reason, o.status, o.created_at,
	o.decided_at, o.decider, o.card_keys FROM claim_objections o LEFT JOIN people p ON p.id = o.person_id`

// ObjectionByID loads an objection.
func (s *Store) ObjectionByID(ctx context.Context, id int64) (Objection, error) {
	return getOne[Objection](ctx, s, fmt.Sprintf("objection %d", id), objectionSelect+` WHERE o.id = $1`, id)
}

// OpenObjection returns a claim's open objection.
func (s *Store) OpenObjection(ctx context.Context, claimID int64) (Objection, error) {
	return getOne[Objection](ctx, s, fmt.Sprintf("open objection of claim %d", claimID), objectionSelect+` WHERE o.claim_id = $1 AND o.status = 'open'`, claimID)
}

// ObjectedClaim is a claim with its open villager's objection.
type ObjectedClaim struct {
	Claim     Claim
	Objection Objection
}

// UnderObjection lists the villages' claims held by an open villager's
// objection (公示异议), the oldest objection first, at most limit.
func (s *Store) UnderObjection(ctx context.Context, villageIDs []int64, limit int) ([]ObjectedClaim, error) {
	os, err := selectAll[Objection](ctx, s, "open objections", objectionSelect+` JOIN claims c ON c.id = o.claim_id
		WHERE o.status = 'open' AND c.village_id = ANY($1) ORDER BY o.id LIMIT $2`, pq.Array(villageIDs), limit)
	if err != nil || len(os) == 0 {
		return nil, err
	}
	ids := make([]int64, len(os))
	for i, o := range os {
		ids[i] = o.ClaimID
	}
	cs, err := selectAll[Claim](ctx, s, "objected claims", claimSelect+` WHERE c.id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]Claim, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	out := make([]ObjectedClaim, 0, len(os))
	for _, o := range os {
		out = append(out, ObjectedClaim{Claim: byID[o.ClaimID], Objection: o})
	}
	return out, nil
}

// SetObjectionCards records the outbox keys of an objection's cards.
func (s *Store) SetObjectionCards(ctx context.Context, id int64, keys []string) error {
	if keys == nil {
		keys = []string{}
	}
	return exec(ctx, s, "objection cards", `UPDATE claim_objections SET card_keys = $2 WHERE id = $1`, id, pq.StringArray(keys))
}

// DecideObjection closes an open objection as upheld or dismissed with one
// conditional UPDATE: of concurrent deciders exactly one wins (ok).
func (s *Store) DecideObjection(ctx context.Context, id int64, status string, at time.Time, decider string) (ok bool, err error) {
	return execAffected(ctx, s, fmt.Sprintf("decide objection %d", id), `UPDATE claim_objections SET status = $2, decided_at = $3, decider = $4 WHERE id = $1 AND status = 'open'`,
		id, status, at, decider)
}

// InPublicity lists a village's villagers' claims approved and still in
// 公示 at t (their award effective after t), oldest first.
func (s *Store) InPublicity(ctx context.Context, villageID int64, t time.Time) ([]Claim, error) {
	return selectAll[Claim](ctx, s, "claims in publicity", claimSelect+` WHERE c.village_id = $1 AND c.kind = 'claim' AND c.status = 'approved'
		AND EXISTS (SELECT 1 FROM point_ledger l WHERE l.claim_id = c.id AND l.kind = 'award' AND l.effective_at > $2
			AND NOT EXISTS (SELECT 1 FROM point_ledger r WHERE r.reverses = l.id))
		ORDER BY c.id LIMIT 200`, villageID, t)
}

// FirstPointAt is when the first ledger entry was recorded (zero when the
// ledger is empty): no period that ended before it is settled.
func (s *Store) FirstPointAt(ctx context.Context) (time.Time, error) {
	t, _, err := getIfAny[time.Time](ctx, s, "first point", `SELECT recorded_at FROM point_ledger ORDER BY id LIMIT 1`)
	return t, err
}

// MonthlyTotal is a village's points effective in one month.
type MonthlyTotal struct {
	Month  time.Time `db:"month"`
	Points int       `db:"points"`
}

// VillageMonthlyTotals sums a village's awards and deductions (not
// redemptions) per month effective in [from, to), in loc's months.
func (s *Store) VillageMonthlyTotals(ctx context.Context, villageID int64, from, to time.Time, tz string) ([]MonthlyTotal, error) {
	return selectAll[MonthlyTotal](ctx, s, "monthly totals", `SELECT date_trunc('month', effective_at AT TIME ZONE $4) AS month, sum(points)::int AS points
		FROM point_ledger WHERE village_id = $1 AND effective_at >= $2 AND effective_at < $3 AND kind <> 'redemption'
		GROUP BY 1 ORDER BY 1`, villageID, from, to, tz)
}

// LastClaimEntry returns a claim's newest award, deduction or veto entry,
// reversed or not (the award an objection held back).
func (s *Store) LastClaimEntry(ctx context.Context, claimID int64) (PointEntry, error) {
	return getOne[PointEntry](ctx, s, fmt.Sprintf("ledger entry of claim %d", claimID), pointEntrySelect+` WHERE l.claim_id = $1 AND l.kind IN ('award','deduction','veto') ORDER BY l.id DESC LIMIT 1`, claimID)
}

// InsertSettlementPost marks a settlement as to be announced.
func (s *Store) InsertSettlementPost(ctx context.Context, settlementID int64) error {
	return exec(ctx, s, "settlement post", `INSERT INTO settlement_posts (settlement_id) VALUES ($1) ON CONFLICT DO NOTHING`, settlementID)
}

// PendingSettlementPosts lists the settlements waiting to be announced,
// oldest first.
func (s *Store) PendingSettlementPosts(ctx context.Context) ([]Settlement, error) {
	return selectAll[Settlement](ctx, s, "pending settlement posts", `SELECT st.id, st.village_id, u.code AS village_code, u.name AS village_name, st.period, st.kind,
		st.period_start, st.period_end, st.closed_at, st.households, st.ranking
		FROM settlement_posts sp JOIN settlements st ON st.id = sp.settlement_id JOIN units u ON u.id = st.village_id
		WHERE sp.posted_at IS NULL ORDER BY st.id LIMIT 5000`)
}

// MarkSettlementPosted records that a settlement was announced; ok is false
// when it was already (another run took it).
func (s *Store) MarkSettlementPosted(ctx context.Context, settlementID int64, at time.Time) (bool, error) {
	return execAffected(ctx, s, "settlement posted", `UPDATE settlement_posts SET posted_at = $2 WHERE settlement_id = $1 AND posted_at IS NULL`, settlementID, at)
}
