package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

// Checkin is one stored check-in (a held meeting) with the obligations it
// counts for. Withdrawn and rejected check-ins are kept and marked.
type Checkin struct {
	ID             int64          `db:"id"`
	BranchID       int64          `db:"branch_id"`
	BranchCode     string         `db:"branch_code"`
	BranchName     string         `db:"branch_name"`
	HeldOn         string         `db:"held_on"` // YYYY-MM-DD
	Present        *int           `db:"present"`
	Total          *int           `db:"total"`
	Topic          string         `db:"topic"`
	Evidence       pq.StringArray `db:"evidence"`
	MediaGroupID   *string        `db:"media_group_id"`
	Source         string         `db:"source"`
	ChatID         *int64         `db:"chat_id"`
	MessageID      *int64         `db:"message_id"`
	RecordedBy     *int64         `db:"recorded_by"`
	RecordedByName *string        `db:"recorded_by_name"`
	RecordedAt     time.Time      `db:"recorded_at"`
	WithdrawnAt    *time.Time     `db:"withdrawn_at"`
	RejectedAt     *time.Time     `db:"rejected_at"`
	RejectedBy     *int64         `db:"rejected_by"`
	RejectReason   *string        `db:"reject_reason"`
	Items          []CheckinItem  `db:"-"`
}

// Active reports whether the check-in counts: neither withdrawn nor rejected.
func (c Checkin) Active() bool { return c.WithdrawnAt == nil && c.RejectedAt == nil }

// CheckinItem is one obligation and period a check-in counts for, for the
// branch or, for per-group obligations, one party group.
type CheckinItem struct {
	CheckinID  int64  `db:"checkin_id"`
	Obligation string `db:"obligation"`
	Period     string `db:"period"`
	UnitID     int64  `db:"unit_id"`
	UnitCode   string `db:"unit_code"`
	UnitName   string `db:"unit_name"`
	Late       bool   `db:"late"`
	Extra      bool   `db:"extra"`
	// BelowQuorum: recorded, but too few present to count (支部党员大会).
	BelowQuorum bool `db:"below_quorum"`
	Pos         int  `db:"pos"`
}

// NewCheckin is a check-in to insert.
type NewCheckin struct {
	BranchID       int64
	HeldOn         string // YYYY-MM-DD
	Present, Total int    // both 0 when not given
	Topic          string
	Evidence       []string
	MediaGroupID   string
	Source         string // "telegram", "api"
	ChatID         int64
	MessageID      int64
	RecordedBy     int64 // 0 when not a person (API token)
	RecordedAt     time.Time
}

const checkinCols = `c.id, c.branch_id, b.code AS branch_code, b.name AS branch_name,
	to_char(c.held_on, 'YYYY-MM-DD') AS held_on, c.present, c.total, c.topic, c.evidence,
	c.media_group_id, c.source, c.chat_id, c.message_id, c.recorded_by, p.name AS recorded_by_name,
	c.recorded_at, c.withdrawn_at, c.rejected_at, c.rejected_by, c.reject_reason`

const checkinFrom = ` FROM checkins c JOIN units b ON b.id = c.branch_id LEFT JOIN people p ON p.id = c.recorded_by`

// LockCheckinBranch serialises check-ins of one branch until the end of the
// transaction, so that two check-ins for one period cannot both be taken as
// the first (the second is an extra record).
func (s *Store) LockCheckinBranch(ctx context.Context, branchID int64) error {
	return exec(ctx, s, fmt.Sprintf("lock branch %d for check-in", branchID), `SELECT pg_advisory_xact_lock(hashtextextended('checkin-branch:' || $1::text, 0))`, branchID)
}

// LockAlbum takes the per-album lock, until the end of the transaction, so
// that recording an album's check-in and attaching its photos serialise.
func (s *Store) LockAlbum(ctx context.Context, chatID int64, mediaGroupID string) error {
	return exec(ctx, s, "lock album", `SELECT pg_advisory_xact_lock(hashtextextended('checkin-album:' || $1::text || ':' || $2, 0))`, chatID, mediaGroupID)
}

// AlbumPhotos lists the file ids of an album's photos seen so far, in the
// order their updates arrived.
func (s *Store) AlbumPhotos(ctx context.Context, chatID int64, mediaGroupID string) ([]string, error) {
	return selectAll[string](ctx, s, "album photos", `SELECT file_id FROM checkin_album_photos WHERE chat_id = $1 AND media_group_id = $2 ORDER BY update_id, file_id`, chatID, mediaGroupID)
}

// AddAlbumPhoto remembers one photo of an album and appends it to the
// album's check-in if that exists. Call it after LockAlbum.
func (s *Store) AddAlbumPhoto(ctx context.Context, chatID int64, mediaGroupID, fileID string, updateID int64) error {
	if err := exec(ctx, s, "album photo", `INSERT INTO checkin_album_photos (chat_id, media_group_id, file_id, update_id)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, chatID, mediaGroupID, fileID, updateID); err != nil {
		return err
	}
	return exec(ctx, s, "album photo", `UPDATE checkins SET evidence = evidence || $3::text
		WHERE chat_id = $1 AND media_group_id = $2 AND NOT ($3 = ANY (evidence))`, chatID, mediaGroupID, fileID)
}

// InsertCheckin stores a check-in (without items) and returns its id.
func (s *Store) InsertCheckin(ctx context.Context, c NewCheckin) (int64, error) {
	var present, total any
	if c.Total > 0 {
		present, total = c.Present, c.Total
	}
	if c.Evidence == nil {
		c.Evidence = []string{}
	}
	return getValue[int64](ctx, s, "insert check-in", `
		INSERT INTO checkins (branch_id, held_on, present, total, topic, evidence, media_group_id, source,
			chat_id, message_id, recorded_by, recorded_at)
		VALUES ($1, $2::date, $3, $4, $5, $6, NULLIF($7, ''), $8, NULLIF($9::bigint, 0), NULLIF($10::bigint, 0), NULLIF($11::bigint, 0), $12)
		RETURNING id`,
		c.BranchID, c.HeldOn, present, total, c.Topic, pq.StringArray(c.Evidence), c.MediaGroupID, c.Source,
		c.ChatID, c.MessageID, c.RecordedBy, c.RecordedAt)
}

// InsertCheckinItem stores one obligation/period of a check-in.
func (s *Store) InsertCheckinItem(ctx context.Context, it CheckinItem) error {
	return exec(ctx, s, "insert check-in item", `
		INSERT INTO checkin_items (checkin_id, obligation, period, unit_id, late, extra, pos, below_quorum)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		it.CheckinID, it.Obligation, it.Period, it.UnitID, it.Late, it.Extra, it.Pos, it.BelowQuorum)
}

// CheckinDone reports whether an active check-in (neither withdrawn nor
// rejected) exists for the unit, obligation and period.
func (s *Store) CheckinDone(ctx context.Context, unitID int64, obligation, period string) (bool, error) {
	return getValue[bool](ctx, s, "check-in done", `
		SELECT EXISTS (SELECT 1 FROM checkin_items ci JOIN checkins c ON c.id = ci.checkin_id
			WHERE ci.unit_id = $1 AND ci.obligation = $2 AND ci.period = $3
			  AND c.withdrawn_at IS NULL AND c.rejected_at IS NULL AND NOT ci.below_quorum)`, unitID, obligation, period)
}

// DoneKey names one (unit, obligation, period) that has an active check-in.
type DoneKey struct {
	UnitID     int64  `db:"unit_id"`
	Obligation string `db:"obligation"`
	Period     string `db:"period"`
}

// CheckedIn lists the (unit, obligation, period) of the branch (and its
// party groups) that have an active check-in.
func (s *Store) CheckedIn(ctx context.Context, branchID int64) (map[DoneKey]bool, error) {
	ks, err := selectAll[DoneKey](ctx, s, fmt.Sprintf("checked-in items of %d", branchID), `
		SELECT DISTINCT ci.unit_id, ci.obligation, ci.period
		FROM checkin_items ci JOIN checkins c ON c.id = ci.checkin_id
		WHERE c.branch_id = $1 AND c.withdrawn_at IS NULL AND c.rejected_at IS NULL AND NOT ci.below_quorum`, branchID)
	if err != nil {
		return nil, err
	}
	out := make(map[DoneKey]bool, len(ks))
	for _, k := range ks {
		out[k] = true
	}
	return out, nil
}

// BelowQuorum is a (unit, obligation, period) with an active check-in held
// below quorum, and the best attendance among them.
type BelowQuorum struct {
	DoneKey
	Present int `db:"present"`
	Total   int `db:"total"`
}

// BelowQuorumItems lists the items, under rootID (0 = everywhere), whose
// active check-ins were all held below quorum. They are few: each one is a
// meeting to be held again.
func (s *Store) BelowQuorumItems(ctx context.Context, rootID int64) ([]BelowQuorum, error) {
	return selectAll[BelowQuorum](ctx, s, "below-quorum items", `
		SELECT DISTINCT ON (ci.unit_id, ci.obligation, ci.period) ci.unit_id, ci.obligation, ci.period,
		       COALESCE(c.present, 0) AS present, COALESCE(c.total, 0) AS total
		FROM checkin_items ci
		JOIN checkins c ON c.id = ci.checkin_id
		JOIN units u ON u.id = ci.unit_id
		WHERE ci.below_quorum AND c.withdrawn_at IS NULL AND c.rejected_at IS NULL
		  AND ($1 = 0 OR u.path @> ARRAY[$1::bigint])
		ORDER BY ci.unit_id, ci.obligation, ci.period, c.present DESC NULLS LAST`, rootID)
}

// GroupsOf lists the party groups (units of kind group) directly under a
// branch, by code.
func (s *Store) GroupsOf(ctx context.Context, branchID int64) ([]domain.Unit, error) {
	return selectAll[domain.Unit](ctx, s, fmt.Sprintf("groups of %d", branchID), `SELECT `+unitCols+` FROM units u WHERE u.parent_id = $1 AND u.kind = 'group' ORDER BY u.code`, branchID)
}

// CheckinByID loads a check-in with its items.
func (s *Store) CheckinByID(ctx context.Context, id int64) (Checkin, error) {
	return s.checkinWhere(ctx, fmt.Sprintf("check-in %d", id), `c.id = $1`, id)
}

// LastCheckinBy loads the most recent active check-in recorded by a person.
func (s *Store) LastCheckinBy(ctx context.Context, personID int64) (Checkin, error) {
	return s.checkinWhere(ctx, fmt.Sprintf("last check-in of person %d", personID), `
		c.recorded_by = $1 AND c.withdrawn_at IS NULL AND c.rejected_at IS NULL
		ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1`, personID)
}

// CheckinFilter selects check-ins for listing.
type CheckinFilter struct {
	RootID   int64  // unit subtree; 0 = every unit
	From, To string // held_on bounds, YYYY-MM-DD, inclusive; "" = open
	Limit    int    // 0 = no limit
	// Before, when set, lists only check-ins after it in the newest-first
	// order (held earlier, or on the same day with a smaller id): the next page.
	Before *CheckinKey
}

// CheckinKey is a check-in's place in the newest-first order.
type CheckinKey struct {
	HeldOn string // YYYY-MM-DD
	ID     int64
}

// Checkins lists check-ins of branches in a subtree, newest activity first.
func (s *Store) Checkins(ctx context.Context, f CheckinFilter) ([]Checkin, error) {
	limit := any(nil)
	if f.Limit > 0 {
		limit = f.Limit
	}
	var beforeDay any
	var beforeID int64
	if f.Before != nil {
		beforeDay, beforeID = f.Before.HeldOn, f.Before.ID
	}
	return s.checkinsWhere(ctx, "check-ins", `
		($1::bigint = 0 OR b.path @> ARRAY[$1::bigint])
		  AND ($2 = '' OR c.held_on >= $2::date)
		  AND ($3 = '' OR c.held_on <= $3::date)
		  AND ($5::date IS NULL OR (c.held_on, c.id) < ($5::date, $6::bigint))
		ORDER BY c.held_on DESC, c.id DESC
		LIMIT $4`, f.RootID, f.From, f.To, limit, beforeDay, beforeID)
}

// checkinsWhere loads, with their items, the check-ins that cond selects
// (what follows WHERE, order and limit included).
func (s *Store) checkinsWhere(ctx context.Context, what, cond string, args ...any) ([]Checkin, error) {
	cs, err := selectAll[Checkin](ctx, s, what, `SELECT `+checkinCols+checkinFrom+` WHERE `+cond, args...)
	if err != nil {
		return nil, err
	}
	ptrs := make([]*Checkin, len(cs))
	for i := range cs {
		ptrs[i] = &cs[i]
	}
	if err := s.loadItems(ctx, ptrs); err != nil {
		return nil, err
	}
	return cs, nil
}

// checkinWhere is checkinsWhere for the one check-in cond selects; none is
// domain.ErrNotFound.
func (s *Store) checkinWhere(ctx context.Context, what, cond string, args ...any) (Checkin, error) {
	cs, err := s.checkinsWhere(ctx, what, cond, args...)
	return only(what, cs, err)
}

func (s *Store) loadItems(ctx context.Context, cs []*Checkin) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]int64, len(cs))
	byID := make(map[int64]*Checkin, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
		byID[c.ID] = c
		c.Items = []CheckinItem{}
	}
	its, err := selectAll[CheckinItem](ctx, s, "check-in items", `
		SELECT ci.checkin_id, ci.obligation, ci.period, ci.unit_id, u.code AS unit_code, u.name AS unit_name,
		       ci.late, ci.extra, ci.pos, ci.below_quorum
		FROM checkin_items ci JOIN units u ON u.id = ci.unit_id
		WHERE ci.checkin_id = ANY($1) ORDER BY ci.checkin_id, ci.pos, ci.obligation, u.code`, pq.Array(ids))
	if err != nil {
		return err
	}
	for _, it := range its {
		c := byID[it.CheckinID]
		c.Items = append(c.Items, it)
	}
	return nil
}

// WithdrawCheckin marks an active check-in withdrawn (/undo). It reports
// false when it was already withdrawn or rejected.
func (s *Store) WithdrawCheckin(ctx context.Context, id int64, at time.Time) (bool, error) {
	return execAffected(ctx, s, fmt.Sprintf("withdraw check-in %d", id), `UPDATE checkins SET withdrawn_at = $2
		WHERE id = $1 AND withdrawn_at IS NULL AND rejected_at IS NULL`, id, at)
}

// RejectCheckin marks an active check-in rejected (驳回) with a reason. It
// reports false when it was already withdrawn or rejected.
func (s *Store) RejectCheckin(ctx context.Context, id, by int64, reason string, at time.Time) (bool, error) {
	return execAffected(ctx, s, fmt.Sprintf("reject check-in %d", id), `UPDATE checkins SET rejected_at = $4, rejected_by = NULLIF($2::bigint, 0), reject_reason = $3
		WHERE id = $1 AND withdrawn_at IS NULL AND rejected_at IS NULL`, id, by, reason, at)
}

// LedgerRow is one line of the check-in ledger (台账): one (check-in,
// obligation, unit).
type LedgerRow struct {
	CheckinID     int64      `db:"checkin_id"`
	UnitPath      string     `db:"unit_path"` // names from the county down to the item's unit
	BranchCode    string     `db:"branch_code"`
	BranchName    string     `db:"branch_name"`
	UnitCode      string     `db:"unit_code"` // the branch, or the party group
	UnitName      string     `db:"unit_name"`
	UnitKind      string     `db:"unit_kind"`
	Obligation    string     `db:"obligation"`
	Period        string     `db:"period"`
	HeldOn        string     `db:"held_on"`
	Present       *int       `db:"present"`
	Total         *int       `db:"total"`
	Topic         string     `db:"topic"`
	EvidenceCount int        `db:"evidence_count"`
	RecordedBy    *string    `db:"recorded_by"`
	Source        string     `db:"source"`
	RecordedAt    time.Time  `db:"recorded_at"`
	Late          bool       `db:"late"`
	Extra         bool       `db:"extra"`
	WithdrawnAt   *time.Time `db:"withdrawn_at"`
	RejectedAt    *time.Time `db:"rejected_at"`
	RejectReason  *string    `db:"reject_reason"`
}

// CheckinLedger lists the ledger of the branches in root's subtree (0 =
// every branch), by unit path, date and check-in, obligations as written.
func (s *Store) CheckinLedger(ctx context.Context, rootID int64) ([]LedgerRow, error) {
	return selectAll[LedgerRow](ctx, s, "check-in ledger", `
		SELECT c.id AS checkin_id,
		       (SELECT string_agg(a.name, '/' ORDER BY x.n) FROM unnest(iu.path) WITH ORDINALITY AS x(id, n)
		        JOIN units a ON a.id = x.id) AS unit_path,
		       b.code AS branch_code, b.name AS branch_name,
		       iu.code AS unit_code, iu.name AS unit_name, iu.kind AS unit_kind,
		       ci.obligation, ci.period, to_char(c.held_on, 'YYYY-MM-DD') AS held_on,
		       c.present, c.total, c.topic, cardinality(c.evidence) AS evidence_count,
		       p.name AS recorded_by, c.source, c.recorded_at, ci.late, ci.extra,
		       c.withdrawn_at, c.rejected_at, c.reject_reason
		FROM checkin_items ci
		JOIN checkins c ON c.id = ci.checkin_id
		JOIN units b ON b.id = c.branch_id
		JOIN units iu ON iu.id = ci.unit_id
		LEFT JOIN people p ON p.id = c.recorded_by
		WHERE ($1::bigint = 0 OR b.path @> ARRAY[$1::bigint])
		ORDER BY b.path, c.held_on, c.id, ci.pos, iu.code`, rootID)
}

// PendingCheckin is a check-in waiting for the sender to choose a branch.
type PendingCheckin struct {
	ID        int64           `db:"id"`
	PersonID  int64           `db:"person_id"`
	ChatID    int64           `db:"chat_id"`
	Request   json.RawMessage `db:"request"`
	CreatedAt time.Time       `db:"created_at"`
	UsedAt    *time.Time      `db:"used_at"`
}

// CreatePendingCheckin stores a check-in request awaiting a branch choice.
func (s *Store) CreatePendingCheckin(ctx context.Context, personID, chatID int64, request any, at time.Time) (int64, error) {
	raw, err := json.Marshal(request)
	if err != nil {
		return 0, fmt.Errorf("storage: pending check-in: %w", err)
	}
	return getValue[int64](ctx, s, "pending check-in", `INSERT INTO checkin_pending (person_id, chat_id, request, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		personID, chatID, string(raw), at)
}

// LockPendingCheckin loads a pending check-in and locks it until the end of
// the transaction, so that two taps on its buttons are taken one at a time.
func (s *Store) LockPendingCheckin(ctx context.Context, id int64) (PendingCheckin, error) {
	return getOne[PendingCheckin](ctx, s, fmt.Sprintf("pending check-in %d", id), `SELECT id, person_id, chat_id, request, created_at, used_at FROM checkin_pending WHERE id = $1 FOR UPDATE`, id)
}

// UsePendingCheckin marks a pending check-in used; false when it already was.
func (s *Store) UsePendingCheckin(ctx context.Context, id int64, at time.Time) (bool, error) {
	return execAffected(ctx, s, fmt.Sprintf("use pending check-in %d", id), `UPDATE checkin_pending SET used_at = $2 WHERE id = $1 AND used_at IS NULL`, id, at)
}
