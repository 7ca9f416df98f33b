package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jonboulle/clockwork"
	"github.com/lib/pq"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
)

// The points tests run on a fake clock from 2026-11-20 10:00 (Asia/Shanghai)
// in the test county's village QA-RZ-XZ, whose review group is ptGroup:
// reviewer 孙评议 (sun), villagers 周村民 (zhou, H001) and 吴村民 (ptWu, H002),
// shopkeeper 郑店主 (ptZheng).
var (
	ptWu    = user(5007, "吴")
	ptZheng = user(5008, "郑")
)

const ptGroup = -1001000000501

type ptH struct {
	*H
	fc    *clockwork.FakeClock
	group models.Chat
	seq   atomic.Int64 // update ids of updates posted straight to the webhook
}

func ptAt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, testdb.Loc)
}

// fastGroups lifts the dispatcher's 20/minute group pace so that a test's
// handful of cards and edits goes out at once (the fake still enforces
// Telegram's limits).
func fastGroups(c *config.Config) { c.Delivery.GroupPerMinute = 1200 }

func ptStart(t *testing.T, at time.Time, cfg ...func(*config.Config)) *ptH {
	t.Helper()
	fc := clockwork.NewFakeClockAt(at)
	h := start(t, withClock(fc), withConfig(func(c *config.Config) {
		fastGroups(c)
		for _, f := range cfg {
			f(c)
		}
	}))
	h.seed()
	p := &ptH{H: h, fc: fc}
	p.seq.Store(5_000_000)
	h.link("13800000005", sun)
	h.link("13800000006", zhou)
	h.link("13800000007", ptWu)
	h.link("13800000008", ptZheng)
	p.group = h.Fake.Group(ptGroup, "幸福村积分评议群")
	v, err := h.Srv.Store.UnitByCode(h.Ctx, "QA-RZ-XZ")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Srv.Store.BindGroup(h.Ctx, ptGroup, v.ID, "幸福村积分评议群", 0); err != nil {
		t.Fatal(err)
	}
	return p
}

// private sends text in from's private chat and waits for a reply with want.
func (p *ptH) private(from models.User, text, want string) tgfake.Message {
	p.t.Helper()
	p.say(p.Fake.PrivateChat(from), from, text)
	return p.waitMsg(from.ID, want)
}

func (p *ptH) count(q string, args ...any) int {
	p.t.Helper()
	return testdb.Count(p.t, p.Srv.Store, q, args...)
}

// waitPlain waits for a message to chatID whose rendered text contains want.
func (p *ptH) waitPlain(chatID int64, want string) tgfake.Message {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range p.Fake.MessagesTo(chatID) {
			if strings.Contains(m.Plain, want) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("no message to %d showing %q", chatID, want)
	return tgfake.Message{}
}

// answer waits for the answer to a callback query of userID containing want.
func (p *ptH) answer(userID int64, want string) tgfake.CallbackAnswer {
	p.t.Helper()
	return waitAnswer(p.H, userID, want)
}

// current waits until the bot's message m satisfies ok and returns it.
func (p *ptH) current(m tgfake.Message, what string, ok func(tgfake.Message) bool) tgfake.Message {
	p.t.Helper()
	return waitCurrent(p.H, m, what, ok)
}

// postAll posts updates to the webhook at the same moment, as Telegram does
// with several webhook connections, and waits until each is processed.
func (p *ptH) postAll(us []models.Update) []int64 {
	p.t.Helper()
	ids := make([]int64, len(us))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range us {
		us[i].ID = p.seq.Add(1)
		ids[i] = us[i].ID
		body, err := json.Marshal(us[i])
		if err != nil {
			p.t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, p.Base+"/telegram/webhook", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				p.t.Errorf("post update: %v", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				p.t.Errorf("post update: status %d", resp.StatusCode)
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, id := range ids {
		p.waitProcessed(id)
	}
	return ids
}

// outcomes counts the recorded outcomes of updates.
func (p *ptH) outcomes(ids []int64) map[string]int {
	p.t.Helper()
	var rows []struct {
		Outcome string `db:"outcome"`
		N       int    `db:"n"`
	}
	if err := p.Srv.Store.DB().SelectContext(p.Ctx, &rows, `SELECT outcome, count(*) AS n FROM updates WHERE update_id = ANY($1) GROUP BY outcome`, pq.Array(ids)); err != nil {
		p.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Outcome] = r.N
	}
	return out
}

// outboxPayload is the payload of the outbox row with dedupe key.
func (p *ptH) outboxPayload(key string) (method string, payload map[string]any) {
	p.t.Helper()
	var row struct {
		Method  string `db:"method"`
		Payload []byte `db:"payload"`
	}
	if err := p.Srv.Store.DB().GetContext(p.Ctx, &row, `SELECT method, payload FROM outbox WHERE dedupe_key = $1`, key); err != nil {
		p.t.Fatalf("outbox row %s: %v", key, err)
	}
	if err := json.Unmarshal(row.Payload, &payload); err != nil {
		p.t.Fatal(err)
	}
	return row.Method, payload
}

func (p *ptH) claimStatus(id int64) string {
	p.t.Helper()
	var s string
	if err := p.Srv.Store.DB().GetContext(p.Ctx, &s, `SELECT status FROM claims WHERE id = $1`, id); err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *ptH) events(typ string) int {
	return p.count(`SELECT count(*) FROM events WHERE type = $1`, typ)
}

func cardKeyOf(claim int64, version int) string {
	return fmt.Sprintf("claim:%d:card:%d:%d", claim, version, ptGroup)
}

func TestPointsClaimAndOneTapReview(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	p.private(zhou, "/claim B04 捡到钱包交给村委", "已提交积分申报 #1")

	// The card in the review group: who, household, item, points, note.
	card := p.waitMsg(ptGroup, "积分申报 #1")
	mustContain(t, card.Plain, "周村民（周村民家）", "B04 拾金不昧", "+3 分", "捡到钱包交给村委", "见证")
	ok, found := card.Button("通过")
	no, found2 := card.Button("驳回")
	if !found || !found2 || ok.CallbackData != "cl:1:ok" || no.CallbackData != "cl:1:no" {
		t.Fatalf("buttons %+v", card.Keyboard)
	}

	// A villager's tap, and an unlinked user's, get an alert and change nothing.
	for _, u := range []models.User{zhou, stray} {
		p.send(p.Fake.CallbackQuery(u, card, ok.CallbackData))
		if a := p.answer(u.ID, "只有幸福村的积分评议员"); !a.ShowAlert {
			t.Fatalf("not an alert: %+v", a)
		}
	}
	if s := p.claimStatus(1); s != "pending" {
		t.Fatalf("refused taps changed the claim: %s", s)
	}

	// The reviewer approves with one tap.
	p.send(p.Fake.CallbackQuery(sun, card, ok.CallbackData))
	p.answer(sun.ID, "已通过申报 #1")
	edited := p.current(card, "edited to show the decision", func(m tgfake.Message) bool {
		return m.Edited && strings.Contains(m.Plain, "已通过") && len(m.Keyboard) == 0
	})
	mustContain(t, edited.Plain, "孙评议", "公示至11月23日")
	told := p.waitMsg(zhou.ID, "已通过（孙评议）")
	mustContain(t, told.Plain, "#1", "公示至11月23日")

	// A second tap is refused with who decided; nothing more is booked.
	p.send(p.Fake.CallbackQuery(sun, card, no.CallbackData))
	if a := p.answer(sun.ID, "申报 #1 已通过（孙评议），无需重复处理"); !a.ShowAlert {
		t.Fatalf("not an alert: %+v", a)
	}
	if n := p.count(`SELECT count(*) FROM point_ledger WHERE claim_id = 1`); n != 1 {
		t.Fatalf("%d ledger entries", n)
	}
	if p.events("claim.submitted") != 1 || p.events("claim.decided") != 1 {
		t.Fatalf("events: submitted %d decided %d", p.events("claim.submitted"), p.events("claim.decided"))
	}

	// /points: nothing in effect during publicity, then the 3 points.
	m := p.private(zhou, "/points", "周村民家 积分")
	mustContain(t, m.Plain, "当前余额：0 分", "公示中：+3 分", "B04 拾金不昧", "公示至11月23日")
	p.fc.Advance(3 * 24 * time.Hour)
	p.say(p.Fake.PrivateChat(zhou), zhou, "/points")
	p.waitMsg(zhou.ID, "当前余额：<b>3</b> 分")

	// /pending lists open claims for reviewers, with buttons.
	p.private(ptWu, "/claim A02 调解了两家的宅基地纠纷", "已提交积分申报 #2")
	m = p.private(sun, "/pending", "待审核的积分申报（1 条）")
	mustContain(t, m.Plain, "#2 吴村民（吴村民家）", "A02")
	if b, ok := m.Button("驳回 #2"); !ok || b.CallbackData != "cl:2:no" {
		t.Fatalf("pending buttons %+v", m.Keyboard)
	}
	p.send(p.Fake.CallbackQuery(sun, m, "cl:2:no"))
	p.waitMsg(ptWu.ID, "未通过（孙评议）")
	if p.count(`SELECT count(*) FROM point_ledger`) != 1 {
		t.Fatal("a rejection was booked")
	}
}

func TestPointsPhotoClaim(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 20, 0))
	p.send(p.Fake.PhotoMessage(p.Fake.PrivateChat(zhou), zhou, "/claim 巡逻 今晚和护村队一起", "patrol-photo-1"))
	p.waitMsg(zhou.ID, "已提交积分申报 #1")
	var photo string
	if err := p.Srv.Store.DB().GetContext(p.Ctx, &photo, `SELECT photo FROM claims WHERE id = 1`); err != nil || photo != "patrol-photo-1" {
		t.Fatalf("photo %q %v", photo, err)
	}
	// The card is the photo with the claim as caption and the buttons.
	card := p.waitMsg(ptGroup, "积分申报 #1")
	if card.Photo != "patrol-photo-1" || !strings.Contains(card.Caption, "A01") || len(card.Buttons()) != 2 {
		t.Fatalf("photo card %+v", card)
	}
	// The next evening without a photo: refused with the reason.
	p.fc.Advance(24 * time.Hour)
	p.private(zhou, "/claim A01", "该项需要附现场照片")
	// Deciding a photo card edits its caption.
	p.send(p.Fake.CallbackQuery(sun, card, "cl:1:ok"))
	p.answer(sun.ID, "已通过申报 #1")
	method, payload := p.outboxPayload(cardKeyOf(1, 0) + ":decided")
	if method != "editMessageCaption" || payload["edit_of"] != cardKeyOf(1, 0) || !strings.Contains(payload["caption"].(string), "已通过") {
		t.Fatalf("caption edit: %s %v", method, payload)
	}
	if _, ok := payload["text"]; ok {
		t.Fatal("a caption edit carries text")
	}
}

func TestPointsAmbiguousClaimAndNoMatch(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	m := p.private(zhou, "/claim 老人 帮邻居照看", "可能是以下项目")
	var b01 models.InlineKeyboardButton
	for _, b := range m.Buttons() {
		if len(b.CallbackData) > 64 || !strings.HasPrefix(b.CallbackData, "clp:") {
			t.Fatalf("callback data %q", b.CallbackData)
		}
		if strings.HasPrefix(b.Text, "B01 ") {
			b01 = b
		}
	}
	if b01.CallbackData == "" || len(m.Buttons()) < 3 {
		t.Fatalf("keyboard %+v", m.Keyboard)
	}
	if p.count(`SELECT count(*) FROM claims`) != 0 {
		t.Fatal("claimed before the choice")
	}
	// Someone else's tap: refused.
	p.send(p.Fake.CallbackQuery(ptWu, m, b01.CallbackData))
	p.answer(ptWu.ID, "已失效")
	// The villager's pick files the claim with the note kept server-side.
	p.send(p.Fake.CallbackQuery(zhou, m, b01.CallbackData))
	p.answer(zhou.ID, "已提交申报 #1")
	p.current(m, "replaced by the result", func(c tgfake.Message) bool {
		return c.Edited && strings.Contains(c.Plain, "已提交积分申报 #1") && len(c.Keyboard) == 0
	})
	var item, note string
	if err := p.Srv.Store.DB().QueryRowContext(p.Ctx, `SELECT item_code, note FROM claims WHERE id = 1`).Scan(&item, &note); err != nil || item != "B01" || note != "帮邻居照看" {
		t.Fatalf("claim %s %q %v", item, note, err)
	}
	p.waitMsg(ptGroup, "积分申报 #1")
	// A second tap files nothing.
	p.send(p.Fake.CallbackQuery(zhou, m, b01.CallbackData))
	p.answer(zhou.ID, "已失效")
	if p.count(`SELECT count(*) FROM claims`) != 1 {
		t.Fatal("a second tap claimed again")
	}
	// Nothing matches: the categories are listed.
	m = p.private(zhou, "/claim 种花种草养鱼", "没有找到")
	mustContain(t, m.Plain, "平安建设类", "道德建设类", "乡村建设类", "加分项目", "否决项目", "/items")
	// /items lists the catalogue by category.
	m = p.private(zhou, "/items", "积分项目清单")
	mustContain(t, m.Plain, "平安建设类", "A01 参加治安巡逻/护村队值守 +2 分", "E05", "评议员登记")
}

func TestPointsClaimRefusals(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.ClaimsPerHour = 4 })
	p.private(zhou, "/claim B04", "已提交积分申报 #1")
	tests := []struct {
		name string
		from models.User
		text string
		want string
	}{
		{"not a villager", sun, "/claim B04", "只有已登记并绑定账号的村民"},
		{"unlinked", stray, "/claim B04", "只有已登记并绑定账号的村民"},
		{"deduction item", zhou, "/claim A07", "由评议人员登记，不能自行申报"},
		{"veto item by words", zhou, "/claim 拘留", "由评议人员登记"},
		{"certificate without photo", zhou, "/claim D06 今天献血", "证书或证明材料的照片"},
		{"same item same day, another member", zhou, "/claim 拾金不昧", "今天已为该项申报过"},
		{"no words", zhou, "/claim", "请写明申报的项目"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := p.say(p.Fake.PrivateChat(tc.from), tc.from, tc.text)
			if o := p.waitProcessed(id); o != "refused" {
				t.Fatalf("outcome %q", o)
			}
			p.waitMsg(tc.from.ID, tc.want)
		})
	}
	// Caps count pending and approved claims in the window: B04 is 3/month.
	p.fc.Advance(24 * time.Hour)
	p.private(zhou, "/claim B04", "已提交积分申报 #2")
	p.fc.Advance(24 * time.Hour)
	p.private(zhou, "/claim B04", "已提交积分申报 #3")
	p.fc.Advance(24 * time.Hour)
	p.private(zhou, "/claim B04", "该项每月最多 3 次，本月已申报 3 次")
	// The hourly rate: 4 claims per person per hour, counted in the database.
	p.private(zhou, "/claim A02", "#4")
	p.private(zhou, "/claim B01", "#5")
	p.private(zhou, "/claim B03", "#6")
	p.private(zhou, "/claim C10", "没有找到") // not a claim
	p.private(zhou, "/claim D05", "#7")
	p.private(zhou, "/claim B06", "已申报 4 次，达到上限")
	if n := p.count(`SELECT count(*) FROM claims`); n != 7 {
		t.Fatalf("%d claims", n)
	}
}

func TestPointsTwentyConcurrentTaps(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	p.mustCLI("import", "people", "testdata/points_staff.csv")
	reviewers := []models.User{sun}
	for i := 1; i <= 19; i++ {
		u := user(int64(6100+i), fmt.Sprintf("评议员%02d", i))
		p.link(fmt.Sprintf("139000001%02d", i), u)
		reviewers = append(reviewers, u)
	}
	p.private(zhou, "/claim B04 捡到手机交还失主", "已提交积分申报 #1")
	card := p.waitMsg(ptGroup, "积分申报 #1")
	var taps []models.Update
	for i, r := range reviewers {
		data := "cl:1:ok"
		if i%4 == 3 {
			data = "cl:1:no"
		}
		taps = append(taps, p.Fake.CallbackQuery(r, card, data))
	}
	ids := p.postAll(taps)
	if o := p.outcomes(ids); o["ok"] != 1 || o["refused"] != 19 {
		t.Fatalf("outcomes %v, want 1 ok and 19 refused", o)
	}
	status := p.claimStatus(1)
	entries := p.count(`SELECT count(*) FROM point_ledger WHERE claim_id = 1`)
	if (status == "approved") != (entries == 1) || entries > 1 || status == "pending" {
		t.Fatalf("status %s with %d ledger entries", status, entries)
	}
	if n := p.events("claim.decided"); n != 1 {
		t.Fatalf("%d claim.decided events", n)
	}
	if n := p.count(`SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'claim:1:card:%:decided'`); n != 1 {
		t.Fatalf("%d card edits", n)
	}
	if n := p.count(`SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'claim:1:told:%'`); n != 1 {
		t.Fatalf("the claimant was told %d times", n)
	}
	p.drainOutbox()
	alerts := 0
	for _, a := range p.Fake.CallbackAnswers() {
		if strings.Contains(a.Text, "无需重复处理") && a.ShowAlert {
			alerts++
		}
	}
	if alerts != 19 {
		t.Fatalf("%d alerts, want 19", alerts)
	}
}

func TestPointsConcurrentRedemptions(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.PublicityDays = 0 })
	p.mustCLI("import", "people", "testdata/points_staff.csv")
	shops := []models.User{ptZheng}
	for i := 1; i <= 19; i++ {
		u := user(int64(6100+i), fmt.Sprintf("店员%02d", i))
		p.link(fmt.Sprintf("139000001%02d", i), u)
		shops = append(shops, u)
	}
	p.private(zhou, "/claim B01 照顾瘫痪的母亲", "#1") // 5 points
	card := p.waitMsg(ptGroup, "积分申报 #1")
	p.send(p.Fake.CallbackQuery(sun, card, "cl:1:ok"))
	p.waitMsg(zhou.ID, "已计入本户积分")

	// 20 shopkeepers in 20 chats redeem 1 point each at the same moment.
	var us []models.Update
	for i, s := range shops {
		target := "H001"
		if i%2 == 1 {
			target = "13800000006"
		}
		us = append(us, p.Fake.TextMessage(p.Fake.PrivateChat(s), s, "/redeem "+target+" 1 肥皂"))
	}
	ids := p.postAll(us)
	if o := p.outcomes(ids); o["ok"] != 5 || o["refused"] != 15 {
		t.Fatalf("outcomes %v, want 5 ok and 15 refused", o)
	}
	var balance int
	if err := p.Srv.Store.DB().GetContext(p.Ctx, &balance, `SELECT COALESCE(sum(points), 0) FROM point_ledger WHERE household_id = 1`); err != nil || balance != 0 {
		t.Fatalf("balance %d %v", balance, err)
	}
	if n := p.events("points.redeemed"); n != 5 {
		t.Fatalf("%d points.redeemed events", n)
	}
	p.drainOutbox()
	ok, short := 0, 0
	for _, s := range shops {
		for _, m := range p.Fake.MessagesTo(s.ID) {
			ok += strings.Count(m.Plain, "兑换成功")
			short += strings.Count(m.Plain, "积分余额不足")
		}
	}
	if ok != 5 || short != 15 {
		t.Fatalf("replies: %d successes, %d refusals", ok, short)
	}
	// The household gets a receipt for each.
	receipts := 0
	for _, m := range p.Fake.MessagesTo(zhou.ID) {
		if strings.Contains(m.Plain, "积分兑换回执") {
			receipts++
			mustContain(t, m.Plain, "周村民家", "兑换积分：1 分", "肥皂")
		}
	}
	if receipts != 5 {
		t.Fatalf("%d receipts", receipts)
	}
	// Only a shopkeeper of the village redeems.
	p.private(zhou, "/redeem H001 1", "只有积分超市管理员")
}

func TestPointsPublicityAndObjection(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	p.mustCLI("import", "people", "testdata/points_staff.csv")
	qian := user(6101, "评议员01")
	p.link("13900000101", qian)
	p.private(zhou, "/claim B04 捡到钱包", "#1")
	card := p.waitMsg(ptGroup, "积分申报 #1")
	p.send(p.Fake.CallbackQuery(sun, card, "cl:1:ok"))
	p.waitMsg(zhou.ID, "公示至11月23日")

	// During publicity another reviewer objects: the entry is reversed,
	// the claim is pending again and a new card goes to the group.
	p.fc.Advance(24 * time.Hour)
	p.private(zhou, "/object 1 不对", "不能对本户的申报提出异议")
	p.private(qian, "/object 1", "请写明异议理由")
	p.private(qian, "/object #1 失主说钱包是自己找回的", "已对 #1")
	p.current(card, "marked as objected", func(m tgfake.Message) bool { return strings.Contains(m.Plain, "公示期内异议") })
	again := p.waitMsg(ptGroup, "第 2 轮评议")
	mustContain(t, again.Plain, "积分申报 #1", "失主说钱包是自己找回的")
	if b, ok := again.Button("通过"); !ok || b.CallbackData != "cl:1:ok" {
		t.Fatalf("new card buttons %+v", again.Keyboard)
	}
	p.waitMsg(zhou.ID, "收到异议")
	if s := p.claimStatus(1); s != "pending" {
		t.Fatalf("status %s", s)
	}
	m := p.private(zhou, "/points", "周村民家 积分")
	mustContain(t, m.Plain, "当前余额：0 分", "待审核：+3 分（1 条申报）", "冲正")
	if strings.Contains(m.Plain, "公示中") {
		t.Fatalf("publicity shown after the reversal: %q", m.Plain)
	}

	// Approved again in the new round; after its publicity the points count.
	p.send(p.Fake.CallbackQuery(sun, again, "cl:1:ok"))
	p.waitMsg(zhou.ID, "公示至11月24日")
	p.fc.Advance(3 * 24 * time.Hour)
	p.say(p.Fake.PrivateChat(zhou), zhou, "/points")
	p.waitMsg(zhou.ID, "当前余额：<b>3</b> 分")
	// Too late now: corrections are deductions.
	p.private(qian, "/object 1 还是不对", "公示期已于11月24日结束")
	var kinds []string
	if err := p.Srv.Store.DB().SelectContext(p.Ctx, &kinds, `SELECT kind FROM point_ledger WHERE claim_id = 1 ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != "award,reversal,award" {
		t.Fatalf("ledger %v", kinds)
	}
}

func TestPointsVetoDeductionAndRanking(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.PublicityDays = 0 })
	p.private(zhou, "/claim B01", "#1")
	card1 := p.waitMsg(ptGroup, "积分申报 #1")
	p.private(ptWu, "/claim B04", "#2")
	card2 := p.waitMsg(ptGroup, "积分申报 #2")
	p.send(p.Fake.CallbackQuery(sun, card1, "cl:1:ok"))
	p.send(p.Fake.CallbackQuery(sun, card2, "cl:2:ok"))
	p.private(ptWu, "/claim A02 调解纠纷", "#3")
	card3 := p.waitMsg(ptGroup, "积分申报 #3")

	// A deduction by phone; a villager cannot record one.
	p.private(zhou, "/deduct H002 A08", "只有村积分评议员")
	p.private(sun, "/deduct H002 B04", "是加分项目")
	m := p.private(sun, "/deduct 13800000006 A08 与邻居打架", "已登记扣分 #4")
	mustContain(t, m.Plain, "：周村民家，", "-5 分")
	p.waitMsg(zhou.ID, "本户被记录扣分")
	p.waitMsg(ptGroup, "扣分记录 #4")

	// A veto of H002: its pending claim is frozen, it is unranked.
	p.private(sun, "/deduct H002 E02 派出所通报参与赌博", "已登记一票否决 #5")
	p.waitMsg(ptWu.ID, "本户被记录一票否决项目")
	p.waitMsg(ptGroup, "一票否决记录 #5")
	if s := p.claimStatus(3); s != "frozen" {
		t.Fatalf("pending claim of the vetoed household is %s", s)
	}
	p.current(card3, "frozen", func(m tgfake.Message) bool { return strings.Contains(m.Plain, "已冻结") && len(m.Keyboard) == 0 })
	p.waitMsg(ptWu.ID, "已冻结")
	p.send(p.Fake.CallbackQuery(sun, card3, "cl:3:ok"))
	p.answer(sun.ID, "已冻结")
	p.private(ptWu, "/claim C04", "暂停积分申报")

	// Public rankings leave the vetoed household out without naming why;
	// the household itself is told in private.
	m = p.private(zhou, "/rank", "积分排名（截至")
	mustContain(t, m.Plain, "1. 🥇周村民家 — 0 分", "本户：第 1 名，0 分")
	if strings.Contains(m.Plain, "H002") || strings.Contains(m.Plain, "否决") {
		t.Fatalf("ranking names the vetoed household: %q", m.Plain)
	}
	m = p.private(ptWu, "/rank", "积分排名（截至")
	mustContain(t, m.Plain, "本户本期因一票否决不参与排名")
}

func TestPointsSettlementJob(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 30, 23, 40), func(c *config.Config) { c.Points.PublicityDays = 0 })
	p.private(zhou, "/claim B01", "#1")
	p.send(p.Fake.CallbackQuery(sun, p.waitMsg(ptGroup, "积分申报 #1"), "cl:1:ok"))
	p.private(ptWu, "/claim B04", "#2")
	p.send(p.Fake.CallbackQuery(sun, p.waitMsg(ptGroup, "积分申报 #2"), "cl:2:ok"))
	p.waitMsg(ptWu.ID, "已计入本户积分")

	// The scheduler settles November at 00:05 on 1 December.
	if err := p.fc.BlockUntilContext(p.Ctx, 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40 && p.count(`SELECT count(*) FROM settlements`) == 0; i++ {
		p.fc.Advance(time.Minute)
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) && p.count(`SELECT count(*) FROM settlements`) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := p.fc.Now(); got.Before(ptAt(2026, 12, 1, 0, 5)) {
		t.Fatalf("settled at %s, before 00:05", got)
	}
	// QA-RZ-XZ (2 households) and QA-DB-HX (none: not settled) — one row.
	if n := p.count(`SELECT count(*) FROM settlements WHERE period = '2026-11'`); n != 1 {
		t.Fatalf("%d settlements", n)
	}
	// The ranking is announced by the first hourly run after the quiet
	// hours (21:00-08:00): 08:05.
	p.drainOutbox()
	for _, m := range p.Fake.MessagesTo(ptGroup) {
		if strings.Contains(m.Plain, "积分排名") {
			t.Fatalf("ranking posted at %s, in quiet hours", p.fc.Now())
		}
	}
	for i := 0; i < 10 && p.count(`SELECT count(*) FROM settlement_posts WHERE posted_at IS NOT NULL`) == 0; i++ {
		p.fc.Advance(time.Hour)
		deadline := time.Now().Add(500 * time.Millisecond)
		for time.Now().Before(deadline) && p.count(`SELECT count(*) FROM settlement_posts WHERE posted_at IS NOT NULL`) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := p.fc.Now().In(testdb.Loc); got.Hour() < 8 {
		t.Fatalf("posted at %s", got)
	}
	m := p.waitMsg(ptGroup, "2026年11月 积分排名（月度结算）")
	mustContain(t, m.Plain, "1. 🥇周村民家 — 5 分", "2. 🥈吴村民家 — 3 分")
	var snapshot string
	if err := p.Srv.Store.DB().GetContext(p.Ctx, &snapshot, `SELECT string_agg(id || ranking::text, '|') FROM settlements`); err != nil {
		t.Fatal(err)
	}
	// Running it again (the operator, or the next hourly run) changes nothing.
	out := p.mustCLI("points", "settle", "--at", "2026-12-01T09:00:00+08:00")
	if !strings.Contains(out, "period 2026-11: 0 villages settled") {
		t.Fatalf("second run: %q", out)
	}
	p.fc.Advance(time.Hour)
	time.Sleep(300 * time.Millisecond)
	var again string
	if err := p.Srv.Store.DB().GetContext(p.Ctx, &again, `SELECT string_agg(id || ranking::text, '|') FROM settlements`); err != nil {
		t.Fatal(err)
	}
	if again != snapshot || p.events("settlement.closed") != 1 {
		t.Fatalf("second run changed something: %q vs %q, %d events", again, snapshot, p.events("settlement.closed"))
	}
	p.drainOutbox()
	n := 0
	for _, m := range p.Fake.MessagesTo(ptGroup) {
		if strings.Contains(m.Plain, "月度结算") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d settlement posts", n)
	}
}

func TestPointsLedgerRefusesUpdateAndDelete(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.PublicityDays = 0 })
	p.private(zhou, "/claim B01", "#1")
	p.send(p.Fake.CallbackQuery(sun, p.waitMsg(ptGroup, "积分申报 #1"), "cl:1:ok"))
	p.waitMsg(zhou.ID, "已计入本户积分")
	for _, q := range []string{
		`UPDATE point_ledger SET points = 1000`,
		`DELETE FROM point_ledger`,
		`TRUNCATE point_ledger CASCADE`,
	} {
		_, err := p.Srv.Store.DB().ExecContext(p.Ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if n := p.count(`SELECT sum(points) FROM point_ledger`); n != 5 {
		t.Fatalf("ledger sum %d", n)
	}
}

func TestPointsCatalogImport(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	// A bad file: the row and column are named, nothing is imported.
	_, errs, code := p.cli("import", "catalog", "testdata/points_catalog_bad.csv")
	if code != 1 || !strings.Contains(errs, `points_catalog_bad.csv: row 3, column "points"`) {
		t.Fatalf("bad catalogue: exit %d %q", code, errs)
	}
	if n := p.count(`SELECT count(*) FROM point_catalogs`); n != 0 {
		t.Fatalf("%d catalogues after a failed import", n)
	}
	// The county-wide catalogue, as CSV, then as XLSX.
	out := p.mustCLI("import", "catalog", "testdata/points_catalog_county.csv")
	if strings.TrimSpace(out) != "points_catalog_county.csv: 39 rows imported (0 created, 39 updated)" {
		t.Fatalf("summary %q", out)
	}
	rows := [][]string{{"code", "category", "name", "name_en", "points", "veto", "evidence", "cap", "claimable", "aliases"},
		{"A01", "平安建设类", "夜间巡逻", "night patrol", "4", "FALSE", "photo", "1/day", "TRUE", "巡逻"},
		{"Z9", "加分项目", "村晚演出", "village gala", "8", "false", "witness", "1/year", "true", "村晚|演出"}}
	xlsx := filepath.Join(t.TempDir(), "county.xlsx")
	writeXLSX(t, xlsx, rows)
	out = p.mustCLI("import", "catalog", xlsx)
	if strings.TrimSpace(out) != "county.xlsx: 2 rows imported (1 created, 1 updated)" {
		t.Fatalf("summary %q", out)
	}
	p.private(zhou, "/claim 村晚 演了小品", "已提交积分申报 #1")
	// A village override applies to the village only.
	out = p.mustCLI("points", "catalog", "--unit", "QA-RZ-XZ", "testdata/points_catalog_village.csv")
	if !strings.Contains(out, "5 rows imported") || !strings.Contains(out, "QA-RZ-XZ") {
		t.Fatalf("summary %q", out)
	}
	m := p.private(zhou, "/items", "积分项目清单")
	mustContain(t, m.Plain, "C10 清理村内河道 +6 分", "A01 参加治安巡逻/护村队值守 +3 分")
	if strings.Contains(m.Plain, "Z9") {
		t.Fatal("the county's item shows in the village with its own catalogue")
	}
	p.private(zhou, "/claim 河道", "C10 清理村内河道（+6 分）")
	p.private(zhou, "/claim 村晚", "没有找到")
	// Clearing the override brings the county's back.
	p.mustCLI("points", "catalog", "--unit", "QA-RZ-XZ", "--clear")
	p.say(p.Fake.PrivateChat(zhou), zhou, "/items")
	p.waitPlain(zhou.ID, "Z9 村晚演出 +8 分")
	_, errs, code = p.cli("points", "catalog", "--unit", "NOPE", "testdata/points_catalog_village.csv")
	if code != 1 || !strings.Contains(errs, "NOPE") {
		t.Fatalf("unknown unit: %d %q", code, errs)
	}
}

func TestPointsExports(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.PublicityDays = 0 })
	p.private(zhou, "/claim B01 照顾母亲", "#1")
	p.send(p.Fake.CallbackQuery(sun, p.waitMsg(ptGroup, "积分申报 #1"), "cl:1:ok"))
	p.waitMsg(zhou.ID, "已计入本户积分")
	p.private(ptZheng, "/redeem H001 2 食用油", "兑换成功")
	p.private(ptWu, "/claim B04", "#2")

	out := p.mustCLI("export", "ledger", "--unit", "QA-RZ")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0][:6], ",") != "entry_id,date,village,village_name,household,members" {
		t.Fatalf("ledger CSV %q", out)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if recs[1][col["item_code"]] != "B01" || recs[1][col["points"]] != "5" || recs[1][col["balance_after"]] != "5" ||
		recs[2][col["kind"]] != "兑换" || recs[2][col["goods"]] != "食用油" || recs[2][col["balance_after"]] != "3" ||
		recs[1][col["recorded_by"]] != "孙评议" || recs[2][col["date"]] != "2026-11-20" || recs[1][col["status"]] != "已生效" {
		t.Fatalf("ledger rows %q", recs)
	}
	out = p.mustCLI("export", "claims")
	recs, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("claims CSV %q %v", out, err)
	}
	col = map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if recs[1][col["status"]] != "已通过" || recs[1][col["decided_by"]] != "孙评议" || recs[1][col["person"]] != "周村民" ||
		recs[2][col["status"]] != "待审核" || recs[1][col["effective_at"]] == "" {
		t.Fatalf("claims rows %q", recs)
	}
	// XLSX with Chinese headers.
	path := filepath.Join(t.TempDir(), "ledger.xlsx")
	p.mustCLI("export", "ledger", "--out", path)
	xrows := readXLSX(t, path)
	if len(xrows) != 3 || xrows[0][0] != "流水号" || xrows[0][16] != "变动后余额" {
		t.Fatalf("xlsx %v", xrows)
	}
	// Outside the tree: nothing.
	out = p.mustCLI("export", "claims", "--unit", "QA-DB")
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("QA-DB claims %q", out)
	}
}

func TestPointsAPI(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) { c.Points.PublicityDays = 0 })
	reviewer := p.token("QA-RZ", "reviewer")
	shop := p.token("QA-RZ-XZ", "shopkeeper")
	other := p.token("QA-DB", "admin")
	p.private(zhou, "/claim B01 照顾母亲", "#1")
	p.private(ptWu, "/claim B04", "#2")

	code, out := p.api("GET", "/api/v1/claims?status=pending", reviewer, nil)
	if code != 200 || len(out["claims"].([]any)) != 2 {
		t.Fatalf("claims: %d %v", code, out)
	}
	if code, _ := p.api("GET", "/api/v1/claims?status=weird", reviewer, nil); code != 400 {
		t.Fatalf("bad status: %d", code)
	}
	if code, out := p.api("GET", "/api/v1/claims", other, nil); code != 200 || len(out["claims"].([]any)) != 0 {
		t.Fatalf("other county: %d %v", code, out)
	}
	if code, _ := p.api("GET", "/api/v1/claims?unit=QA-RZ-XZ", other, nil); code != 403 {
		t.Fatalf("outside the subtree: %d", code)
	}
	// Decisions: scope, role, exactly once.
	if code, _ := p.api("POST", "/api/v1/claims/1/decision", other, map[string]any{"decision": "approve"}); code != 403 {
		t.Fatalf("other county decides: %d", code)
	}
	if code, _ := p.api("POST", "/api/v1/claims/1/decision", shop, map[string]any{"decision": "approve"}); code != 403 {
		t.Fatalf("shopkeeper decides: %d", code)
	}
	if code, _ := p.api("POST", "/api/v1/claims/1/decision", reviewer, map[string]any{"decision": "maybe"}); code != 400 {
		t.Fatalf("bad decision: %d", code)
	}
	code, out = p.api("POST", "/api/v1/claims/1/decision", reviewer, map[string]any{"decision": "approve"})
	if code != 200 || out["claim"].(map[string]any)["status"] != "approved" || out["ledger_entry"] == nil {
		t.Fatalf("approve: %d %v", code, out)
	}
	if code, _ := p.api("POST", "/api/v1/claims/1/decision", reviewer, map[string]any{"decision": "reject"}); code != 409 {
		t.Fatalf("second decision: %d", code)
	}
	code, out = p.api("POST", "/api/v1/claims/2/decision", reviewer, map[string]any{"decision": "reject", "reason": "无人证明"})
	if code != 200 || out["claim"].(map[string]any)["reason"] != "无人证明" {
		t.Fatalf("reject: %d %v", code, out)
	}
	p.waitMsg(ptWu.ID, "理由：无人证明")
	p.current(p.waitMsg(ptGroup, "积分申报 #1"), "edited by the API decision", func(m tgfake.Message) bool {
		return strings.Contains(m.Plain, "已通过") && strings.Contains(m.Plain, "api:")
	})
	// Redemptions: the balance holds.
	if code, out := p.api("POST", "/api/v1/redemptions", shop, map[string]any{"household": "H001", "points": 6}); code != 409 {
		t.Fatalf("overdraw: %d %v", code, out)
	}
	code, out = p.api("POST", "/api/v1/redemptions", shop, map[string]any{"household": "13800000006", "points": 4, "goods": "大米"})
	if code != 201 || out["balance_after"].(float64) != 1 {
		t.Fatalf("redeem: %d %v", code, out)
	}
	p.waitMsg(zhou.ID, "积分兑换回执")
	if code, _ := p.api("POST", "/api/v1/redemptions", reviewer, map[string]any{"household": "H001", "points": 1}); code != 403 {
		t.Fatalf("reviewer redeems: %d", code)
	}
	if code, _ := p.api("POST", "/api/v1/redemptions", shop, map[string]any{"household": "H001", "points": 1, "unit": "QA-DB-HX"}); code != 403 {
		t.Fatalf("redeem outside the scope: %d", code)
	}
	// The ledger with running balances.
	code, out = p.api("GET", "/api/v1/ledger?household=H001&unit=QA-RZ-XZ", reviewer, nil)
	if code != 200 || out["balance"].(float64) != 1 || len(out["entries"].([]any)) != 2 {
		t.Fatalf("ledger: %d %v", code, out)
	}
	if code, _ := p.api("GET", "/api/v1/ledger?household=H001", other, nil); code != 404 {
		t.Fatalf("ledger outside the scope: %d", code)
	}
	// Settlements.
	p.mustCLI("points", "settle", "--at", "2026-12-01T00:05:00+08:00")
	code, out = p.api("GET", "/api/v1/settlements?period=2026-11", reviewer, nil)
	if code != 200 || len(out["settlements"].([]any)) != 1 {
		t.Fatalf("settlements: %d %v", code, out)
	}
	st := out["settlements"].([]any)[0].(map[string]any)
	if st["village"] != "QA-RZ-XZ" || st["ranking"].([]any)[0].(map[string]any)["points"].(float64) != 5 {
		t.Fatalf("settlement %v", st)
	}
	if code, out := p.api("GET", "/api/v1/settlements", other, nil); code != 200 || len(out["settlements"].([]any)) != 0 {
		t.Fatalf("settlements of the other county: %d %v", code, out)
	}
}

// A reviewer never decides a claim of their own household; another reviewer
// of the village still can (issue #13 item 6).
func TestPointsReviewerOwnHousehold(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	db := p.Srv.Store.DB()
	// 孙评议 moves into 周村民's household H001; 吴村民 (H002) becomes a reviewer too.
	if _, err := db.ExecContext(p.Ctx, `UPDATE people SET household_id = (SELECT household_id FROM people WHERE phone = '13800000006') WHERE phone = '13800000005'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(p.Ctx, `INSERT INTO roles (person_id, role, unit_id) SELECT p.id, 'reviewer', u.id FROM people p, units u WHERE p.phone = '13800000007' AND u.code = 'QA-RZ-XZ'`); err != nil {
		t.Fatal(err)
	}
	p.private(zhou, "/claim B04 捡到钱包交给村委", "已提交积分申报 #1")
	card := p.waitMsg(ptGroup, "积分申报 #1")
	ok, _ := card.Button("通过")

	p.send(p.Fake.CallbackQuery(sun, card, ok.CallbackData))
	if a := p.answer(sun.ID, "您不能审核本户的申报"); !a.ShowAlert {
		t.Fatalf("not an alert: %+v", a)
	}
	if s := p.claimStatus(1); s != "pending" {
		t.Fatalf("own-household tap changed the claim: %s", s)
	}
	if n := p.count(`SELECT count(*) FROM audit_log WHERE action = 'claim.decide' AND subject = 'claim:1' AND NOT allowed AND actor_id = (SELECT id FROM people WHERE phone = '13800000005')`); n != 1 {
		t.Fatalf("%d refused audit entries", n)
	}

	p.send(p.Fake.CallbackQuery(ptWu, card, ok.CallbackData))
	p.answer(ptWu.ID, "已通过申报 #1")
	if s := p.claimStatus(1); s != "approved" {
		t.Fatalf("other reviewer's approval: %s", s)
	}
}
