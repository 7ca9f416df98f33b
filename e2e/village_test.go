package e2e

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/tgfake"
)

// The villagers' group of 幸福村 (/bind 公示); ptGroup is its reviewers'.
const vlPublicGroup = -1001000000777

// Points as villages run them (SPEC §7.4), from outside: two groups, a
// quorum of two reviewers, the daily 公示 list, a villager's objection
// decided by the reviewers, a veto for the act's year told privately, and
// the month and year settlement with stars in the group, the API, the
// export and the dashboard.
func TestVillagePointsAsVillagesRunThem(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0), func(c *config.Config) {
		c.Points.ReviewQuorum = 2
		c.Points.Stars = []int{1, 3, 5, 7, 9}
		c.Healthcheck.Calendar = "none" // 1 January 2027 need not be a day off here
	})
	p.Env = append(p.Env, "ZHIBU_POINTS_STARS=1,3,5,7,9") // the CLI's settlement too
	p.mustCLI("import", "people", "testdata/points_staff.csv")
	qian := user(6101, "评议员01")
	p.link("13900000101", qian)
	vg := p.Fake.Group(vlPublicGroup, "幸福村村民群")

	// Two bindings: a villager binds nothing; the reviewer binds both.
	p.say(vg, sun, "/bind 公示")
	p.waitMsg(vlPublicGroup, "积分公示群")
	p.say(p.group, sun, "绑定 评议")
	p.waitMsg(ptGroup, "积分评议群")

	// Quorum 2: the first 通过 is recorded on the card, the second decides.
	p.private(zhou, "/claim B01 照顾母亲", "#1")
	card := p.waitMsg(ptGroup, "积分申报 #1")
	if ms := p.Fake.MessagesTo(vlPublicGroup); len(ms) != 1 {
		t.Fatalf("the villagers' group got a card: %d messages", len(ms))
	}
	p.send(p.Fake.CallbackQuery(sun, card, "cl:1:ok"))
	p.answer(sun.ID, "已记录您的同意（1/2）")
	p.current(card, "shows the first approval with the buttons", func(m tgfake.Message) bool {
		return strings.Contains(m.Plain, "已同意：孙评议（1/2）") && len(m.Keyboard) > 0
	})
	p.send(p.Fake.CallbackQuery(sun, card, "cl:1:ok"))
	p.answer(sun.ID, "您已同意申报 #1")
	p.send(p.Fake.CallbackQuery(qian, card, "cl:1:ok"))
	p.waitMsg(zhou.ID, "已通过（孙评议、评议员01）")
	p.current(card, "decided", func(m tgfake.Message) bool { return strings.Contains(m.Plain, "已通过") && len(m.Keyboard) == 0 })
	p.private(zhou, "/claim B04 拾金不昧", "#2")
	card2 := p.waitMsg(ptGroup, "积分申报 #2")
	p.send(p.Fake.CallbackQuery(qian, card2, "cl:2:ok"))
	p.answer(qian.ID, "1/2")
	p.send(p.Fake.CallbackQuery(sun, card2, "cl:2:ok"))
	p.waitMsg(zhou.ID, "#2 B04 拾金不昧（+3 分） 已通过")

	// The daily 公示 list goes to the villagers' group.
	out := p.mustCLI("points", "publicity", "--at", "2026-11-23T09:00:00+08:00")
	if !strings.Contains(out, "1 villages posted") {
		t.Fatalf("publicity: %q", out)
	}
	list := p.waitMsg(vlPublicGroup, "积分公示（")
	mustContain(t, list.Plain, "#1", "B01 孝老爱亲", "#2", "异议 申报号 理由")

	// 吴村民 objects in the villagers' group; the reviewers uphold it.
	p.say(vg, ptWu, "异议 1 那天他在外地打工")
	p.waitMsg(vlPublicGroup, "已收到您对申报 #1")
	oc := p.waitMsg(ptGroup, "公示异议：申报 #1")
	mustContain(t, oc.Plain, "吴村民", "那天他在外地打工")
	p.waitMsg(zhou.ID, "收到村民异议")
	m := p.private(zhou, "/points", "当前余额")
	mustContain(t, m.Plain, "公示中：+3 分")
	// /pending shows the reviewers the claim under objection, with its
	// buttons; nothing else waits.
	m = p.private(sun, "/pending", "公示异议待评议（1 条）")
	mustContain(t, m.Plain, "#1", "B01 孝老爱亲", "吴村民", "那天他在外地打工")
	if strings.Contains(m.Plain, "待审核的积分申报（") {
		t.Fatalf("pending lists claims to decide: %q", m.Plain)
	}
	if b, ok := m.Button("维持异议 #1"); !ok || b.CallbackData != "ob:1:up" {
		t.Fatalf("pending objection buttons %+v", m.Keyboard)
	}
	if b, ok := m.Button("驳回异议 #1"); !ok || b.CallbackData != "ob:1:no" {
		t.Fatalf("pending objection buttons %+v", m.Keyboard)
	}
	p.send(p.Fake.CallbackQuery(zhou, oc, "ob:1:up"))
	p.answer(zhou.ID, "积分评议员才能处理异议")
	p.send(p.Fake.CallbackQuery(qian, oc, "ob:1:up"))
	p.answer(qian.ID, "异议成立")
	p.waitMsg(ptWu.ID, "异议经评议成立")
	p.waitMsg(zhou.ID, "异议经评议成立")
	p.send(p.Fake.CallbackQuery(sun, oc, "ob:1:no"))
	p.answer(sun.ID, "已由评议员01处理")
	if s := p.claimStatus(1); s != "rejected" {
		t.Fatalf("claim 1 is %s", s)
	}
	p.private(sun, "/pending", "目前没有待审核的积分申报，也没有待评议的公示异议。")

	// Through the API an approval counts toward the quorum too.
	p.private(ptWu, "/claim B04 捡到手机", "#3")
	card3 := p.waitMsg(ptGroup, "积分申报 #3")
	reviewer := p.token("QA-RZ-XZ", "reviewer")
	code, body := p.api("POST", "/api/v1/claims/3/decision", reviewer, map[string]any{"decision": "approve"})
	if code != 200 || body["awaiting_approvals"] != float64(1) || body["ledger_entry"] != nil {
		t.Fatalf("API approval: %d %v", code, body)
	}
	p.send(p.Fake.CallbackQuery(sun, card3, "cl:3:ok"))
	p.waitMsg(ptWu.ID, "#3 B04 拾金不昧（+3 分） 已通过")

	// A veto for the act's year, told privately.
	p.say(vg, sun, "/deduct H002 E02 2026-11-18")
	p.waitMsg(vlPublicGroup, "不在公示群里登记")
	m = p.private(sun, "/deduct H002 E02 2026-11-18", "已登记一票否决")
	mustContain(t, m.Plain, "2026年度不参加积分排名和奖励")
	p.waitMsg(ptWu.ID, "本户2026年度不参加积分排名和奖励")
	p.private(sun, "/deduct H002 E02 2026-12-25", "还没到")

	// Settlement of December and of 2026: announced at 08:05, with stars,
	// H002 left out without a word.
	out = p.mustCLI("points", "settle", "--at", "2027-01-01T00:05:00+08:00")
	mustContain(t, out, "period 2026-12: 1 villages settled, 0 rankings posted", "period 2026: 1 villages settled, 0 rankings posted")
	out = p.mustCLI("points", "settle", "--at", "2027-01-01T08:05:00+08:00")
	mustContain(t, out, "period 2026-12: 0 villages settled, 1 rankings posted", "period 2026: 0 villages settled, 1 rankings posted")
	post := p.waitMsg(vlPublicGroup, "2026年度 积分排名（年度结算）")
	mustContain(t, post.Plain, "1. 🥇周村民家 — 3 分", "星级文明户", "2星：周村民家")
	p.waitMsg(vlPublicGroup, "2026年12月 积分排名（月度结算）")
	p.drainOutbox()
	for _, m := range p.Fake.MessagesTo(vlPublicGroup) {
		if strings.Contains(m.Plain, "吴村民") || strings.Contains(m.Plain, "否决") || strings.Contains(m.Plain, "E02") {
			t.Fatalf("the villagers' group reads of the veto: %q", m.Plain)
		}
	}

	// The API, the exports and the dashboard carry the stars.
	org := p.token("QA-RZ", "organiser")
	code, body = p.api("GET", "/api/v1/settlements?period=2026", org, nil)
	ss, _ := body["settlements"].([]any)
	if code != 200 || len(ss) != 1 {
		t.Fatalf("settlements: %d %v", code, body)
	}
	st := ss[0].(map[string]any)
	rows := st["ranking"].([]any)
	first, second := rows[0].(map[string]any), rows[1].(map[string]any)
	if st["kind"] != "yearly" || first["household"] != "H001" || first["stars"] != float64(2) || second["vetoed"] != true || second["stars"] != nil {
		t.Fatalf("yearly settlement %v", st)
	}
	recs, err := csv.NewReader(strings.NewReader(p.mustCLI("export", "settlements", "--unit", "QA-RZ-XZ"))).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("settlements export %v %v", recs, err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	yearRow := 0
	for i, r := range recs {
		if r[col["period"]] == "2026" && r[col["household"]] == "H001" {
			yearRow = i
		}
	}
	if yearRow == 0 || recs[yearRow][col["stars"]] != "2" || recs[yearRow][col["period_name"]] != "2026年度" {
		t.Fatalf("settlements export %q", recs)
	}
	recs, err = csv.NewReader(strings.NewReader(p.mustCLI("export", "ledger", "--unit", "QA-RZ-XZ"))).ReadAll()
	if err != nil || len(recs) < 2 || !slices.Contains(recs[0], "stars") || !slices.Contains(recs[0], "household_name") {
		t.Fatalf("ledger export %q %v", recs, err)
	}
	for i, h := range recs[0] {
		col[h] = i
	}
	if recs[1][col["stars"]] != "2" || recs[1][col["household"]] != "H001" || recs[1][col["household_name"]] != "周村民家" {
		t.Fatalf("ledger export %q", recs)
	}
	c := dashLogin(t, p.H, org)
	resp, page := dashGet(t, c, p.Base+"/rankings?unit=QA-RZ-XZ")
	if resp.StatusCode != 200 {
		t.Fatalf("rankings page %d", resp.StatusCode)
	}
	mustContain(t, page, "近 12 个月本村积分", "<svg", "<rect", "结算记录", "2026年度（年度结算）", "星级文明户", "2星")
}
