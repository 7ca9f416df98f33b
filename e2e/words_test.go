package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
)

// SPEC §7.3: every command has Chinese words, in groups and private chats;
// chatter that merely starts like one is no command; a command is never
// answered with silence.
func TestChineseCommandWordsForPoints(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))

	// In the village group: "积分很重要" is chatter, "排名" is /rank.
	id := p.say(p.group, zhou, "积分很重要，大家多参加")
	if o := p.waitProcessed(id); o != "ignored" {
		t.Fatalf("chatter: outcome %q", o)
	}
	p.say(p.group, zhou, "排名")
	m := p.waitMsg(ptGroup, "积分排名（截至")
	mustContain(t, m.Plain, "2026年11月")
	if strings.Contains(m.Plain, "2026-11 ") {
		t.Fatalf("the ranking shows a period key: %q", m.Plain)
	}

	// In private: 积分项目 is /items (not /points), 我的积分 and 积分 are /points.
	p.private(zhou, "积分项目", "积分项目清单")
	p.private(zhou, "我的积分", "当前余额")
	if n := len(p.Fake.MessagesTo(zhou.ID)); n != 2 {
		t.Fatalf("%d replies to zhou, want 2", n)
	}
	p.private(ptWu, "积分？", "当前余额")

	// 帮助 lists the words with the commands.
	h := p.private(zhou, "帮助", "可用命令")
	mustContain(t, h.Plain, "申报（/claim）", "积分、我的积分（/points）", "排名（/rank）", "积分项目（/items）")

	// A word whose arguments cannot be understood is answered, in the group too.
	for _, text := range []string{"申报", "兑换 H001 5"} {
		before := len(p.Fake.MessagesTo(ptGroup))
		if o := p.waitProcessed(p.say(p.group, zhou, text)); o == "ignored" || o == "error" {
			t.Fatalf("%q: outcome %q", text, o)
		}
		deadline := time.Now().Add(15 * time.Second)
		for len(p.Fake.MessagesTo(ptGroup)) == before {
			if time.Now().After(deadline) {
				t.Fatalf("%q in the group got no answer", text)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestChineseCommandWordsForCheckins(t *testing.T) {
	h := ciStart(t) // Thursday 2026-11-26

	// 纪实 with a weekday of last week and attendance as people write it.
	m := h.reply(h.b2, li, "纪实：支委 上周五 应到9人 实到7人 学习全会精神", "打卡成功")
	mustContain(t, m.Text, "支部委员会 · 2026年11月")
	c := h.last()
	if c.HeldOn != "2026-11-20" || c.Present == nil || *c.Present != 7 || *c.Total != 9 || c.Topic != "学习全会精神" {
		t.Fatalf("recorded %+v", c)
	}
	// Only half an attendance is asked for, not guessed.
	id := h.say(h.b2, li, "打卡 党课 20号 实到7人")
	if o := h.waitProcessed(id); o != "refused" {
		t.Fatalf("half an attendance: outcome %q", o)
	}
	h.waitMsg(h.b2.ID, "请把应到和实到都写上")

	// 状态 in the branch group shows its lights by name, without codes.
	h.say(h.b2, li, "状态")
	st := h.waitMsg(h.b2.ID, "体检：")
	mustContain(t, st.Text, "幸福村第二党支部", "2026年11月")
	if strings.Contains(st.Text, "QA-RZ") {
		t.Fatalf("/status shows a unit code: %q", st.Text)
	}

	// 收到 from a villager in a group is the everyday "got it": no answer.
	id = h.say(h.b2, zhou, "收到")
	if o := h.waitProcessed(id); o != "ignored" {
		t.Fatalf("收到 from a villager: outcome %q", o)
	}

	// 撤回 withdraws the last check-in.
	h.reply(h.b2, li, "撤回", "已撤回打卡")

	// The organiser's words: arguments may still be unit codes, but replies
	// name the unit and read the period.
	private := h.Fake.PrivateChat(ciZhao)
	m = h.reply(private, ciZhao, "豁免 QA-RZ-XZ-B2 党课 2026年第四季度 书记住院", "已豁免")
	mustContain(t, m.Text, "幸福村第二党支部", "党课", "2026年第四季度")
	m = h.reply(private, ciZhao, "静默 QA-RZ 11-30 防汛抢险", "已静默")
	mustContain(t, m.Text, "让字镇")
	for _, r := range []tgfake.Message{m, h.waitMsg(ciZhao.ID, "已豁免")} {
		if strings.Contains(r.Text, "QA-RZ") || strings.Contains(r.Text, "2026-Q4") {
			t.Fatalf("a reply shows a code: %q", r.Text)
		}
	}
	h.reply(private, ciZhao, "豁免 QA-RZ-XZ-B2 开大会 2026年11月 x", "没认出“开大会”。可写：党员大会、支委会")
}

// 绑定 in a private chat with a code links the account, like /start.
func TestChineseBindWordLinksAccount(t *testing.T) {
	h := start(t)
	h.seed()
	chat := h.Fake.PrivateChat(li)
	h.say(chat, li, "帮助")
	h.waitMsg(li.ID, "还没有绑定账号")
	h.say(chat, li, "绑定 "+h.bindCode("13800000002"))
	m := h.waitMsg(li.ID, "绑定成功")
	mustContain(t, m.Plain, "李书记", "打卡、签到、纪实（/checkin）")
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, li.ID); err != nil {
		t.Fatalf("not linked: %v", err)
	}
}

// Dates for /silence lie ahead (issue 15 item 6): a year-less date is the next
// one, ranges and Chinese date words are read, and a date that would silence
// for most of a year is asked, not taken.
func TestSilenceDatesAhead(t *testing.T) {
	h := ciStart(t) // Thursday 2026-11-26, 10:00 in Shanghai
	private := h.Fake.PrivateChat(ciZhao)
	last := func() (from, until string) {
		t.Helper()
		var f, u time.Time
		if err := h.Srv.Store.DB().QueryRowContext(h.Ctx, `SELECT starts_at, ends_at FROM health_silences ORDER BY id DESC LIMIT 1`).Scan(&f, &u); err != nil {
			t.Fatal(err)
		}
		return f.In(testdb.Loc).Format("2006-01-02 15:04"), u.In(testdb.Loc).Format("2006-01-02 15:04")
	}
	count := func() int {
		return testdb.Count(t, h.Srv.Store, `SELECT count(*) FROM health_silences`)
	}
	for i, tc := range []struct {
		cmd, reply, from, until string
	}{
		{"静默 QA-RZ 12-05 防汛", "至 2026-12-05 结束", "2026-11-26 10:00", "2026-12-06 00:00"},
		{"静默 QA-RZ 下周五 防汛", "至 2026-12-04 结束", "2026-11-26 10:00", "2026-12-05 00:00"},
		{"静默 QA-RZ 5号 防汛", "至 2026-12-05 结束", "2026-11-26 10:00", "2026-12-06 00:00"},
		{"静默 QA-RZ 月底 防汛", "至 2026-11-30 结束", "2026-11-26 10:00", "2026-12-01 00:00"},
		{"静默 QA-RZ 党课 11月28日至12月3日 书记住院", "自 2026-11-28 起，至 2026-12-03 结束", "2026-11-28 00:00", "2026-12-04 00:00"},
		{"静默 QA-RZ 12-01 至 12-05 防汛 抢险 ", "自 2026-12-01 起，至 2026-12-05 结束", "2026-12-01 00:00", "2026-12-06 00:00"},
		{"静默 QA-RZ 2027-11-20 驻村帮扶", "至 2027-11-20 结束", "2026-11-26 10:00", "2027-11-21 00:00"},
	} {
		reason := fmt.Sprintf("第%d次", i+1) // tells the replies apart
		m := h.reply(private, ciZhao, tc.cmd+reason, reason)
		mustContain(t, m.Text, "已静默", tc.reply)
		if from, until := last(); from != tc.from || until != tc.until || count() != i+1 {
			t.Fatalf("%q: silence %s..%s (%d silences), want %s..%s", tc.cmd, from, until, count(), tc.from, tc.until)
		}
	}
	// 11-20 on 11-26 would be next year's: asked, nothing recorded.
	h.reply(private, ciZhao, "静默 QA-RZ 11-20 防汛抢险", "如确是明年，请写明年份，如 2027-11-20")
	// A range that ends before it starts, and a past day, are refused.
	h.reply(private, ciZhao, "静默 QA-RZ 12月5日至12月1日 防汛抢险", "无法识别截止日期")
	h.reply(private, ciZhao, "静默 QA-RZ 昨天 防汛抢险", "结束时间必须晚于现在")
	if count() != 7 {
		t.Fatalf("%d silences after the refusals", count())
	}
}
