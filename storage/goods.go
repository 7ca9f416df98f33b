package storage

import (
	"context"
	"fmt"

	"github.com/lib/pq"
)

// Goods is one article of a village's points shop (积分超市). Stock nil
// means unlimited.
type Goods struct {
	ID          int64  `db:"id"`
	VillageID   int64  `db:"village_id"`
	VillageCode string `db:"village_code"`
	VillageName string `db:"village_name"`
	Code        string `db:"code"`
	Name        string `db:"name"`
	Points      int    `db:"points"`
	Stock       *int   `db:"stock"` // null = unlimited
	Active      bool   `db:"active"`
}

const goodsSelect = `SELECT g.id, g.village_id, u.code AS village_code, u.name AS village_name, g.code, g.name, g.points, g.stock, g.active
	FROM goods g JOIN units u ON u.id = g.village_id`

// GoodsRow is one imported row.
type GoodsRow struct {
	VillageID int64
	Code      string
	Name      string
	Points    int
	Stock     *int
	Active    bool
}

// UpsertGoods inserts or updates goods by (village, code) and counts how
// many were created and updated.
func (s *Store) UpsertGoods(ctx context.Context, rows []GoodsRow) (created, updated int, err error) {
	for _, r := range rows {
		inserted, err := getValue[bool](ctx, s, "goods "+r.Code, `
			INSERT INTO goods (village_id, code, name, points, stock, active) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (village_id, code) DO UPDATE SET name = EXCLUDED.name, points = EXCLUDED.points,
				stock = EXCLUDED.stock, active = EXCLUDED.active, updated_at = now()
			RETURNING xmax = 0`, r.VillageID, r.Code, r.Name, r.Points, r.Stock, r.Active)
		if err != nil {
			return created, updated, err
		}
		if inserted {
			created++
		} else {
			updated++
		}
	}
	return created, updated, nil
}

// GoodsFilter selects goods.
type GoodsFilter struct {
	RootID     int64   // villages in this subtree (0 = all)
	VillageIDs []int64 // or exactly these villages (nil = no restriction)
	ActiveOnly bool
}

// GoodsList lists goods by village and code.
func (s *Store) GoodsList(ctx context.Context, f GoodsFilter) ([]Goods, error) {
	var villages any
	if f.VillageIDs != nil {
		villages = pq.Array(f.VillageIDs)
	}
	return selectAll[Goods](ctx, s, "goods", goodsSelect+` WHERE ($1 = 0 OR u.path @> ARRAY[$1::bigint]) AND ($2::bigint[] IS NULL OR g.village_id = ANY($2))
		AND (NOT $3 OR g.active) ORDER BY u.code, g.code`, f.RootID, villages, f.ActiveOnly)
}

// GoodsByCode loads a village's goods by code (stored upper-cased).
func (s *Store) GoodsByCode(ctx context.Context, villageID int64, code string) (Goods, error) {
	return getOne[Goods](ctx, s, fmt.Sprintf("goods %s", code), goodsSelect+` WHERE g.village_id = $1 AND g.code = $2`, villageID, code)
}

// TakeStock takes qty pieces of limited goods in one conditional UPDATE
// (... WHERE stock >= qty), so that concurrent redemptions never oversell:
// ok is false, and nothing changes, when fewer are left; left is what
// remains (or remained). Unlimited goods (stock NULL) are always ok.
func (s *Store) TakeStock(ctx context.Context, goodsID int64, qty int) (left *int, ok bool, err error) {
	n, taken, err := getIfAny[*int](ctx, s, "take stock", `UPDATE goods SET stock = stock - $2, updated_at = now()
		WHERE id = $1 AND stock IS NOT NULL AND stock >= $2 RETURNING stock`, goodsID, qty)
	if err != nil || taken {
		return n, taken, err
	}
	if n, err = getValue[*int](ctx, s, "stock", `SELECT stock FROM goods WHERE id = $1`, goodsID); err != nil {
		return nil, false, err
	}
	return n, n == nil, nil
}
