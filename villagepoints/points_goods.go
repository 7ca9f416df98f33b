package villagepoints

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/storage"
)

// The points shop (积分超市, SPEC §7.4): each village's goods with a price in
// points and a stock, imported by the operator (`zhibu import goods FILE`),
// listed with /goods and GET /api/v1/goods, redeemed with
// `/redeem <household> <goods code> [qty]` (Redeem).

// Goods import bounds.
const (
	MaxGoodsPoints = 100000 // price of one piece
	MaxGoodsStock  = 1000000
	MaxRedeemQty   = 999
)

// goodsCodeRe: letters, digits, - and _, starting with a letter or digit,
// with at least one letter, so that a code never reads as a number of
// points in /redeem.
var goodsCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// goodsCols are the goods file's columns; the first four are required, in
// any order. unit_code may be written village.
var goodsCols = []string{"unit_code", "code", "name", "points", "stock", "active"}

// cellErr names a bad cell in Chinese: file, row (the header is row 1) and
// column, and what is wrong with it.
func cellErr(t *tabular.Table, i int, col, problem string) error {
	return domain.Refuse(domain.ErrInvalid, "%s", pt.T("goods_file.cell", "file", t.File, "row", strconv.Itoa(i+2), "column", col, "problem", problem))
}

// ImportGoods validates a goods file (columns unit_code or village, code,
// name, points; optional stock and active, in any order) and applies it in
// one transaction: every row or none. Goods are matched by village and code
// (codes are case-insensitive and stored upper-cased): a re-import updates
// name, price, stock and active; goods missing from the file stay as they
// are. An empty stock cell means unlimited; an empty active cell means yes.
func (a Service) ImportGoods(ctx context.Context, actor domain.Actor, t *tabular.Table) (app.ImportResult, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "import.goods"); err != nil {
		return app.ImportResult{File: t.File}, err
	}
	res := app.ImportResult{File: t.File}
	col := map[string]string{}
	for _, h := range t.Header {
		name := h
		if h == "village" {
			name = "unit_code"
		}
		if !app.ContainsStr(goodsCols, name) {
			return res, domain.Refuse(domain.ErrInvalid, "%s", pt.T("goods_file.unknown_column", "file", t.File, "column", h))
		}
		if _, dup := col[name]; dup {
			return res, domain.Refuse(domain.ErrInvalid, "%s", pt.T("goods_file.duplicate_column", "file", t.File, "column", h))
		}
		col[name] = h
	}
	for _, need := range goodsCols[:4] {
		if _, ok := col[need]; !ok {
			return res, domain.Refuse(domain.ErrInvalid, "%s", pt.T("goods_file.missing_column", "file", t.File, "column", need))
		}
	}
	cell := func(i int, name string) string {
		if h, ok := col[name]; ok {
			return t.Cell(i, h)
		}
		return ""
	}
	err := a.InTx(ctx, func(a *app.App) error {
		villages := map[string]int64{}
		rowOf := map[string]int{}
		var rows []storage.GoodsRow
		for i := range t.Rows {
			if t.Blank(i) {
				continue
			}
			unit, code, name := cell(i, "unit_code"), strings.ToUpper(cell(i, "code")), cell(i, "name")
			uc := col["unit_code"]
			if unit == "" {
				return cellErr(t, i, uc, pt.T("goods_file.no_unit"))
			}
			vid, known := villages[unit]
			if !known {
				u, err := Of(a).db().UnitByCode(ctx, unit)
				if errors.Is(err, domain.ErrNotFound) {
					return cellErr(t, i, uc, pt.T("goods_file.unknown_unit", "code", unit))
				}
				if err != nil {
					return err
				}
				if !isVillage(u.Kind) {
					return cellErr(t, i, uc, pt.T("goods_file.not_village", "code", unit, "name", u.Name))
				}
				vid, villages[unit] = u.ID, u.ID
			}
			switch {
			case code == "":
				return cellErr(t, i, col["code"], pt.T("goods_file.no_code"))
			case !goodsCodeRe.MatchString(code):
				return cellErr(t, i, col["code"], pt.T("goods_file.bad_code", "code", cell(i, "code")))
			case strings.Trim(code, "0123456789") == "":
				return cellErr(t, i, col["code"], pt.T("goods_file.numeric_code", "code", code))
			case name == "":
				return cellErr(t, i, col["name"], pt.T("goods_file.no_name"))
			case utf8.RuneCountInString(name) > app.MaxNameLen:
				return cellErr(t, i, col["name"], pt.T("goods_file.long_name", "max", strconv.Itoa(app.MaxNameLen)))
			}
			key := unit + "\x00" + code
			if prev, dup := rowOf[key]; dup {
				return cellErr(t, i, col["code"], pt.T("goods_file.duplicate_code", "code", code, "row", strconv.Itoa(prev+2)))
			}
			rowOf[key] = i
			pts, err := strconv.Atoi(cell(i, "points"))
			if err != nil || pts < 1 || pts > MaxGoodsPoints {
				return cellErr(t, i, col["points"], pt.T("goods_file.bad_points", "max", strconv.Itoa(MaxGoodsPoints), "value", cell(i, "points")))
			}
			r := storage.GoodsRow{VillageID: vid, Code: code, Name: name, Points: pts, Active: true}
			if s := cell(i, "stock"); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 || n > MaxGoodsStock {
					return cellErr(t, i, col["stock"], pt.T("goods_file.bad_stock", "max", strconv.Itoa(MaxGoodsStock), "value", s))
				}
				r.Stock = &n
			}
			if s := cell(i, "active"); s != "" {
				v, ok := app.ParseYesNo(s)
				if !ok {
					return cellErr(t, i, col["active"], pt.T("goods_file.bad_active", "value", s))
				}
				r.Active = v
			}
			rows = append(rows, r)
		}
		var err error
		res.Rows = len(rows)
		if res.Created, res.Updated, err = Of(a).db().UpsertGoods(ctx, rows); err != nil {
			return err
		}
		return a.Audit(ctx, domain.Operator, "import.goods", t.File, true, map[string]any{"rows": res.Rows, "created": res.Created, "updated": res.Updated})
	})
	return res, err
}

// VillageGoods is one village's shop as /goods shows it.
type VillageGoods struct {
	Village    domain.Unit
	Goods      []storage.Goods
	Shopkeeper bool // the actor records redemptions here
}

// ShopGoods lists the active goods of the villages where the actor is a
// villager, reviewer or shopkeeper (/goods).
func (a Service) ShopGoods(ctx context.Context, actor domain.Actor) ([]VillageGoods, error) {
	vs, err := a.villagesFor(ctx, actor, domain.RoleVillager, domain.RoleReviewer, domain.RoleShopkeeper)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, a.Refused(ctx, actor, "goods.list", "", domain.Refuse(domain.ErrForbidden, "%s", pt.T("goods.refuse.forbidden")))
	}
	gs, err := a.db().GoodsList(ctx, storage.GoodsFilter{VillageIDs: unitIDs(vs), ActiveOnly: true})
	if err != nil {
		return nil, err
	}
	out := make([]VillageGoods, len(vs))
	at := map[int64]int{}
	for i, v := range vs {
		out[i] = VillageGoods{Village: v, Goods: []storage.Goods{}, Shopkeeper: actor.Has(domain.RoleShopkeeper, v.ID)}
		at[v.ID] = i
	}
	for _, g := range gs {
		out[at[g.VillageID]].Goods = append(out[at[g.VillageID]].Goods, g)
	}
	return out, nil
}

// goodsReaders may list goods through the API: any token role of the
// village or above.
var goodsReaders = []string{domain.RoleVillager, domain.RoleReviewer, domain.RoleShopkeeper, domain.RoleSecretary, domain.RoleOrganiser}

// ListGoods lists the goods (active or not) of the villages in the actor's
// Scope, narrowed by unitCode: GET /api/v1/goods.
func (a Service) ListGoods(ctx context.Context, actor domain.Actor, unitCode string) ([]storage.Goods, error) {
	root, villages, err := a.scopeRoot(ctx, actor, unitCode, goodsReaders...)
	if err != nil {
		return nil, a.Refused(ctx, actor, "goods.list", unitCode, err)
	}
	gs, err := a.db().GoodsList(ctx, storage.GoodsFilter{RootID: root, VillageIDs: villages})
	if gs == nil && err == nil {
		gs = []storage.Goods{}
	}
	return gs, err
}

// shopGoods finds the goods a shopkeeper names in a village: by code
// (case-insensitive) or exact name, active only. Not found is refused with
// the village's codes.
func (a Service) shopGoods(ctx context.Context, villageID int64, ref string) (storage.Goods, error) {
	g, err := a.db().GoodsByCode(ctx, villageID, strings.ToUpper(ref))
	if err == nil && g.Active {
		return g, nil
	}
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return g, err
	}
	gs, err := a.db().GoodsList(ctx, storage.GoodsFilter{VillageIDs: []int64{villageID}, ActiveOnly: true})
	if err != nil {
		return storage.Goods{}, err
	}
	for _, g := range gs {
		if g.Name == ref {
			return g, nil
		}
	}
	if len(gs) == 0 {
		return storage.Goods{}, domain.Refuse(domain.ErrNotFound, "%s", pt.T("goods.refuse.none_listed", "code", ref))
	}
	var list []string
	for i, g := range gs {
		if i == 30 {
			list = append(list, pt.T("goods.refuse.more", "count", strconv.Itoa(len(gs))))
			break
		}
		list = append(list, g.Code+" "+g.Name)
	}
	return storage.Goods{}, domain.Refuse(domain.ErrNotFound, "%s", pt.T("goods.refuse.no_such", "code", ref, "list", strings.Join(list, "、")))
}
