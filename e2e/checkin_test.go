package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/storage"
)

// The check-in tests run on a fake clock at 2026-11-26 10:00 (Asia/Shanghai)
// with every unit started on 2026-11-01: in November the committee meeting
// (支委会) is in its yellow window (from 11-24), the themed party day is not
// yet (from 11-28).
var (
	ciFeng = user(5009, "冯") // secretary of QA-DB-HX-B1
	ciZhao = user(5003, "赵") // organiser of township QA-RZ
	ciQian = user(5004, "钱") // organiser of county QA
)

const (
	ciGroupB1 = -1001000000301 // bound to QA-RZ-XZ-B1
	ciGroupB2 = -1001000000302 // bound to QA-RZ-XZ-B2
)

type ciH struct {
	*H
	fc       *clockwork.FakeClock
	b1, b2   models.Chat
	b1ID     int64
	b2ID     int64
	startDay time.Time
}

func ciStart(t *testing.T) *ciH {
	t.Helper()
	c := ciStartB1(t)
	c.b2 = c.Fake.Group(ciGroupB2, "第二支部群")
	if err := c.Srv.Store.BindGroup(c.Ctx, ciGroupB2, c.b2ID, "第二支部群", 0); err != nil {
		t.Fatal(err)
	}
	return c
}

// ciStartB1 is ciStart with opts added and only B1's group bound.
func ciStartB1(t *testing.T, opts ...option) *ciH {
	t.Helper()
	fc := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 10, 0, 0, 0, testdb.Loc))
	h := start(t, append([]option{withClock(fc)}, opts...)...)
	h.seed()
	c := &ciH{H: h, fc: fc, startDay: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for _, u := range h.startUnits(func(string) time.Time { return c.startDay }) {
		switch u.Code {
		case "QA-RZ-XZ-B1":
			c.b1ID = u.ID
		case "QA-RZ-XZ-B2":
			c.b2ID = u.ID
		}
	}
	h.link("13800000001", wang)
	h.link("13800000002", li)
	h.link("13800000003", ciZhao)
	h.link("13800000004", ciQian)
	h.link("13800000006", zhou)
	h.link("13800000009", ciFeng)
	c.b1 = h.Fake.Group(ciGroupB1, "第一支部群")
	if err := h.Srv.Store.BindGroup(h.Ctx, ciGroupB1, c.b1ID, "第一支部群", 0); err != nil {
		t.Fatal(err)
	}
	return c
}

// last is the most recent check-in.
func (c *ciH) last() storage.Checkin {
	c.t.Helper()
	var id int64
	if err := c.Srv.Store.DB().GetContext(c.Ctx, &id, `SELECT COALESCE(max(id), 0) FROM checkins`); err != nil || id == 0 {
		c.t.Fatalf("no check-in: %v", err)
	}
	ch, err := c.Srv.Store.CheckinByID(c.Ctx, id)
	if err != nil {
		c.t.Fatal(err)
	}
	return ch
}

func (c *ciH) count() int {
	c.t.Helper()
	return testdb.Count(c.t, c.Srv.Store, `SELECT count(*) FROM checkins`)
}

// reply sends text and waits for the answer containing want.
func (c *ciH) reply(chat models.Chat, from models.User, text, want string) tgfake.Message {
	c.t.Helper()
	c.say(chat, from, text)
	return c.waitMsg(chat.ID, want)
}

func (c *ciH) events(typ string) []map[string]any {
	c.t.Helper()
	var raws []json.RawMessage
	if err := c.Srv.Store.DB().SelectContext(c.Ctx, &raws, `SELECT payload FROM events WHERE type = $1 ORDER BY id`, typ); err != nil {
		c.t.Fatal(err)
	}
	out := make([]map[string]any, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			c.t.Fatal(err)
		}
	}
	return out
}

func mustContain(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("%q lacks %q", s, w)
		}
	}
}

func TestCheckinInGroupPrivatelyAndWithPhoto(t *testing.T) {
	h := ciStart(t)

	// In the bound branch group, with attendance and topic.
	m := h.reply(h.b2, li, "/checkin 支委会 11-25 7/9 学习二十大精神", "打卡成功")
	mustContain(t, m.Text, "幸福村第二党支部", "支部委员会", "2026年11月", "7/9", "学习二十大精神", "🟢 支部委员会 · 2026年11月 · 已完成")
	c := h.last()
	if c.BranchCode != "QA-RZ-XZ-B2" || c.HeldOn != "2026-11-25" || *c.Present != 7 || *c.Total != 9 || c.Topic != "学习二十大精神" ||
		len(c.Items) != 1 || c.Items[0].Obligation != "committee_meeting" || c.Items[0].Period != "2026-11" || c.Items[0].Late || c.Items[0].Extra {
		t.Fatalf("stored %+v", c)
	}
	if c.RecordedAt.IsZero() || !c.RecordedAt.Equal(h.fc.Now()) {
		t.Fatalf("recorded at %v, want the server clock %v", c.RecordedAt, h.fc.Now())
	}

	// Privately (li has one branch), several obligations at one sitting.
	m = h.reply(h.Fake.PrivateChat(li), li, "/checkin 主题党日+党课 11-20 8/9 主题党日活动", "打卡成功")
	mustContain(t, m.Text, "主题党日 · 2026年11月", "党课 · 2026年第四季度")
	c = h.last()
	if len(c.Items) != 2 || c.Items[0].Obligation != "theme_day" || c.Items[1].Obligation != "party_lecture" || c.Items[1].Period != "2026-Q4" {
		t.Fatalf("multi-obligation items %+v", c.Items)
	}

	// A photo whose caption is the command: the largest size is the evidence.
	h.send(h.Fake.PhotoMessage(h.Fake.PrivateChat(li), li, "/checkin 党员大会 昨天 6/9", "sign-in-sheet"))
	m = h.waitMsg(li.ID, "• 支部党员大会")
	mustContain(t, m.Text, "佐证照片 1 张")
	c = h.last()
	if len(c.Evidence) != 1 || c.Evidence[0] != "sign-in-sheet" || c.HeldOn != "2026-11-25" {
		t.Fatalf("photo check-in %+v", c)
	}

	// Every accepted check-in is audited and emits checkin.recorded.
	evs := h.events("checkin.recorded")
	if len(evs) != 3 || evs[0]["branch"] != "QA-RZ-XZ-B2" || evs[0]["date"] != "2026-11-25" {
		t.Fatalf("events %v", evs)
	}
	if ob := evs[1]["obligations"].([]any); len(ob) != 2 || ob[0] != "theme_day" || evs[1]["periods"].([]any)[1] != "2026-Q4" {
		t.Fatalf("event payload %v", evs[1])
	}
	rows, _ := h.Srv.Store.AuditLog(h.Ctx, "checkin.record", nil, 10)
	if len(rows) != 3 || !rows[0].Allowed {
		t.Fatalf("audit %+v", rows)
	}
}

func TestCheckinAlbumKeepsPhotosTogether(t *testing.T) {
	h := ciStart(t)
	photo := album(h.H, h.b2, li, "album-17")
	// A captionless photo may arrive before the captioned one...
	sendWant(h.H, photo("", "album-a"), "ok")
	h.send(photo("/checkin 支委会 11-25 7/9", "album-b"))
	h.waitMsg(h.b2.ID, "打卡成功")
	// ...and after it.
	h.send(photo("", "album-c"))
	c := h.last()
	if strings.Join(c.Evidence, ",") != "album-a,album-b,album-c" {
		t.Fatalf("album evidence %q", c.Evidence)
	}
	// Another album in another chat does not mix in.
	u := h.Fake.PhotoMessage(h.Fake.PrivateChat(li), li, "", "other")
	u.Message.MediaGroupID = "album-17"
	h.send(u)
	if c = h.last(); len(c.Evidence) != 3 || h.count() != 1 {
		t.Fatalf("evidence %q after another chat's album", c.Evidence)
	}
}

func TestCheckinChooseBranchWithKeyboard(t *testing.T) {
	h := ciStart(t)
	private := h.Fake.PrivateChat(wang)
	m := h.reply(private, wang, "/checkin 支委会 11-25 5/6", "请选择")
	b1, ok := m.Button("幸福村第一党支部")
	if !ok || len(m.Buttons()) != 2 || len(b1.CallbackData) > 64 || !strings.HasPrefix(b1.CallbackData, "ci:") {
		t.Fatalf("keyboard %+v", m.Keyboard)
	}
	if h.count() != 0 {
		t.Fatal("recorded before the branch was chosen")
	}
	// Someone else cannot tap it.
	h.send(h.Fake.CallbackQuery(li, m, b1.CallbackData))
	ciWaitAnswer(t, h.H, "这不是您的打卡")
	h.send(h.Fake.CallbackQuery(wang, m, b1.CallbackData))
	conf := h.waitMsg(wang.ID, "打卡成功")
	mustContain(t, conf.Text, "幸福村第一党支部", "支部委员会")
	c := h.last()
	if c.BranchCode != "QA-RZ-XZ-B1" || *c.Present != 5 || h.count() != 1 {
		t.Fatalf("chosen branch: %+v", c)
	}
	// The keyboard is replaced by the choice.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cur, _ := h.Fake.Message(m.ChatID, m.MessageID); cur.Edited && strings.Contains(cur.Text, "已选择") && len(cur.Keyboard) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("keyboard not replaced")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A second tap records nothing more.
	h.send(h.Fake.CallbackQuery(wang, m, b1.CallbackData))
	ciWaitAnswer(t, h.H, "已经记录过了")
	if h.count() != 1 {
		t.Fatal("second tap recorded again")
	}
	// Naming the branch first needs no keyboard.
	h.reply(private, wang, "/checkin QA-RZ-XZ-B2 支委会 11-25", "幸福村第二党支部")
	if c := h.last(); c.BranchCode != "QA-RZ-XZ-B2" {
		t.Fatalf("named branch %s", c.BranchCode)
	}
}

func ciWaitAnswer(t *testing.T, h *H, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, a := range h.Fake.CallbackAnswers() {
			if strings.Contains(a.Text, want) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no callback answer containing %q: %+v", want, h.Fake.CallbackAnswers())
}

func TestCheckinRefusals(t *testing.T) {
	h := ciStart(t)
	tests := []struct {
		name string
		chat models.Chat
		from models.User
		text string
		want string
	}{
		{"villager", h.Fake.PrivateChat(zhou), zhou, "/checkin 支委会", "只有党支部书记才能打卡"},
		{"secretary of another branch", h.b2, ciFeng, "/checkin 支委会", "只有幸福村第二党支部的书记才能为该支部打卡"},
		{"another branch named privately", h.Fake.PrivateChat(ciFeng), ciFeng, "/checkin QA-RZ-XZ-B2 支委会", "只有幸福村第二党支部的书记"},
		{"unknown branch", h.Fake.PrivateChat(ciFeng), ciFeng, "/checkin QA-XX-B9 支委会", "没有编码为 QA-XX-B9 的党支部"},
		{"unlinked", h.b2, stray, "/checkin 支委会", "还没有绑定账号"},
		{"future date", h.b2, li, "/checkin 支委会 11-27", "晚于今天"},
		{"before the branch's start", h.b2, li, "/checkin 支委会 10-15", "自 2026-11-01 起纳入规定动作考核"},
		{"unknown obligation", h.b2, li, "/checkin 开大会 11-25", "没认出“开大会”。可写：党员大会、支委会、党小组会、党课、主题党日、生活会、评议党员、"},
		{"unknown obligation by word", h.b2, li, "打卡 开大会 11-25", "没认出“开大会”。可写：党员大会、支委会"},
		{"no obligation by word", h.b2, li, "签到：今天到了", "没认出“今天到了”。可写："},
		{"bare word", h.b2, li, "纪实", "请写明开的是什么会。可写："},
		{"word from a villager in a group", h.b2, zhou, "打卡 支委会", "只有党支部书记才能打卡"},
		{"word from an unlinked sender in a group", h.b2, stray, "签到 今天", "还没有绑定账号"},
		{"bad attendance", h.b2, li, "/checkin 支委会 11-25 9人/7人", "实到人数 9 多于应到人数 7"},
		{"group named for another obligation", h.b2, li, "/checkin 支委会@第一党小组", "只有党小组会需要写明党小组"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := h.say(tc.chat, tc.from, tc.text)
			if o := h.waitProcessed(id); o != "refused" {
				t.Fatalf("outcome %q", o)
			}
			m := h.waitMsg(tc.chat.ID, tc.want)
			if strings.Count(m.Text, "。") > 2 {
				t.Fatalf("refusal is not one sentence: %q", m.Text)
			}
		})
	}
	if h.count() != 0 {
		t.Fatal("a refused check-in was stored")
	}
	// Authorisation refusals are audited.
	rows, _ := h.Srv.Store.AuditLog(h.Ctx, "checkin.record", nil, 20)
	if len(rows) < 5 || rows[0].Allowed {
		t.Fatalf("refusals not audited: %+v", rows)
	}

	// Chatter that merely starts like a command word is no command (SPEC §7.3).
	for _, text := range []string{"打卡机坏了", "大家记得打卡", "签到表在村部"} {
		id := h.say(h.b2, li, text)
		if o := h.waitProcessed(id); o != "ignored" {
			t.Fatalf("%q: outcome %q", text, o)
		}
	}
	h.noMsg(h.b2.ID, "机坏了")
	h.noMsg(h.b2.ID, "签到表")
	if h.count() != 0 {
		t.Fatal("chatter was recorded")
	}
}

func TestCheckinPlainAndExtraRecord(t *testing.T) {
	h := ciStart(t)
	m := h.reply(h.b2, li, "打卡 支委会 11-24", "打卡成功")
	mustContain(t, m.Text, "支部委员会 · 2026年11月")
	first := h.last()
	m = h.reply(h.b2, li, "/checkin 支委会 11-25 6/9", "补充记录")
	mustContain(t, m.Text, "已有打卡，本次作为补充记录保存")
	second := h.last()
	if first.Items[0].Extra || !second.Items[0].Extra || second.ID == first.ID {
		t.Fatalf("extra flags: first %+v second %+v", first.Items, second.Items)
	}
}

func TestCheckinUndo(t *testing.T) {
	h := ciStart(t)
	h.reply(h.b2, li, "/checkin 支委会 11-25", "🟢 支部委员会 · 2026年11月 · 已完成")
	id := h.last().ID
	m := h.reply(h.b2, li, "/undo", "已撤回打卡")
	mustContain(t, m.Text, "🟡 支部委员会 · 2026年11月 · 截止 11-30")
	if c, _ := h.Srv.Store.CheckinByID(h.Ctx, id); c.WithdrawnAt == nil {
		t.Fatal("not withdrawn")
	}
	h.reply(h.b2, li, "/undo", "没有可以撤回的打卡")

	// Not after 24 hours.
	h.reply(h.Fake.PrivateChat(li), li, "/checkin 支委会 11-25", "打卡成功")
	h.fc.Advance(24*time.Hour + time.Minute)
	h.reply(h.Fake.PrivateChat(li), li, "/undo", "已超过 24 小时，不能撤回")
	if c := h.last(); c.WithdrawnAt != nil {
		t.Fatal("withdrawn after 24h")
	}
	if evs := h.events("checkin.withdrawn"); len(evs) != 1 || int64(evs[0]["id"].(float64)) != id {
		t.Fatalf("withdrawn events %v", evs)
	}
}

func TestCheckinReject(t *testing.T) {
	h := ciStart(t)
	h.reply(h.b2, li, "/checkin 支委会 11-25", "打卡成功")
	id := h.last().ID
	sid := ciItoa(id)

	// Only an organiser above the branch (or an admin) may reject.
	h.reply(h.b2, li, "/reject "+sid+" 不行", "只有上级党组织的组织委员或管理员才能驳回打卡")
	h.reply(h.Fake.PrivateChat(ciZhao), ciZhao, "/reject "+sid, "请写明驳回理由")

	m := h.reply(h.Fake.PrivateChat(ciZhao), ciZhao, "/reject "+sid+" 缺少签到表照片", "已驳回")
	mustContain(t, m.Text, "已通知支部书记")
	// The secretary is told in the bound group, and the light goes back.
	n := h.waitMsg(h.b2.ID, "打卡被驳回")
	mustContain(t, n.Text, "缺少签到表照片", "赵委员", "🟡 支部委员会 · 2026年11月")
	c, _ := h.Srv.Store.CheckinByID(h.Ctx, id)
	if c.RejectedAt == nil || c.RejectReason == nil || *c.RejectReason != "缺少签到表照片" || c.RejectedBy == nil {
		t.Fatalf("not rejected: %+v", c)
	}
	h.reply(h.Fake.PrivateChat(ciQian), ciQian, "/reject "+sid+" 再驳回", "已于")

	// Without a bound group the recorder is told privately; the county
	// organiser is above the branch too.
	h.reply(h.Fake.PrivateChat(wang), wang, "/checkin QA-RZ-XZ-B1 支委会 11-25", "打卡成功")
	if _, err := h.Srv.Store.DB().ExecContext(h.Ctx, `DELETE FROM group_chats WHERE chat_id = $1`, ciGroupB1); err != nil {
		t.Fatal(err)
	}
	h.reply(h.Fake.PrivateChat(ciQian), ciQian, "/reject #"+ciItoa(h.last().ID)+" 主题不明确", "已驳回")
	h.waitMsg(wang.ID, "主题不明确")

	if evs := h.events("checkin.rejected"); len(evs) != 2 || evs[0]["reason"] != "缺少签到表照片" {
		t.Fatalf("rejected events %v", evs)
	}
	if allowed, refused := testdb.AuditTally(t, h.Srv.Store, "checkin.reject", 20); allowed != 2 || allowed+refused < 5 {
		t.Fatalf("audit: %d allowed, %d refused", allowed, refused)
	}
}

func TestCheckinGroupMeeting(t *testing.T) {
	h := ciStart(t)
	h.mustCLI("import", "units", "testdata/checkin_groups.csv")
	h.reply(h.b2, li, "/checkin 党小组会 11-25", "有 2 个党小组，请写明是哪个党小组的会议")
	m := h.reply(h.b2, li, "/checkin 党小组会@第一党小组 11-25 6/7", "打卡成功")
	mustContain(t, m.Text, "党小组会（第一党小组） · 2026年11月", "🟢 党小组会（第一党小组） · 2026年11月 · 已完成", "🟡 党小组会（第二党小组）")
	c := h.last()
	if len(c.Items) != 1 || c.Items[0].UnitCode != "QA-RZ-XZ-B2-G1" {
		t.Fatalf("group item %+v", c.Items)
	}
	// The group's code as the first word of the topic works too.
	h.reply(h.b2, li, "/checkin 小组会 11-25 QA-RZ-XZ-B2-G2 学习", "党小组会（第二党小组）")
	if c := h.last(); c.Items[0].UnitCode != "QA-RZ-XZ-B2-G2" || c.Topic != "学习" {
		t.Fatalf("group by code %+v %q", c.Items, c.Topic)
	}
	// A branch without groups owes no 党小组会 (SPEC §7.1): refused, nothing stored.
	before := h.last().ID
	h.reply(h.b1, wang, "/checkin 党小组会", "幸福村第一党支部没有党小组，不需要召开党小组会。")
	if c := h.last(); c.ID != before {
		t.Fatalf("a group meeting was recorded for a branch without groups: %+v", c)
	}
}

func TestCheckinExport(t *testing.T) {
	h := ciStart(t)
	h.reply(h.b2, li, "/checkin 支委会 11-25 7/9 学习二十大精神", "打卡成功")
	committee := h.last().ID
	h.send(h.Fake.PhotoMessage(h.b2, li, "/checkin 主题党日+党课 11-20 8/9", "p1"))
	h.waitMsg(h.b2.ID, "党课")
	sitting := h.last().ID
	h.reply(h.b1, wang, "/checkin 支委会 11-24", "打卡成功")
	withdrawn := h.last().ID
	h.reply(h.b1, wang, "/undo", "已撤回")
	h.reply(h.b2, li, "/checkin 支委会 11-25", "补充记录")
	rejected := h.last().ID
	h.reply(h.Fake.PrivateChat(ciZhao), ciZhao, "/reject "+ciItoa(rejected)+" 重复打卡", "已驳回")

	out := h.mustCLI("export", "checkins")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "unit_path,branch_code,branch_name,obligation,period,date,present,total,topic,evidence_count,recorded_by,recorded_at,on_time,withdrawn,rejected,reject_reason,checkin_id,extra"
	if strings.Join(recs[0], ",") != wantHeader {
		t.Fatalf("header %v", recs[0])
	}
	if len(recs) != 1+5 {
		t.Fatalf("%d rows:\n%s", len(recs)-1, out)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	get := func(r []string, c string) string { return r[col[c]] }
	// Ordered by unit path: B1's row first.
	b1 := recs[1]
	if get(b1, "branch_code") != "QA-RZ-XZ-B1" || get(b1, "withdrawn") != "true" || get(b1, "checkin_id") != ciItoa(withdrawn) ||
		get(b1, "unit_path") != "乾安县/让字镇/幸福村/幸福村第一党支部" {
		t.Fatalf("withdrawn row %v", b1)
	}
	row := func(id int64, obligation string) []string {
		for _, r := range recs[1:] {
			if get(r, "checkin_id") == ciItoa(id) && get(r, "obligation") == obligation {
				return r
			}
		}
		t.Fatalf("no row for check-in %d %s:\n%s", id, obligation, out)
		return nil
	}
	first := row(committee, "committee_meeting")
	for c, want := range map[string]string{"unit_path": "乾安县/让字镇/幸福村/幸福村第二党支部", "branch_name": "幸福村第二党支部",
		"period": "2026-11", "date": "2026-11-25", "present": "7", "total": "9", "topic": "学习二十大精神", "evidence_count": "0",
		"recorded_by": "李书记", "recorded_at": "2026-11-26T10:00:00+08:00", "on_time": "true", "withdrawn": "false",
		"rejected": "false", "reject_reason": "", "extra": "false"} {
		if got := get(first, c); got != want {
			t.Fatalf("%s = %q, want %q (row %v)", c, got, want, first)
		}
	}
	themed, lecture := row(sitting, "theme_day"), row(sitting, "party_lecture")
	if get(themed, "evidence_count") != "1" || get(lecture, "period") != "2026-Q4" || get(themed, "date") != "2026-11-20" {
		t.Fatalf("multi-obligation rows %v %v", themed, lecture)
	}
	if rej := row(rejected, "committee_meeting"); get(rej, "rejected") != "true" || get(rej, "reject_reason") != "重复打卡" || get(rej, "extra") != "true" {
		t.Fatalf("rejected row %v", rej)
	}

	// --unit limits to a subtree.
	out = h.mustCLI("export", "checkins", "--unit", "QA-RZ-XZ-B1")
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 1 {
		t.Fatalf("--unit rows: %d\n%s", n, out)
	}
	if _, errs, code := h.cli("export", "checkins", "--unit", "NOPE"); code != 1 || !strings.Contains(errs, "NOPE") {
		t.Fatalf("unknown unit: %d %q", code, errs)
	}
	if _, errs, code := h.cli("export", "nothing"); code != 1 || !strings.Contains(errs, "checkins") {
		t.Fatalf("unknown export: %d %q", code, errs)
	}

	// XLSX with Chinese headers, readable by excelize.
	path := filepath.Join(t.TempDir(), "台账.xlsx")
	h.mustCLI("export", "checkins", "--format", "xlsx", "--out", path)
	rows := readXLSX(t, path)
	wantX := []string{"单位", "支部", "规定动作", "期间", "日期", "应到", "实到", "主题", "佐证材料数", "记录人", "记录时间", "是否按时", "是否撤回", "是否驳回", "驳回理由"}
	if len(rows) != 6 || strings.Join(rows[0][:len(wantX)], ",") != strings.Join(wantX, ",") {
		t.Fatalf("xlsx header %v (%d rows)", rows[0], len(rows))
	}
	var x []string
	for _, r := range rows[1:] {
		if len(r) > 15 && r[15] == ciItoa(committee) {
			x = r
		}
	}
	if x[1] != "幸福村第二党支部" || x[2] != "支部委员会" || x[3] != "2026年11月" || x[5] != "9" || x[6] != "7" ||
		x[9] != "李书记" || x[10] != "2026-11-26 10:00:00" || x[11] != "是" || x[12] != "否" {
		t.Fatalf("xlsx row %v", x)
	}
	// Stdout gets XLSX bytes with --format xlsx and no --out.
	var buf bytes.Buffer
	if code := cliRun(h.H, []string{"export", "checkins", "--format", "xlsx"}, h.Env, &buf, io.Discard); code != 0 || !bytes.HasPrefix(buf.Bytes(), []byte("PK")) {
		t.Fatalf("xlsx to stdout: exit %d, %d bytes", code, buf.Len())
	}
}

func TestCheckinAPI(t *testing.T) {
	h := ciStart(t)
	b2 := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-RZ-XZ-B2", "--role", "secretary"))
	b1 := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-RZ-XZ-B1", "--role", "secretary"))
	admin := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-RZ", "--role", "admin"))
	call := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		return h.apiBody(method, path, token, strings.NewReader(body))
	}
	code, out := call("POST", "/api/v1/checkins", b2, `{"obligation":"支委会","date":"2026-11-25","present":5,"total":7,"topic":"API 打卡","evidence":["https://example.org/1.jpg"]}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	ci := out["checkin"].(map[string]any)
	if ci["branch"] != "QA-RZ-XZ-B2" || ci["source"] != "api" || len(ci["items"].([]any)) != 1 || len(out["lights"].([]any)) == 0 {
		t.Fatalf("created %v", out)
	}
	if code, out = call("POST", "/api/v1/checkins", b1, `{"branch":"QA-RZ-XZ-B2","obligations":["committee_meeting"]}`); code != 403 {
		t.Fatalf("other branch's token: %d %v", code, out)
	}
	if code, out = call("POST", "/api/v1/checkins", admin, `{"branch":"QA-RZ-XZ-B2","obligations":["theme_day"],"date":"2026-11-27"}`); code != 400 || !strings.Contains(out["error"].(string), "晚于今天") {
		t.Fatalf("future date: %d %v", code, out)
	}
	if code, out = call("POST", "/api/v1/checkins", admin, `{"branch":"QA-RZ-XZ-B2","obligations":["theme_day"]}`); code != 201 {
		t.Fatalf("admin above: %d %v", code, out)
	}
	if code, out = call("POST", "/api/v1/checkins", admin, `{"obligations":["theme_day"]}`); code != 400 {
		t.Fatalf("admin without branch: %d %v", code, out)
	}
	if code, _ = call("POST", "/api/v1/checkins", b2, `{"obligation":`); code != 400 {
		t.Fatalf("malformed: %d", code)
	}

	if code, out = call("GET", "/api/v1/checkins?unit=QA-RZ-XZ-B2&from=2026-11-01&to=2026-11-30", b2, ""); code != 200 || len(out["checkins"].([]any)) != 2 {
		t.Fatalf("list: %d %v", code, out)
	}
	if code, out = call("GET", "/api/v1/checkins?from=2026-11-26", b2, ""); code != 200 || len(out["checkins"].([]any)) != 1 {
		t.Fatalf("list from: %d %v", code, out)
	}
	if code, _ = call("GET", "/api/v1/checkins?unit=QA-RZ", b2, ""); code != 403 {
		t.Fatalf("outside the token's subtree: %d", code)
	}
	if code, out = call("GET", "/api/v1/checkins", admin, ""); code != 200 || len(out["checkins"].([]any)) != 2 {
		t.Fatalf("admin list: %d %v", code, out)
	}
	if code, _ = call("GET", "/api/v1/checkins?from=yesterday", admin, ""); code != 400 {
		t.Fatalf("bad from: %d", code)
	}
}

func ciItoa(n int64) string { return strconv.FormatInt(n, 10) }
