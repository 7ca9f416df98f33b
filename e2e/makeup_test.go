package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// makeUpStart: 李书记's branch QA-RZ-XZ-B2 owes from 2026-10-01; on
// 2026-12-02 its 支委会 of October and November are red.
func makeUpStart(t *testing.T) *H {
	t.Helper()
	fc := clockwork.NewFakeClockAt(hcAt(2026, 12, 2, 10, 0))
	h := start(t, withClock(fc))
	h.seed()
	h.startUnits(func(string) time.Time { return time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC) })
	h.link("13800000002", li)
	return h
}

// makeUpItem is the stored period and late flag of check-in id's first item.
func makeUpItem(t *testing.T, h *H, id int64) (string, bool, string) {
	t.Helper()
	c, err := h.Srv.Store.CheckinByID(h.Ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Items[0].Period, c.Items[0].Late, c.HeldOn
}

// TestMakeUpAskedWithButtons (SPEC §7.1): a 支委会 held today while
// November's is red asks which period it was for; the tap on
// 2026年11月（补开） files it for November, late, with today's date; the
// next one, with no red November left, asks about October.
func TestMakeUpAskedWithButtons(t *testing.T) {
	h := makeUpStart(t)
	chat := h.Fake.PrivateChat(li)
	h.say(chat, li, "打卡 支委会 今天 7/9 学习全会精神")
	q := h.waitMsg(li.ID, "这次会议是为哪一期开的")
	nov, ok := q.Button("2026年11月（补开）")
	_, okOct := q.Button("2026年10月（补开）")
	_, okNow := q.Button("2026年12月（本期）")
	if !ok || !okOct || !okNow || len(q.Buttons()) != 3 {
		t.Fatalf("buttons %+v", q.Keyboard)
	}
	if n := hcCount(t, h, `SELECT count(*) FROM checkins`); n != 0 {
		t.Fatal("recorded before the period was chosen")
	}
	// Only the sender may choose.
	h.send(h.Fake.CallbackQuery(wang, q, nov.CallbackData))
	ciWaitAnswer(t, h, "这不是您的打卡")
	h.send(h.Fake.CallbackQuery(li, q, nov.CallbackData))
	conf := h.waitMsg(li.ID, "打卡成功")
	mustContain(t, conf.Text, "支部委员会 · 2026年11月 · 补开", "本次记为补开", "日期：2026-12-02")
	if p, late, held := makeUpItem(t, h, 1); p != "2026-11" || !late || held != "2026-12-02" {
		t.Fatalf("stored %s late %v held %s", p, late, held)
	}
	// The answer for the current period files it by its date, on time.
	h.say(chat, li, "打卡 支委会 今天 7/9 第二次")
	q = h.waitMsg(li.ID, "这次会议是为哪一期开的")
	cur, ok := q.Button("2026年12月（本期）")
	if _, hasNov := q.Button("2026年11月（补开）"); !ok || hasNov {
		t.Fatalf("buttons after November's 补开: %+v", q.Keyboard)
	}
	h.send(h.Fake.CallbackQuery(li, q, cur.CallbackData))
	h.waitMsg(li.ID, "（#2）")
	if p, late, _ := makeUpItem(t, h, 2); p != "2026-12" || late {
		t.Fatalf("the current period: %s late %v", p, late)
	}
}

// TestMakeUpNamedInTheText: 补开10月 in the command chooses at once; a
// period already done, or a quarter for a monthly activity, is refused.
func TestMakeUpNamedInTheText(t *testing.T) {
	h := makeUpStart(t)
	chat := h.Fake.PrivateChat(li)
	h.say(chat, li, "打卡 支委会 补开10月 今天 7/9 学习")
	conf := h.waitMsg(li.ID, "打卡成功")
	mustContain(t, conf.Text, "支部委员会 · 2026年10月 · 补开")
	if p, late, held := makeUpItem(t, h, 1); p != "2026-10" || !late || held != "2026-12-02" {
		t.Fatalf("stored %s late %v held %s", p, late, held)
	}
	h.say(chat, li, "打卡 支委会 补开10月 今天")
	h.waitMsg(li.ID, "2026年10月支部委员会已有打卡，无需补开")
	h.say(chat, li, "打卡 支委会 补第三季度 今天")
	h.waitMsg(li.ID, "没看懂要补开支部委员会的哪一期")
	if n := hcCount(t, h, `SELECT count(*) FROM checkins`); n != 1 {
		t.Fatalf("%d check-ins", n)
	}
	// The 台账 marks it 补开 (and not on time).
	out := h.mustCLI("export", "checkins")
	if !strings.Contains(out, ",2026-10,2026-12-02,") || !strings.Contains(out, ",false,false,false,") {
		t.Fatalf("ledger:\n%s", out)
	}
}
