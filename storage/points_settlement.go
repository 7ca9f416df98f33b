package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
)

// SettlementRow is one household's place in a settled ranking.
type SettlementRow struct {
	Rank      int    `json:"rank"` // 0 = vetoed, not ranked
	Household string `json:"household"`
	Members   string `json:"members,omitempty"`
	Head      string `json:"head,omitempty"` // the head's name (户主)
	Points    int    `json:"points"`
	Vetoed    bool   `json:"vetoed,omitempty"`
	// Stars is the yearly rating (星级文明户, 1–5; 0 = none), set only
	// in yearly settlements.
	Stars int `json:"stars,omitempty"`
}

// Settlement is a village's frozen ranking for one period.
type Settlement struct {
	ID          int64           `db:"id"`
	VillageID   int64           `db:"village_id"`
	VillageCode string          `db:"village_code"`
	VillageName string          `db:"village_name"`
	Period      string          `db:"period"`
	Kind        string          `db:"kind"`
	Start       time.Time       `db:"period_start"`
	End         time.Time       `db:"period_end"`
	ClosedAt    time.Time       `db:"closed_at"`
	Households  int             `db:"households"`
	RankingJSON json.RawMessage `db:"ranking"`
}

// Ranking decodes the stored ranking.
func (s Settlement) Ranking() ([]SettlementRow, error) {
	var rs []SettlementRow
	if err := json.Unmarshal(s.RankingJSON, &rs); err != nil {
		return nil, fmt.Errorf("storage: settlement %d ranking: %w", s.ID, err)
	}
	return rs, nil
}

// InsertSettlement stores a village's ranking for a period once: when the
// period is settled already it stores nothing and returns inserted=false.
func (s *Store) InsertSettlement(ctx context.Context, st Settlement, rows []SettlementRow) (id int64, inserted bool, err error) {
	if rows == nil {
		rows = []SettlementRow{}
	}
	raw, err := json.Marshal(rows)
	if err != nil {
		return 0, false, fmt.Errorf("storage: settlement ranking: %w", err)
	}
	return getIfAny[int64](ctx, s, "insert settlement", `
		INSERT INTO settlements (village_id, period, kind, period_start, period_end, closed_at, households, ranking)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (village_id, period) DO NOTHING RETURNING id`,
		st.VillageID, st.Period, st.Kind, st.Start, st.End, st.ClosedAt, len(rows), string(raw))
}

// UnsettledVillages lists the villages and communities that have households
// and no settlement for period yet.
func (s *Store) UnsettledVillages(ctx context.Context, period string) ([]domain.Unit, error) {
	return selectAll[domain.Unit](ctx, s, "unsettled villages", `SELECT `+unitCols+` FROM units u
		WHERE u.kind IN ('village','community')
		  AND EXISTS (SELECT 1 FROM households h WHERE h.unit_id = u.id)
		  AND NOT EXISTS (SELECT 1 FROM settlements st WHERE st.village_id = u.id AND st.period = $1)
		ORDER BY u.path`, period)
}

// SettlementFilter selects settlements.
type SettlementFilter struct {
	RootID     int64   // units in this subtree (0 = all)
	VillageIDs []int64 // or exactly these (nil = no restriction)
	Period     string  // "" = every period
	Limit      int
}

// Settlements lists settlements, newest period first.
func (s *Store) Settlements(ctx context.Context, f SettlementFilter) ([]Settlement, error) {
	var villages any
	if f.VillageIDs != nil {
		villages = pq.Array(f.VillageIDs)
	}
	q := `SELECT st.id, st.village_id, u.code AS village_code, u.name AS village_name, st.period, st.kind, st.period_start,
		st.period_end, st.closed_at, st.households, st.ranking
		FROM settlements st JOIN units u ON u.id = st.village_id
		WHERE ($1 = 0 OR u.path @> ARRAY[$1::bigint]) AND ($2::bigint[] IS NULL OR st.village_id = ANY($2)) AND ($3 = '' OR st.period = $3)
		ORDER BY st.period_start DESC, u.path`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	return selectAll[Settlement](ctx, s, "settlements", q, f.RootID, villages, f.Period)
}
