package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

// Ledger entry kinds.
const (
	EntryAward      = "award"
	EntryDeduction  = "deduction"
	EntryVeto       = "veto"
	EntryRedemption = "redemption"
	EntryReversal   = "reversal"
)

// PointEntry is one line of the append-only points ledger.
type PointEntry struct {
	ID            int64     `db:"id"`
	HouseholdID   int64     `db:"household_id"`
	HouseholdCode string    `db:"household_code"`
	VillageID     int64     `db:"village_id"`
	VillageCode   string    `db:"village_code"`
	Kind          string    `db:"kind"`
	Points        int       `db:"points"`
	ClaimID       *int64    `db:"claim_id"`
	Reverses      *int64    `db:"reverses"`
	ItemCode      string    `db:"item_code"`
	ItemName      string    `db:"item_name"`
	Goods         string    `db:"goods"`
	Note          string    `db:"note"`
	RecordedAt    time.Time `db:"recorded_at"`
	EffectiveAt   time.Time `db:"effective_at"`
	RecordedBy    *int64    `db:"recorded_by"`
	Actor         string    `db:"actor"`
	RecorderName  string    `db:"recorder_name"`
}

const pointEntrySelect = `SELECT l.id, l.household_id, h.code AS household_code, l.village_id, u.code AS village_code, l.kind, l.points,
	l.claim_id, l.reverses, l.item_code, l.item_name, l.goods, l.note, l.recorded_at, l.effective_at, l.recorded_by, l.actor,
	COALESCE(p.name, '') AS recorder_name
	FROM point_ledger l
	JOIN households h ON h.id = l.household_id
	JOIN units u ON u.id = l.village_id
	LEFT JOIN people p ON p.id = l.recorded_by`

// AppendPointEntry appends an entry and returns its id. Nothing ever updates or
// deletes one: the database refuses it.
func (s *Store) AppendPointEntry(ctx context.Context, e PointEntry) (int64, error) {
	var id int64
	var by any
	if e.RecordedBy != nil && *e.RecordedBy != 0 {
		by = *e.RecordedBy
	}
	err := s.q.QueryRowxContext(ctx, `
		INSERT INTO point_ledger (household_id, village_id, kind, points, claim_id, reverses, item_code, item_name, goods, note,
			recorded_at, effective_at, recorded_by, actor)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		e.HouseholdID, e.VillageID, e.Kind, e.Points, e.ClaimID, e.Reverses, e.ItemCode, e.ItemName, e.Goods, e.Note,
		e.RecordedAt, e.EffectiveAt, by, e.Actor).Scan(&id)
	if err != nil {
		if isUnique(err) {
			return 0, fmt.Errorf("storage: append ledger: entry %v already reversed: %w", e.Reverses, domain.ErrConflict)
		}
		return 0, fmt.Errorf("storage: append ledger: %w", err)
	}
	return id, nil
}

// PointEntryByID loads an entry.
func (s *Store) PointEntryByID(ctx context.Context, id int64) (PointEntry, error) {
	return getOne[PointEntry](ctx, s, fmt.Sprintf("ledger entry %d", id), pointEntrySelect+` WHERE l.id = $1`, id)
}

// ClaimEntry returns the claim's entry (award, deduction or veto) that no
// reversal cancels yet: what an objection reverses.
func (s *Store) ClaimEntry(ctx context.Context, claimID int64) (PointEntry, error) {
	return getOne[PointEntry](ctx, s, fmt.Sprintf("ledger entry of claim %d", claimID), pointEntrySelect+` WHERE l.claim_id = $1 AND l.kind IN ('award','deduction','veto')
		AND NOT EXISTS (SELECT 1 FROM point_ledger r WHERE r.reverses = l.id) ORDER BY l.id DESC LIMIT 1`, claimID)
}

// PointBalance returns a household's balance at t (entries effective at or
// before t) and the points still in publicity (effective after t): the
// maintained total (migration 00025) minus an index-only range over the
// entries effective after t.
func (s *Store) PointBalance(ctx context.Context, householdID int64, t time.Time) (balance, publicity int, err error) {
	err = s.q.QueryRowxContext(ctx, `
		SELECT COALESCE((SELECT points FROM point_totals WHERE household_id = $1), 0) - f.publicity, f.publicity
		FROM (SELECT COALESCE(sum(points), 0) AS publicity FROM point_ledger WHERE household_id = $1 AND effective_at > $2) f`,
		householdID, t).Scan(&balance, &publicity)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: balance: %w", err)
	}
	return balance, publicity, nil
}

// PointLedgerRow is an entry with the household's running balance after it, in
// order of effect (effective_at, then id): what an accountant reads.
type PointLedgerRow struct {
	PointEntry
	VillageName string `db:"village_name"`
	Members     string `db:"members"`
	// HouseholdName is how people read the household (Household.Label).
	HouseholdName string `db:"household_name"`
	BalanceAfter  int    `db:"balance_after"`
	ReversedBy    *int64 `db:"reversed_by"`
}

// PointLedgerFilter selects ledger rows.
type PointLedgerFilter struct {
	RootID      int64 // units in this subtree (0 = all)
	HouseholdID int64 // 0 = every household
	Limit       int   // 0 = no limit (the newest when limited)
}

// PointLedger lists entries in order of effect with running balances.
func (s *Store) PointLedger(ctx context.Context, f PointLedgerFilter) ([]PointLedgerRow, error) {
	q := `SELECT * FROM (SELECT l.id, l.household_id, h.code AS household_code, l.village_id, u.code AS village_code, u.name AS village_name,
		COALESCE((SELECT string_agg(m.name, '、' ORDER BY m.id) FROM people m WHERE m.household_id = h.id), '') AS members,
		` + householdLabelSQL + ` AS household_name,
		l.kind, l.points, l.claim_id, l.reverses, l.item_code, l.item_name, l.goods, l.note, l.recorded_at, l.effective_at,
		l.recorded_by, l.actor, COALESCE(p.name, '') AS recorder_name,
		sum(l.points) OVER (PARTITION BY l.household_id ORDER BY l.effective_at, l.id)::int AS balance_after,
		(SELECT r.id FROM point_ledger r WHERE r.reverses = l.id) AS reversed_by
		FROM point_ledger l
		JOIN households h ON h.id = l.household_id
		JOIN units u ON u.id = l.village_id
		LEFT JOIN people p ON p.id = l.recorded_by
		WHERE ($1 = 0 OR u.path @> ARRAY[$1::bigint]) AND ($2 = 0 OR l.household_id = $2)) x`
	if f.Limit > 0 {
		q += fmt.Sprintf(` ORDER BY x.effective_at DESC, x.id DESC LIMIT %d`, f.Limit)
	} else {
		q += ` ORDER BY x.village_code, x.household_code, x.effective_at, x.id`
	}
	return selectAll[PointLedgerRow](ctx, s, "ledger", q, f.RootID, f.HouseholdID)
}

// PeriodTotal is a household's points in a period, for rankings.
type PeriodTotal struct {
	HouseholdID int64  `db:"household_id"`
	VillageID   int64  `db:"village_id"`
	Code        string `db:"code"`
	Members     string `db:"members"`
	Head        string `db:"head"` // the head's name, "" when none is recorded
	Points      int    `db:"points"`
	Vetoed      bool   `db:"vetoed"`
}

// PeriodTotals returns every household of the villages with its points
// effective in [from, to) — awards, deductions and their reversals, not
// redemptions, which spend points and do not lower a rank — and whether an
// approved veto's window overlaps the period (a veto without a window: was
// recorded in it). Households without entries
// count 0.
func (s *Store) PeriodTotals(ctx context.Context, villageIDs []int64, from, to time.Time) ([]PeriodTotal, error) {
	return selectAll[PeriodTotal](ctx, s, "period totals", `
		WITH sums AS (
			SELECT household_id, sum(points)::int AS points FROM point_ledger
			WHERE village_id = ANY($1) AND effective_at >= $2 AND effective_at < $3 AND kind <> 'redemption'
			GROUP BY household_id
		), `+periodTotalsTail, pq.Array(villageIDs), from, to)
}

// periodTotalsTail completes a period-totals statement whose sums CTE
// gives each household's points ($1 villages, $2 and $3 the period):
// every household of the villages, its members, head and veto.
const periodTotalsTail = `vetoes AS (
			SELECT DISTINCT household_id FROM claims
			WHERE village_id = ANY($1) AND veto AND status = 'approved'
			  AND (veto_from IS NULL AND claimed_at >= $2 AND claimed_at < $3 OR veto_from < $3 AND veto_until > $2)
		)
		SELECT h.id AS household_id, h.unit_id AS village_id, h.code,
			COALESCE((SELECT string_agg(p.name, '、' ORDER BY p.id) FROM people p WHERE p.household_id = h.id), '') AS members,
			COALESCE((SELECT p.name FROM people p WHERE p.id = h.head_id AND p.household_id = h.id), '') AS head,
			COALESCE(s.points, 0) AS points, v.household_id IS NOT NULL AS vetoed
		FROM households h
		LEFT JOIN sums s ON s.household_id = h.id
		LEFT JOIN vetoes v ON v.household_id = h.id
		WHERE h.unit_id = ANY($1)
		ORDER BY h.unit_id, h.id`

// SettledSpan is a settlement's village and period, without its ranking.
type SettledSpan struct {
	ID        int64     `db:"id"`
	VillageID int64     `db:"village_id"`
	Start     time.Time `db:"period_start"`
	End       time.Time `db:"period_end"`
}

// SettledWithin lists the villages' settlements of kind whose period lies
// within [from, to), by village and start.
func (s *Store) SettledWithin(ctx context.Context, villageIDs []int64, kind string, from, to time.Time) ([]SettledSpan, error) {
	return selectAll[SettledSpan](ctx, s, fmt.Sprintf("settlements within %s", kind), `SELECT id, village_id, period_start, period_end FROM settlements
		WHERE village_id = ANY($1) AND kind = $2 AND period_start >= $3 AND period_end <= $4
		ORDER BY village_id, period_start`, pq.Array(villageIDs), kind, from, to)
}

// LedgerGap is a stretch of a village's ledger to sum.
type LedgerGap struct {
	VillageID int64
	From, To  time.Time
}

// PeriodTotalsFrom is PeriodTotals for [from, to) built from shorter
// settlements already made: each household's points are the sum of its
// points in the frozen rankings of settled (settlement ids, which must not
// overlap) plus its ledger points in gaps, the stretches no settlement
// covers (redemptions left out as in PeriodTotals). A household is matched
// to a ranking row by its village and code, which never change. The veto
// is read for the whole period, as in PeriodTotals.
func (s *Store) PeriodTotalsFrom(ctx context.Context, villageIDs []int64, from, to time.Time, settled []int64, gaps []LedgerGap) ([]PeriodTotal, error) {
	gv, gf, gt := make([]int64, len(gaps)), make([]time.Time, len(gaps)), make([]time.Time, len(gaps))
	for i, g := range gaps {
		gv[i], gf[i], gt[i] = g.VillageID, g.From, g.To
	}
	return selectAll[PeriodTotal](ctx, s, "period totals from settlements", `
		WITH parts AS (
			SELECT h.id AS household_id, r.points FROM settlements st
			CROSS JOIN LATERAL jsonb_to_recordset(st.ranking) AS r(household text, points int)
			JOIN households h ON h.unit_id = st.village_id AND h.code = r.household
			WHERE st.id = ANY($4)
			UNION ALL
			SELECT l.household_id, l.points
			FROM unnest($5::bigint[], $6::timestamptz[], $7::timestamptz[]) AS g(village_id, gap_from, gap_to)
			JOIN point_ledger l ON l.village_id = g.village_id AND l.effective_at >= g.gap_from AND l.effective_at < g.gap_to
			WHERE l.kind <> 'redemption'
		), sums AS (
			SELECT household_id, sum(points)::int AS points FROM parts GROUP BY household_id
		), `+periodTotalsTail, pq.Array(villageIDs), from, to, pq.Array(settled), pq.Array(gv), pq.Array(gf), pq.Array(gt))
}

// PointsSnapshot is what /points shows of a household, read in one round
// trip: its balance at an instant, the points still in publicity, its
// pending claims and its newest entries (newest first).
type PointsSnapshot struct {
	Household
	Balance       int
	Publicity     int
	PendingPoints int
	PendingCount  int
	Entries       []PointEntry
}

// householdPointsQuery is /points in one prepared statement and one row:
// the household ($1, or when 0 the household of person $2), its balance at
// $3 (the maintained total of migration 00025 minus the entries effective
// after $3, the few still in publicity), its pending claims and its $4
// newest entries as one JSON array (short keys: snapshotEntry), so that the
// household's columns are not sent and scanned once per entry. json_agg of
// the aliased rows costs the server 12–20 µs a call less than
// json_build_object per entry (which resolves its variadic arguments' types
// on every call).
const householdPointsQuery = `
	SELECT h.id, h.unit_id, u.code, u.name, h.code, h.name,
		COALESCE((SELECT string_agg(p.name, '、' ORDER BY p.id) FROM people p WHERE p.household_id = h.id), ''),
		COALESCE(hp.name, ''), COALESCE(t.points, 0) - f.publicity, f.publicity, c.pending_points, c.pending_count, e.entries
	FROM households h
	JOIN units u ON u.id = h.unit_id
	LEFT JOIN people hp ON hp.id = h.head_id AND hp.household_id = h.id
	LEFT JOIN point_totals t ON t.household_id = h.id
	CROSS JOIN LATERAL (SELECT COALESCE(sum(l.points), 0) AS publicity
		FROM point_ledger l WHERE l.household_id = h.id AND l.effective_at > $3::timestamptz) f
	CROSS JOIN LATERAL (SELECT COALESCE(sum(cl.points), 0) AS pending_points, count(*) AS pending_count
		FROM claims cl WHERE cl.household_id = h.id AND cl.status = 'pending') c
	CROSS JOIN LATERAL (SELECT json_agg(x ORDER BY x.i DESC) AS entries
		FROM (SELECT l.id AS i, l.kind AS k, l.points AS p, l.claim_id AS c, l.reverses AS r, l.item_code AS ic, l.item_name AS "in",
				l.goods AS g, l.note AS n, l.recorded_at AS ra, l.effective_at AS ea, l.actor AS a
			FROM point_ledger l WHERE l.household_id = h.id ORDER BY l.id DESC LIMIT $4::int) x) e
	WHERE h.id = CASE WHEN $1::bigint <> 0 THEN $1::bigint
		ELSE (SELECT pp.household_id FROM people pp WHERE pp.id = $2::bigint) END`

// snapshotEntry is one entry of householdPointsQuery's JSON array.
type snapshotEntry struct {
	ID          int64     `json:"i"`
	Kind        string    `json:"k"`
	Points      int       `json:"p"`
	ClaimID     *int64    `json:"c"`
	Reverses    *int64    `json:"r"`
	ItemCode    string    `json:"ic"`
	ItemName    string    `json:"in"`
	Goods       string    `json:"g"`
	Note        string    `json:"n"`
	RecordedAt  time.Time `json:"ra"`
	EffectiveAt time.Time `json:"ea"`
	Actor       string    `json:"a"`
}

// HouseholdPoints reads a household's snapshot at t with its n newest
// entries in one prepared statement (householdPointsQuery; prepared so that
// PostgreSQL plans it once per connection: /points is the command
// villagers send most). The household is householdID, or, when that is 0,
// the household of personID.
func (s *Store) HouseholdPoints(ctx context.Context, householdID, personID int64, t time.Time, n int) (PointsSnapshot, error) {
	st, err := s.prepared(ctx, householdPointsQuery)
	if err != nil {
		return PointsSnapshot{}, fmt.Errorf("storage: household points: %w", err)
	}
	var p PointsSnapshot
	var entries []byte
	err = st.QueryRowContext(ctx, householdID, personID, t, n).Scan(&p.ID, &p.VillageID, &p.VillageCode, &p.VillageName, &p.Code,
		&p.Name, &p.Members, &p.Head, &p.Balance, &p.Publicity, &p.PendingPoints, &p.PendingCount, &entries)
	if errors.Is(err, sql.ErrNoRows) {
		return PointsSnapshot{}, fmt.Errorf("storage: household points: %w", domain.ErrNotFound)
	}
	if err != nil {
		return PointsSnapshot{}, fmt.Errorf("storage: household points: %w", err)
	}
	if entries == nil {
		return p, nil
	}
	var es []snapshotEntry
	if err := gojson.Unmarshal(entries, &es); err != nil {
		return PointsSnapshot{}, fmt.Errorf("storage: household points: entries: %w", err)
	}
	p.Entries = make([]PointEntry, len(es))
	for i, e := range es {
		p.Entries[i] = PointEntry{ID: e.ID, HouseholdID: p.ID, HouseholdCode: p.Code, VillageID: p.VillageID, VillageCode: p.VillageCode,
			Kind: e.Kind, Points: e.Points, ClaimID: e.ClaimID, Reverses: e.Reverses, ItemCode: e.ItemCode, ItemName: e.ItemName,
			Goods: e.Goods, Note: e.Note, RecordedAt: e.RecordedAt, EffectiveAt: e.EffectiveAt, Actor: e.Actor}
	}
	return p, nil
}
