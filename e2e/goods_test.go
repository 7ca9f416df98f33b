package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/storage"
)

// The points shop (积分超市, SPEC §7.4) from outside: goods imported with the
// CLI, listed with /goods and the API, redeemed by code and quantity.

func goodsFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// credit gives a household points in effect now, as if approved earlier.
func (p *ptH) credit(village, household string, n int) {
	p.t.Helper()
	v, err := p.Srv.Store.UnitByCode(p.Ctx, village)
	if err != nil {
		p.t.Fatal(err)
	}
	hs, err := p.Srv.Store.HouseholdsByCode(p.Ctx, []int64{v.ID}, household)
	if err != nil || len(hs) != 1 {
		p.t.Fatalf("household %s: %v %v", household, hs, err)
	}
	now := p.fc.Now()
	if _, err := p.Srv.Store.AppendPointEntry(p.Ctx, storage.PointEntry{HouseholdID: hs[0].ID, VillageID: v.ID, Kind: storage.EntryAward,
		Points: n, ItemCode: "B01", ItemName: "照顾老人", RecordedAt: now, EffectiveAt: now, Actor: "test"}); err != nil {
		p.t.Fatal(err)
	}
}

func TestGoodsShop(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.PublicityDays = 0 })

	// A bad file: one Chinese line naming row and column, nothing imported.
	bad := goodsFile(t, "goods_bad.csv", "unit_code,code,name,points,stock\nQA-RZ-XZ,G01,洗衣粉,20,5\nQA-RZ-XZ,G02,酱油,五,\n")
	if _, errs, code := p.cli("import", "goods", bad); code != 1 || !strings.Contains(errs, "goods_bad.csv：第 3 行“points”列") {
		t.Fatalf("bad import: exit %d, %q", code, errs)
	}
	if n := p.count(`SELECT count(*) FROM goods`); n != 0 {
		t.Fatalf("a refused import stored %d goods", n)
	}
	good := goodsFile(t, "goods.csv", "unit_code,code,name,points,stock,active\n"+
		"QA-RZ-XZ,G01,洗衣粉,20,5,\nQA-RZ-XZ,G02,酱油,5,,\nQA-RZ-XZ,G03,毛巾,8,1,\nQA-RZ-XZ,G09,旧挂历,1,9,否\n")
	if out := p.mustCLI("import", "goods", good); !strings.Contains(out, "4 rows imported (4 created, 0 updated)") {
		t.Fatalf("import: %q", out)
	}

	// /goods for a villager: name, price in 积分, stock; inactive goods hidden.
	m := p.private(zhou, "/goods", "积分超市")
	mustContain(t, m.Plain, "幸福村积分超市", "G01 洗衣粉 · 20 积分 · 库存 5 件", "G02 酱油 · 5 积分 · 不限量", "G03 毛巾 · 8 积分 · 库存 1 件", "由积分超市管理员登记")
	if strings.Contains(m.Plain, "旧挂历") {
		t.Fatalf("/goods lists inactive goods:\n%s", m.Plain)
	}
	p.private(ptZheng, "/goods", "登记兑换")

	// /redeem by goods code and quantity.
	p.credit("QA-RZ-XZ", "H001", 100)
	p.say(p.Fake.PrivateChat(ptZheng), ptZheng, "/redeem H001 g01 2")
	m = p.waitPlain(ptZheng.ID, "兑换 洗衣粉 ×2")
	mustContain(t, m.Plain, "兑换成功", "共 40 分", "余额 100 → 60 分", "洗衣粉 库存剩 3 件")
	r := p.waitPlain(zhou.ID, "积分兑换回执")
	mustContain(t, r.Plain, "商品：洗衣粉 ×2（每件 20 分）", "兑换积分：40 分", "余额：100 → 60 分")
	p.say(p.Fake.PrivateChat(ptZheng), ptZheng, "/redeem 13800000006 G02×3")
	p.waitPlain(ptZheng.ID, "兑换 酱油 ×3，共 15 分")

	// Refusals in Chinese, nothing changed.
	p.private(ptZheng, "/redeem H001 G03 2", "库存不足（剩 1 件）")
	p.private(ptZheng, "/redeem H002 G01", "积分不足（余额 0，需要 20）")
	m = p.private(ptZheng, "/redeem H001 X9", "没有这个商品编号“X9”")
	mustContain(t, m.Plain, "G01 洗衣粉", "G02 酱油", "G03 毛巾")
	p.private(ptZheng, "/redeem H001 G01 两袋", "兑换数量应为正整数")
	if n := p.count(`SELECT stock FROM goods WHERE code = 'G03'`); n != 1 {
		t.Fatalf("G03 stock %d after a refusal", n)
	}

	// The points form still works, with its own wording.
	p.private(ptZheng, "/redeem H001 1 肥皂", "兑换 1 分（肥皂）")
	p.private(ptZheng, "/redeem H002 5 肥皂", "积分余额不足：当前 0 分，需 5 分。")
	if n := p.count(`SELECT -sum(points) FROM point_ledger WHERE kind = 'redemption'`); n != 56 {
		t.Fatalf("%d points redeemed, want 40 + 15 + 1", n)
	}
	// /points names the goods and quantities.
	m = p.private(zhou, "/points", "最近记录")
	mustContain(t, m.Plain, "当前余额：44 分", "-40 兑换 洗衣粉 ×2", "-15 兑换 酱油 ×3", "-1 兑换 肥皂")
	if p.events("points.redeemed") != 3 {
		t.Fatalf("%d points.redeemed events", p.events("points.redeemed"))
	}

	// Re-import restocks by code.
	p.mustCLI("import", "goods", goodsFile(t, "restock.csv", "village,code,name,points,stock\nQA-RZ-XZ,G03,毛巾,8,10\n"))
	p.private(ptZheng, "/redeem H001 G03 2", "毛巾 库存剩 8 件")
}

func TestGoodsAPIAndHeads(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.PublicityDays = 0 })
	p.mustCLI("import", "goods", goodsFile(t, "goods.csv", "unit_code,code,name,points,stock\nQA-RZ-XZ,G01,洗衣粉,20,5\nQA-RZ-XZ,G02,酱油,5,\n"))
	villager := p.token("QA-RZ-XZ", "villager")
	township := p.token("QA-RZ", "organiser")
	other := p.token("QA-DB", "admin")
	code, out := p.api("GET", "/api/v1/goods", villager, nil)
	if code != 200 || len(out["goods"].([]any)) != 2 {
		t.Fatalf("goods: %d %v", code, out)
	}
	g := out["goods"].([]any)[0].(map[string]any)
	if g["code"] != "G01" || g["name"] != "洗衣粉" || g["points"].(float64) != 20 || g["stock"].(float64) != 5 || g["village"] != "QA-RZ-XZ" {
		t.Fatalf("G01: %v", g)
	}
	if s, ok := out["goods"].([]any)[1].(map[string]any)["stock"]; !ok || s != nil {
		t.Fatalf("unlimited stock reads %v, want null", s)
	}
	if code, out := p.api("GET", "/api/v1/goods?unit=QA-RZ-XZ", township, nil); code != 200 || len(out["goods"].([]any)) != 2 {
		t.Fatalf("township token: %d %v", code, out)
	}
	if code, _ := p.api("GET", "/api/v1/goods?unit=QA-RZ-XZ", other, nil); code != 403 {
		t.Fatalf("outside the subtree: %d", code)
	}
	// Redemption of goods over the API.
	p.credit("QA-RZ-XZ", "H001", 50)
	shop := p.token("QA-RZ-XZ", "shopkeeper")
	code, out = p.api("POST", "/api/v1/redemptions", shop, map[string]any{"household": "H001", "goods_code": "G01", "quantity": 3})
	if code != 409 {
		t.Fatalf("3 × 20 from 50: %d %v", code, out)
	}
	code, out = p.api("POST", "/api/v1/redemptions", shop, map[string]any{"household": "H001", "goods_code": "G01", "quantity": 2})
	if code != 201 || out["balance_after"].(float64) != 10 || out["stock_after"].(float64) != 3 {
		t.Fatalf("redeem goods: %d %v", code, out)
	}

	// Household heads: the people import's head column names the household.
	p.mustCLI("import", "people", goodsFile(t, "heads.csv", "name,phone,role,unit_code,household,head\n周村民,13800000006,villager,QA-RZ-XZ,H001,是\n"))
	m := p.private(zhou, "/points", "当前余额")
	mustContain(t, m.Plain, "周村民户 积分（幸福村）")
	p.private(ptWu, "/rank", "周村民户")
	p.private(ptZheng, "/redeem H001 G02", "兑换成功")
	p.waitPlain(ptZheng.ID, "周村民户 兑换 酱油 ×1")
}
