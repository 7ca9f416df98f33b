package villagepoints_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/dashboard"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

const goodsCSV = `unit_code,code,name,points,stock,active
QA-RZ-XZ,G01,洗衣粉,20,5,
QA-RZ-XZ,g02,酱油,5,,yes
QA-RZ-XZ,G03,毛巾,8,1,是
QA-RZ-XZ,G09,旧货,1,3,否
QA-RZ-HX,G01,食用油,30,2,
`

// importGoods imports a goods CSV as the operator would.
func (f *pointsFixture) importGoods(name, csv string) (app.ImportResult, error) {
	f.t.Helper()
	tab, err := tabular.ReadCSV(strings.NewReader(csv), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return villagepoints.Of(f.a).ImportGoods(f.ctx, domain.Operator, tab)
}

// credit gives a household points in effect now.
func (f *pointsFixture) credit(hh storage.Household, n int) {
	f.t.Helper()
	now := f.at()
	if _, err := f.a.Store.AppendPointEntry(f.ctx, storage.PointEntry{HouseholdID: hh.ID, VillageID: hh.VillageID, Kind: storage.EntryAward,
		Points: n, ItemCode: "T", ItemName: "测试", RecordedAt: now, EffectiveAt: now, Actor: "test"}); err != nil {
		f.t.Fatal(err)
	}
}

// redeem redeems in its own transaction, as the chat router would.
func (f *pointsFixture) redeem(phone string, req villagepoints.RedeemRequest) (villagepoints.Redemption, error) {
	actor := f.actor(phone)
	var r villagepoints.Redemption
	err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		r, err = villagepoints.Of(a).Redeem(f.ctx, actor, req)
		return err
	})
	return r, err
}

func (f *pointsFixture) goods(village, code string) storage.Goods {
	f.t.Helper()
	v, err := f.a.Store.UnitByCode(f.ctx, village)
	if err != nil {
		f.t.Fatal(err)
	}
	g, err := f.a.Store.GoodsByCode(f.ctx, v.ID, code)
	if err != nil {
		f.t.Fatalf("goods %s %s: %v", village, code, err)
	}
	return g
}

func TestImportGoods(t *testing.T) {
	f := newPointsFixture(t, nil)
	res, err := f.importGoods("goods.csv", goodsCSV)
	if err != nil || res.Rows != 5 || res.Created != 5 || res.Updated != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	g := f.goods("QA-RZ-XZ", "G02") // written g02: codes are stored upper-cased
	if g.Name != "酱油" || g.Points != 5 || g.Stock != nil || !g.Active {
		t.Fatalf("G02 %+v: want 酱油, 5 points, unlimited, active", g)
	}
	if g := f.goods("QA-RZ-XZ", "G01"); g.Stock == nil || *g.Stock != 5 {
		t.Fatalf("G01 stock %v", g.Stock)
	}
	if g := f.goods("QA-RZ-XZ", "G09"); g.Active {
		t.Fatal("G09 imported active")
	}
	// The same code in another village is another article.
	if g := f.goods("QA-RZ-HX", "G01"); g.Name != "食用油" {
		t.Fatalf("和兴村 G01 %+v", g)
	}

	// Re-import by code: name, price, stock and active change; the column
	// may be called village, columns in any order, stock and active optional.
	res, err = f.importGoods("goods2.csv", "code,village,name,points\nG01,QA-RZ-XZ,洗衣粉（大袋）,25\nG04,QA-RZ-XZ,香皂,3\n")
	if err != nil || res.Created != 1 || res.Updated != 1 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	if g := f.goods("QA-RZ-XZ", "G01"); g.Name != "洗衣粉（大袋）" || g.Points != 25 || g.Stock != nil {
		t.Fatalf("G01 after re-import %+v", g)
	}
	if g := f.goods("QA-RZ-XZ", "G03"); g.Name != "毛巾" {
		t.Fatalf("goods missing from the file changed: %+v", g)
	}

	// A bad row names row and column in Chinese, and nothing is imported.
	before := f.count(`SELECT count(*) FROM goods`)
	for _, c := range []struct{ csv, want string }{
		{"unit_code,code,name,points,stock\nQA-RZ-XZ,G05,肥皂,2,4\nQA-RZ-XZ,G06,盐,abc,1\n", "第 3 行“points”列"},
		{"unit_code,code,name,points,stock\nQA-RZ-XZ,G05,肥皂,0,4\n", "第 2 行“points”列"},
		{"unit_code,code,name,points,stock\nQA-RZ-XZ,G05,肥皂,2,-1\n", "第 2 行“stock”列"},
		{"unit_code,code,name,points\nQA-RZ-XZ,G05,肥皂,2\nQA-RZ-XZ,g05,盐,1\n", "已出现在第 2 行"},
		{"unit_code,code,name,points\nQA-RZ,G05,肥皂,2\n", "不是村或社区"},
		{"unit_code,code,name,points\nNOPE,G05,肥皂,2\n", "没有单位代码为“NOPE”的村"},
		{"unit_code,code,name,points\nQA-RZ-XZ,15,肥皂,2\n", "不能全是数字"},
		{"unit_code,code,name,points\nQA-RZ-XZ,G05,,2\n", "第 2 行“name”列"},
		{"unit_code,code,name,points,active\nQA-RZ-XZ,G05,肥皂,2,maybe\n", "第 2 行“active”列"},
		{"unit_code,code,name\nQA-RZ-XZ,G05,肥皂\n", "缺少列“points”"},
		{"unit_code,code,name,points,price\nQA-RZ-XZ,G05,肥皂,2,3\n", "不认识的列“price”"},
	} {
		_, err := f.importGoods("bad.csv", c.csv)
		refused(t, err, c.want)
		if !strings.HasPrefix(err.Error(), "bad.csv：") {
			t.Errorf("error %q does not name the file", err)
		}
	}
	if n := f.count(`SELECT count(*) FROM goods`); n != before {
		t.Fatalf("a refused import stored goods: %d → %d", before, n)
	}
	if g := f.goods("QA-RZ-XZ", "G01"); g.Points != 25 {
		t.Fatalf("a refused import changed G01: %+v", g)
	}
}

func TestRedeemGoods(t *testing.T) {
	f := newPointsFixture(t, nil)
	if _, err := f.importGoods("goods.csv", goodsCSV); err != nil {
		t.Fatal(err)
	}
	hh := f.household("QA-RZ-XZ", "H001")
	f.credit(hh, 100)
	const shop = "13800000008"

	r, err := f.redeem(shop, villagepoints.RedeemRequest{Target: "H001", GoodsCode: "g01", Qty: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Before != 100 || r.After != 60 || r.Entry.Points != -40 || r.Entry.Goods != "洗衣粉 ×2" || r.Qty != 2 ||
		r.StockLeft == nil || *r.StockLeft != 3 {
		t.Fatalf("redemption %+v (stock left %v)", r, r.StockLeft)
	}
	if g := f.goods("QA-RZ-XZ", "G01"); *g.Stock != 3 {
		t.Fatalf("stock %d after 2 of 5", *g.Stock)
	}
	e, err := f.a.Store.PointEntryByID(f.ctx, r.Entry.ID)
	if err != nil || e.Kind != storage.EntryRedemption || e.Goods != "洗衣粉 ×2" || e.Points != -40 {
		t.Fatalf("ledger entry %+v %v", e, err)
	}
	var ev string
	if err := f.a.Store.DB().GetContext(f.ctx, &ev, `SELECT payload::text FROM events WHERE type = 'points.redeemed'`); err != nil ||
		!strings.Contains(ev, `"goods_code": "G01"`) || !strings.Contains(ev, `"quantity": 2`) || !strings.Contains(ev, `"stock_after": 3`) {
		t.Fatalf("event %s %v", ev, err)
	}
	// By name too; unlimited goods take no stock.
	if r, err := f.redeem(shop, villagepoints.RedeemRequest{Target: "13800000006", GoodsCode: "酱油"}); err != nil || r.After != 55 || r.StockLeft != nil {
		t.Fatalf("酱油: %+v %v", r, err)
	}

	// Refusals, each before any change.
	_, err = f.redeem(shop, villagepoints.RedeemRequest{Target: "H001", GoodsCode: "G03", Qty: 2})
	refused(t, err, "库存不足（剩 1 件）")
	f.credit(f.household("QA-RZ-XZ", "H002"), 30)
	_, err = f.redeem(shop, villagepoints.RedeemRequest{Target: "H002", GoodsCode: "G01", Qty: 2})
	refused(t, err, "积分不足（余额 30，需要 40）")
	_, err = f.redeem(shop, villagepoints.RedeemRequest{Target: "H001", GoodsCode: "X99"})
	refused(t, err, "没有这个商品编号“X99”")
	if !strings.Contains(err.Error(), "G01 洗衣粉") || !strings.Contains(err.Error(), "G03 毛巾") || strings.Contains(err.Error(), "G09") {
		t.Fatalf("unknown code: %v; want the active codes listed", err)
	}
	_, err = f.redeem(shop, villagepoints.RedeemRequest{Target: "H001", GoodsCode: "G09"}) // inactive
	refused(t, err, "没有这个商品编号")
	_, err = f.redeem(shop, villagepoints.RedeemRequest{Target: "H001", GoodsCode: "G01", Qty: -1})
	refused(t, err, "兑换数量")
	if b, _ := f.balance(hh); b != 55 {
		t.Fatalf("balance %d after refusals, want 55", b)
	}
	if g := f.goods("QA-RZ-XZ", "G03"); *g.Stock != 1 {
		t.Fatalf("G03 stock %d after a refusal", *g.Stock)
	}
	// Another village's goods are not this shop's: 和兴村's G01 is 食用油.
	if r, err := f.redeem(shop, villagepoints.RedeemRequest{Target: "H001", GoodsCode: "G01"}); err != nil || r.Goods.Name != "洗衣粉" {
		t.Fatalf("G01 in 幸福村: %+v %v", r.Goods, err)
	}
	// Only a shopkeeper redeems.
	_, err = f.redeem("13800000005", villagepoints.RedeemRequest{Target: "H001", GoodsCode: "G01"})
	refused(t, err, "只有积分超市管理员")
	// The points form is unchanged.
	_, err = f.redeem(shop, villagepoints.RedeemRequest{Target: "H001", Points: 1000, Goods: "电视"})
	refused(t, err, "积分余额不足：当前 35 分，需 1000 分。")
}

func TestConcurrentGoodsRedemptionsNeverOversell(t *testing.T) {
	f := newPointsFixture(t, nil)
	if _, err := f.importGoods("goods.csv", "unit_code,code,name,points,stock\nQA-RZ-XZ,G01,洗衣粉,2,7\nQA-RZ-XZ,G02,酱油,3,\n"); err != nil {
		t.Fatal(err)
	}
	h1, h2 := f.household("QA-RZ-XZ", "H001"), f.household("QA-RZ-XZ", "H002")
	f.credit(h1, 100)
	f.credit(h2, 100)
	const shop = "13800000008"

	// 20 at once against 7 pieces, from two households (two household
	// locks): exactly 7 succeed.
	run := func(n int, req func(i int) villagepoints.RedeemRequest, refusal string) (ok, short int32) {
		var wg sync.WaitGroup
		var okN, shortN atomic.Int32
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, err := f.redeem(shop, req(i))
				switch {
				case err == nil:
					okN.Add(1)
				case strings.Contains(err.Error(), refusal):
					shortN.Add(1)
				default:
					t.Errorf("redeem %d: %v", i, err)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		return okN.Load(), shortN.Load()
	}
	ok, short := run(20, func(i int) villagepoints.RedeemRequest {
		target := "H001"
		if i%2 == 1 {
			target = "H002"
		}
		return villagepoints.RedeemRequest{Target: target, GoodsCode: "G01"}
	}, "库存不足")
	if ok != 7 || short != 13 {
		t.Fatalf("%d redemptions succeeded, %d refused for stock; want 7 and 13", ok, short)
	}
	if g := f.goods("QA-RZ-XZ", "G01"); g.Stock == nil || *g.Stock != 0 {
		t.Fatalf("stock after %v", g.Stock)
	}
	spent := f.count(`SELECT -COALESCE(sum(points), 0) FROM point_ledger WHERE kind = 'redemption'`)
	if spent != 14 {
		t.Fatalf("%d points spent, want 7 × 2", spent)
	}

	// 20 at once against a balance: H001 has 100 - 2k left; at 3 points
	// each (unlimited stock) it never goes below zero.
	left, _ := f.balance(h1)
	ok, short = run(20, func(int) villagepoints.RedeemRequest {
		return villagepoints.RedeemRequest{Target: "H001", GoodsCode: "G02", Qty: 3}
	}, "积分不足")
	want := int32(left / 9)
	if ok != want || short != 20-want {
		t.Fatalf("balance %d: %d succeeded, %d refused; want %d and %d", left, ok, short, want, 20-want)
	}
	if b, _ := f.balance(h1); b != left-9*int(want) || b < 0 {
		t.Fatalf("balance %d after, want %d", b, left-9*int(want))
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'points.redeemed'`); n != 7+int(want) {
		t.Fatalf("%d points.redeemed events", n)
	}
}

func TestGoodsLists(t *testing.T) {
	f := newPointsFixture(t, nil)
	if _, err := f.importGoods("goods.csv", goodsCSV); err != nil {
		t.Fatal(err)
	}
	// /goods: a villager sees the active goods of their own village.
	shops, err := villagepoints.Of(f.a).ShopGoods(f.ctx, f.actor("13800000006"))
	if err != nil || len(shops) != 1 || shops[0].Village.Code != "QA-RZ-XZ" || shops[0].Shopkeeper {
		t.Fatalf("villager's shops %+v %v", shops, err)
	}
	var codes []string
	for _, g := range shops[0].Goods {
		codes = append(codes, g.Code)
	}
	if strings.Join(codes, ",") != "G01,G02,G03" {
		t.Fatalf("listed %v, want the active goods G01,G02,G03", codes)
	}
	if shops, err := villagepoints.Of(f.a).ShopGoods(f.ctx, f.actor("13800000008")); err != nil || !shops[0].Shopkeeper {
		t.Fatalf("shopkeeper's shops %+v %v", shops, err)
	}
	// Nobody of the village: refused.
	err = f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).ShopGoods(f.ctx, domain.Actor{PersonID: 0, Label: "tg:0"})
		return err
	})
	refused(t, err, "只有本村村民")

	// The API: a token over the township sees both villages, inactive too;
	// narrowed to one village, that village's.
	rz, err := f.a.Store.UnitByCode(f.ctx, "QA-RZ")
	if err != nil {
		t.Fatal(err)
	}
	tok := domain.Actor{Label: "api:1", Roles: []domain.Role{{Role: domain.RoleVillager, UnitID: rz.ID, UnitCode: rz.Code, UnitKind: rz.Kind}}}
	gs, err := villagepoints.Of(f.a).ListGoods(f.ctx, tok, "")
	if err != nil || len(gs) != 5 {
		t.Fatalf("township token: %d goods %v", len(gs), err)
	}
	gs, err = villagepoints.Of(f.a).ListGoods(f.ctx, tok, "QA-RZ-HX")
	if err != nil || len(gs) != 1 || gs[0].Name != "食用油" {
		t.Fatalf("narrowed: %+v %v", gs, err)
	}
	xz, _ := f.a.Store.UnitByCode(f.ctx, "QA-RZ-XZ")
	village := domain.Actor{Label: "api:2", Roles: []domain.Role{{Role: domain.RoleShopkeeper, UnitID: xz.ID, UnitCode: xz.Code, UnitKind: xz.Kind}}}
	_, err = villagepoints.Of(f.a).ListGoods(f.ctx, village, "QA-RZ-HX")
	refused(t, err, "不在您的管辖范围内")
}

func TestPeopleImportHead(t *testing.T) {
	f := newPointsFixture(t, nil)
	tab, err := tabular.ReadCSV(strings.NewReader("name,phone,role,unit_code,household,head\n"+
		"周村民,13800000006,villager,QA-RZ-XZ,H001,是\n周家人,13800000016,villager,QA-RZ-XZ,H001,\n吴村民,13800000007,villager,QA-RZ-XZ,H002,no\n"), "heads.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Of(f.a).ImportPeople(f.ctx, domain.Operator, tab); err != nil {
		t.Fatal(err)
	}
	hh := f.household("QA-RZ-XZ", "H001")
	if hh.Head != "周村民" || hh.Label() != "周村民户" {
		t.Fatalf("H001 head %q label %q", hh.Head, hh.Label())
	}
	if h2 := f.household("QA-RZ-XZ", "H002"); h2.Head != "" || h2.Label() != "吴村民家" {
		t.Fatalf("H002 head %q label %q", h2.Head, h2.Label())
	}
	// Claims read the household the same way (the rule in SQL).
	c1, c2 := f.mustClaim("13800000016", "B04", ""), f.mustClaim("13800000007", "B04", "")
	for _, want := range []struct {
		id   int64
		name string
	}{{c1.ID, "周村民户"}, {c2.ID, "吴村民家"}} {
		c, err := f.a.Store.ClaimByID(f.ctx, want.id)
		if err != nil || c.HouseholdName != want.name {
			t.Fatalf("claim %d household %q, want %q (%v)", want.id, c.HouseholdName, want.name, err)
		}
	}
	// Shown by head in a redemption, /points and the ranking.
	f.credit(hh, 10)
	r, err := f.redeem("13800000008", villagepoints.RedeemRequest{Target: "H001", Points: 3})
	if err != nil || r.Household.Label() != "周村民户" {
		t.Fatalf("redemption household %q %v", r.Household.Label(), err)
	}
	v, err := villagepoints.Of(f.a).HouseholdPoints(f.ctx, f.actor("13800000016"), "")
	if err != nil || v.Household.Label() != "周村民户" {
		t.Fatalf("/points household %q %v", v.Household.Label(), err)
	}
	rk, err := villagepoints.Of(f.a).VillageRanking(f.ctx, f.actor("13800000007"), villagepoints.RankingRequest{})
	if err != nil {
		t.Fatal(err)
	}
	text := villagepoints.RankingText("排名", rk.Rows, 30)
	if !strings.Contains(text, "周村民户") || !strings.Contains(text, "吴村民家") || strings.Contains(text, "H00") {
		t.Fatalf("ranking:\n%s", text)
	}

	// The dashboard's ranking too.
	rzU, err := f.a.Store.UnitByCode(f.ctx, "QA-RZ")
	if err != nil {
		t.Fatal(err)
	}
	org := domain.Actor{Label: "api:9", Roles: []domain.Role{{Role: domain.RoleOrganiser, UnitID: rzU.ID, UnitCode: rzU.Code, UnitKind: rzU.Kind}}}
	board, err := dashboard.Of(f.a).DashboardRanking(f.ctx, org, "QA-RZ-XZ")
	if err != nil {
		t.Fatal(err)
	}
	heads := map[string]string{}
	for _, r := range board.Rows {
		heads[r.Code] = r.Head
	}
	if heads["H001"] != "周村民" || heads["H002"] != "" {
		t.Fatalf("dashboard heads %v", heads)
	}

	// Bad heads: refused with row and column, nothing imported.
	for _, c := range []struct{ csv, want string }{
		{"吴村民,13800000007,villager,QA-RZ-XZ,H002,maybe\n", `column "head"`},
		{"郑店主,13800000008,shopkeeper,QA-RZ-XZ,,yes\n", "only a villager"},
		{"吴村民,13800000007,villager,QA-RZ-XZ,H002,yes\n新人,13800000099,villager,QA-RZ-XZ,H002,yes\n", "already has its head in row 2"},
	} {
		tab, err := tabular.ReadCSV(strings.NewReader("name,phone,role,unit_code,household,head\n"+c.csv), "bad.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, err = accounts.Of(f.a).ImportPeople(f.ctx, domain.Operator, tab)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("want an error containing %q, got %v", c.want, err)
		}
	}
	if h2 := f.household("QA-RZ-XZ", "H002"); h2.Head != "" {
		t.Fatalf("a refused import set H002's head: %q", h2.Head)
	}
	if n := f.count(`SELECT count(*) FROM people WHERE phone = '13800000099'`); n != 0 {
		t.Fatal("a refused import stored a person")
	}
	// A head who moves to another household no longer names the old one.
	tab, err = tabular.ReadCSV(strings.NewReader("name,phone,role,unit_code,household\n周村民,13800000006,villager,QA-RZ-XZ,H002\n"), "move.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Of(f.a).ImportPeople(f.ctx, domain.Operator, tab); err != nil {
		t.Fatal(err)
	}
	if h := f.household("QA-RZ-XZ", "H001"); h.Head != "" || h.Label() != "周家人家" {
		t.Fatalf("H001 after its head moved: head %q label %q", h.Head, h.Label())
	}
}
