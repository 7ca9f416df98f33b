package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Claim statuses.
const (
	ClaimPending  = "pending"
	ClaimApproved = "approved"
	ClaimRejected = "rejected"
	ClaimFrozen   = "frozen"
)

// Claim kinds: a villager's claim, or a deduction/veto a reviewer recorded.
const (
	ClaimKindClaim     = "claim"
	ClaimKindDeduction = "deduction"
)

// Household is a household (户) of a village, with its members' names.
type Household struct {
	ID          int64  `db:"id"`
	VillageID   int64  `db:"village_id"`
	VillageCode string `db:"village_code"`
	VillageName string `db:"village_name"`
	Code        string `db:"code"`
	Name        string `db:"name"`
	Members     string `db:"members"` // names joined with 、
	Head        string `db:"head"`    // the head's name (户主), "" when none is recorded
}

// Label is how a household is shown to people: by its head (张三户) when
// one is recorded, else its name, else its first member (李四家); never by
// its code, which only a household with no members falls back to.
func (h Household) Label() string {
	return HouseholdLabel(h.Head, h.Code, h.Members, h.Name)
}

// HouseholdLabel names a household the way people do: 张三户 by its head,
// else its name (周家), else 李四家 by the first of its members (names
// joined with 、); the code only when it has none of them.
func HouseholdLabel(head, code, members, name string) string {
	switch {
	case head != "":
		return head + "户"
	case name != "":
		return name
	case members != "":
		first, _, _ := strings.Cut(members, "、")
		return first + "家"
	}
	return code
}

const householdCols = `h.id, h.unit_id AS village_id, u.code AS village_code, u.name AS village_name, h.code, h.name,
	COALESCE((SELECT string_agg(p.name, '、' ORDER BY p.id) FROM people p WHERE p.household_id = h.id), '') AS members,
	COALESCE((SELECT p.name FROM people p WHERE p.id = h.head_id AND p.household_id = h.id), '') AS head`

// HouseholdByID loads a household.
func (s *Store) HouseholdByID(ctx context.Context, id int64) (Household, error) {
	return getOne[Household](ctx, s, fmt.Sprintf("household %d", id), `SELECT `+householdCols+` FROM households h JOIN units u ON u.id = h.unit_id WHERE h.id = $1`, id)
}

// HouseholdsByCode finds the households with code in any of the villages.
func (s *Store) HouseholdsByCode(ctx context.Context, villageIDs []int64, code string) ([]Household, error) {
	return selectAll[Household](ctx, s, fmt.Sprintf("households %s", code), `SELECT `+householdCols+` FROM households h JOIN units u ON u.id = h.unit_id
		WHERE h.unit_id = ANY($1) AND h.code = $2 ORDER BY h.id`, pq.Array(villageIDs), code)
}

// LockHousehold takes the household's row lock until the transaction ends.
// It is the household's mutex: claims (caps, duplicates, rate), decisions
// and redemptions of one household take it first, so their checks hold
// under concurrency. FOR NO KEY UPDATE does not block inserts that merely
// reference the household.
func (s *Store) LockHousehold(ctx context.Context, id int64) error {
	_, err := getOne[int64](ctx, s, fmt.Sprintf("household %d", id), `SELECT id FROM households WHERE id = $1 FOR NO KEY UPDATE`, id)
	return err
}

// HouseholdChats lists the linked private chats of a household's members.
func (s *Store) HouseholdChats(ctx context.Context, householdID int64) ([]ChatLink, error) {
	return selectAll[ChatLink](ctx, s, "household chats", `
		SELECT c.person_id, c.tg_user_id, c.chat_id, c.username, c.unreachable_at IS NOT NULL AS unreachable, c.unreachable_reason
		FROM people p JOIN chat_links c ON c.person_id = p.id
		WHERE p.household_id = $1 ORDER BY p.id`, householdID)
}

// Claim is a stored claim with the names needed to show it.
type Claim struct {
	ID            int64  `db:"id"`
	VillageID     int64  `db:"village_id"`
	VillageCode   string `db:"village_code"`
	VillageName   string `db:"village_name"`
	HouseholdID   int64  `db:"household_id"`
	HouseholdCode string `db:"household_code"`
	// HouseholdName is how people read the household (Household.Label).
	HouseholdName string         `db:"household_name"`
	PersonID      *int64         `db:"person_id"`
	PersonName    string         `db:"person_name"`
	RecordedBy    *int64         `db:"recorded_by"`
	RecorderName  string         `db:"recorder_name"`
	Kind          string         `db:"kind"`
	ItemCode      string         `db:"item_code"`
	ItemName      string         `db:"item_name"`
	Category      string         `db:"category"`
	Points        int            `db:"points"`
	Veto          bool           `db:"veto"`
	Evidence      string         `db:"evidence"`
	Note          string         `db:"note"`
	Photo         *string        `db:"photo"`
	Status        string         `db:"status"`
	ClaimedAt     time.Time      `db:"claimed_at"`
	DecidedAt     *time.Time     `db:"decided_at"`
	DecidedBy     *int64         `db:"decided_by"`
	Decider       string         `db:"decider"`
	Reason        string         `db:"reason"`
	FrozenBy      *int64         `db:"frozen_by"`
	Objections    int            `db:"objections"`
	CardVersion   int            `db:"card_version"`
	CardKeys      pq.StringArray `db:"card_keys"`
	Source        string         `db:"source"`
	ActDate       *time.Time     `db:"act_date"`
	VetoFrom      *time.Time     `db:"veto_from"`
	VetoUntil     *time.Time     `db:"veto_until"`
	// EffectiveAt is when an approved claim's points take effect (the end
	// of publicity); nil unless approved.
	EffectiveAt *time.Time `db:"effective_at"`
}

// HasPhoto reports whether the claim carries a photo.
func (c Claim) HasPhoto() bool { return c.Photo != nil && *c.Photo != "" }

// householdLabelSQL is HouseholdLabel in SQL, for households h.
const householdLabelSQL = `COALESCE((SELECT p.name || '户' FROM people p WHERE p.id = h.head_id AND p.household_id = h.id), NULLIF(h.name, ''),
	(SELECT p.name || '家' FROM people p WHERE p.household_id = h.id ORDER BY p.id LIMIT 1), h.code)`

const claimSelect = `SELECT c.id, c.village_id, u.code AS village_code, u.name AS village_name, c.household_id, h.code AS household_code,
	` + householdLabelSQL + ` AS household_name,
	c.person_id, COALESCE(p.name, '') AS person_name, c.recorded_by, COALESCE(r.name, '') AS recorder_name, c.kind,
	c.item_code, c.item_name, c.category, c.points, c.veto, c.evidence, c.note, c.photo, c.status, c.claimed_at,
	c.decided_at, c.decided_by, c.decider, c.reason, c.frozen_by, c.objections, c.card_version, c.card_keys, c.source,
	c.act_date, c.veto_from, c.veto_until,
	CASE WHEN c.status = 'approved' THEN (SELECT l.effective_at FROM point_ledger l WHERE l.claim_id = c.id AND l.kind <> 'reversal'
		AND NOT EXISTS (SELECT 1 FROM point_ledger r WHERE r.reverses = l.id) ORDER BY l.id DESC LIMIT 1) END AS effective_at
	FROM claims c
	JOIN units u ON u.id = c.village_id
	JOIN households h ON h.id = c.household_id
	LEFT JOIN people p ON p.id = c.person_id
	LEFT JOIN people r ON r.id = c.recorded_by`

// NewClaim is what InsertClaim stores.
type NewClaim struct {
	VillageID, HouseholdID int64
	PersonID, RecordedBy   int64 // 0 = none
	Kind                   string
	ItemCode, ItemName     string
	Category               string
	Points                 int
	Veto                   bool
	Evidence               string
	Note                   string
	Photo                  string
	Status                 string // pending, or approved for a reviewer's deduction
	ClaimedAt              time.Time
	Decider                string
	Source                 string
	// ActDate is when the act of a deduction or veto happened (/deduct …
	// 日期); VetoFrom/VetoUntil the window a veto excludes the household for.
	ActDate             *time.Time
	VetoFrom, VetoUntil *time.Time
}

// InsertClaim stores a claim and returns its id.
func (s *Store) InsertClaim(ctx context.Context, c NewClaim) (int64, error) {
	var decidedAt, decidedBy any
	if c.Status != ClaimPending {
		decidedAt = c.ClaimedAt
		if c.RecordedBy != 0 {
			decidedBy = c.RecordedBy
		}
	}
	return getValue[int64](ctx, s, "insert claim", `
		INSERT INTO claims (village_id, household_id, person_id, recorded_by, kind, item_code, item_name, category, points, veto,
			evidence, note, photo, status, claimed_at, decided_at, decided_by, decider, source, act_date, veto_from, veto_until)
		VALUES ($1, $2, NULLIF($3, 0), NULLIF($4, 0), $5, $6, $7, $8, $9, $10, $11, $12, NULLIF($13, ''), $14, $15, $16, $17, $18, $19,
			$20::date, $21, $22)
		RETURNING id`,
		c.VillageID, c.HouseholdID, c.PersonID, c.RecordedBy, c.Kind, c.ItemCode, c.ItemName, c.Category, c.Points, c.Veto,
		c.Evidence, c.Note, c.Photo, c.Status, c.ClaimedAt, decidedAt, decidedBy, c.Decider, c.Source, dateArg(c.ActDate), c.VetoFrom, c.VetoUntil)
}

// ClaimByID loads a claim.
func (s *Store) ClaimByID(ctx context.Context, id int64) (Claim, error) {
	return getOne[Claim](ctx, s, fmt.Sprintf("claim %d", id), claimSelect+` WHERE c.id = $1`, id)
}

// LiveClaimTimes returns when the household's pending and approved claims
// of an item were made: what caps and duplicates count.
func (s *Store) LiveClaimTimes(ctx context.Context, householdID int64, itemCode string) ([]time.Time, error) {
	return selectAll[time.Time](ctx, s, "claim times", `SELECT claimed_at FROM claims
		WHERE household_id = $1 AND item_code = $2 AND status IN ('pending','approved') ORDER BY claimed_at`, householdID, itemCode)
}

// CountClaimsSince counts the claims a person submitted after since.
func (s *Store) CountClaimsSince(ctx context.Context, personID int64, since time.Time) (int, error) {
	return getValue[int](ctx, s, "count claims", `SELECT count(*) FROM claims WHERE recorded_by = $1 AND kind = 'claim' AND claimed_at > $2`, personID, since)
}

// VetoedIn reports whether the household has an approved veto whose window
// overlaps [from, to) (a veto without a window: recorded in it).
func (s *Store) VetoedIn(ctx context.Context, householdID int64, from, to time.Time) (bool, error) {
	return getValue[bool](ctx, s, "vetoed", `SELECT EXISTS (SELECT 1 FROM claims WHERE household_id = $1 AND veto AND status = 'approved'
		AND (veto_from IS NULL AND claimed_at >= $2 AND claimed_at < $3 OR veto_from < $3 AND veto_until > $2))`, householdID, from, to)
}

// ClaimDecision is a claim's decision as DecideClaim writes it.
type ClaimDecision struct {
	Status    string // approved or rejected
	At        time.Time
	By        int64 // person, 0 for an API token
	Decider   string
	Reason    string
	FromState string // the status it must have: pending (a review) or approved (an objection reopening it)
}

// DecideClaim moves a claim from d.FromState (default pending) to d.Status
// with one conditional UPDATE, so that of several concurrent deciders
// exactly one wins. ok is false when the claim was not in d.FromState.
func (s *Store) DecideClaim(ctx context.Context, id int64, d ClaimDecision) (ok bool, err error) {
	from := d.FromState
	if from == "" {
		from = ClaimPending
	}
	return execAffected(ctx, s, fmt.Sprintf("decide claim %d", id), `
		UPDATE claims SET status = $3, decided_at = $4, decided_by = NULLIF($5, 0), decider = $6, reason = $7
		WHERE id = $1 AND status = $2`, id, from, d.Status, d.At, d.By, d.Decider, d.Reason)
}

// ReopenClaim puts an approved claim back to pending for a new review round
// (an objection during publicity), bumping its card version. ok is false when
// the claim was not approved.
func (s *Store) ReopenClaim(ctx context.Context, id int64, reason string) (ok bool, err error) {
	return execAffected(ctx, s, fmt.Sprintf("reopen claim %d", id), `
		UPDATE claims SET status = 'pending', decided_at = NULL, decided_by = NULL, decider = '', reason = $2,
			objections = objections + 1, card_version = card_version + 1, card_keys = '{}'
		WHERE id = $1 AND status = 'approved'`, id, reason)
}

// SetClaimCards records the outbox dedupe keys of the claim's review cards.
func (s *Store) SetClaimCards(ctx context.Context, id int64, keys []string) error {
	if keys == nil {
		keys = []string{}
	}
	return exec(ctx, s, "claim cards", `UPDATE claims SET card_keys = $2 WHERE id = $1`, id, pq.StringArray(keys))
}

// FreezeClaims freezes the household's pending claims because of a veto
// and returns their ids.
func (s *Store) FreezeClaims(ctx context.Context, householdID, vetoID int64) ([]int64, error) {
	return selectAll[int64](ctx, s, "freeze claims", `UPDATE claims SET status = 'frozen', frozen_by = $2
		WHERE household_id = $1 AND status = 'pending' AND id <> $2 RETURNING id`, householdID, vetoID)
}

// UnfreezeClaims returns the claims a veto froze to pending (the veto was
// reopened) with a new review round, and returns their ids.
func (s *Store) UnfreezeClaims(ctx context.Context, vetoID int64) ([]int64, error) {
	return selectAll[int64](ctx, s, "unfreeze claims", `UPDATE claims SET status = 'pending', frozen_by = NULL, card_version = card_version + 1, card_keys = '{}'
		WHERE frozen_by = $1 AND status = 'frozen' RETURNING id`, vetoID)
}

// ClaimFilter selects claims for lists and exports.
type ClaimFilter struct {
	RootID     int64   // units in this subtree (0 = all)
	VillageIDs []int64 // or exactly these villages (nil = no restriction)
	Status     string  // "" = any
	Limit      int     // 0 = no limit
	Ascending  bool    // oldest first (exports); default newest first
	BeforeID   int64   // newest first only: claims older than this id (the next page)
}

// Claims lists claims.
func (s *Store) Claims(ctx context.Context, f ClaimFilter) ([]Claim, error) {
	q := claimSelect + ` WHERE ($1 = 0 OR u.path @> ARRAY[$1::bigint]) AND ($2::bigint[] IS NULL OR c.village_id = ANY($2))
		AND ($3 = '' OR c.status = $3) AND ($4::bigint = 0 OR c.id < $4)`
	before := f.BeforeID
	if f.Ascending {
		before = 0
		q += ` ORDER BY c.id`
	} else {
		q += ` ORDER BY c.id DESC`
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	var villages any
	if f.VillageIDs != nil {
		villages = pq.Array(f.VillageIDs)
	}
	return selectAll[Claim](ctx, s, "claims", q, f.RootID, villages, f.Status, before)
}

// ClaimDraft is an ambiguous claim waiting for the villager's pick.
type ClaimDraft struct {
	ID         int64          `db:"id"`
	PersonID   int64          `db:"person_id"`
	ChatID     int64          `db:"chat_id"`
	Query      string         `db:"query"`
	Note       string         `db:"note"`
	Photo      *string        `db:"photo"`
	Candidates pq.StringArray `db:"candidates"`
	CreatedAt  time.Time      `db:"created_at"`
}

// InsertDraft stores an ambiguous claim and returns its id.
func (s *Store) InsertDraft(ctx context.Context, d ClaimDraft) (int64, error) {
	return getValue[int64](ctx, s, "insert claim draft", `INSERT INTO claim_drafts (person_id, chat_id, query, note, photo, candidates, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, d.PersonID, d.ChatID, d.Query, d.Note, d.Photo, d.Candidates, d.CreatedAt)
}

// TakeDraft marks a person's draft used, once: a second tap finds nothing
// (domain.ErrNotFound), as does a draft created before notBefore.
func (s *Store) TakeDraft(ctx context.Context, id, personID int64, at, notBefore time.Time) (ClaimDraft, error) {
	return getOne[ClaimDraft](ctx, s, fmt.Sprintf("claim draft %d", id), `UPDATE claim_drafts SET used_at = $3
		WHERE id = $1 AND person_id = $2 AND used_at IS NULL AND created_at >= $4
		RETURNING id, person_id, chat_id, query, note, photo, candidates, created_at`, id, personID, at, notBefore)
}

// SetHouseholdHead records personID as the head (户主) of a household.
func (s *Store) SetHouseholdHead(ctx context.Context, householdID, personID int64) error {
	return exec(ctx, s, "household head", `UPDATE households SET head_id = $2 WHERE id = $1`, householdID, personID)
}
