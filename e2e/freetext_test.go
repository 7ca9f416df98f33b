package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/internal/tgfake"
)

// SPEC §7.3: free text is read, shown and recorded only on its sender's 确认.

// textButton is the button of m whose text contains label.
func textButton(t *testing.T, m tgfake.Message, label string) models.InlineKeyboardButton {
	t.Helper()
	for _, b := range m.Buttons() {
		if strings.Contains(b.Text, label) {
			if !strings.HasPrefix(b.CallbackData, "ft:") || len(b.CallbackData) > 64 {
				t.Fatalf("callback data %q", b.CallbackData)
			}
			return b
		}
	}
	t.Fatalf("no %q button on %q: %+v", label, m.Plain, m.Buttons())
	return models.InlineKeyboardButton{}
}

// waitAnswer waits for an answer to a callback query of userID containing want.
func waitAnswer(h *H, userID int64, want string) tgfake.CallbackAnswer {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, a := range h.Fake.CallbackAnswers() {
			if a.UserID == userID && strings.Contains(a.Text, want) {
				return a
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("no callback answer to %d containing %q: %+v", userID, want, h.Fake.CallbackAnswers())
	return tgfake.CallbackAnswer{}
}

// waitCurrent waits until the bot's message m satisfies ok.
func waitCurrent(h *H, m tgfake.Message, what string, ok func(tgfake.Message) bool) tgfake.Message {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cur, found := h.Fake.Message(m.ChatID, m.MessageID); found && ok(cur) {
			return cur
		}
		time.Sleep(20 * time.Millisecond)
	}
	cur, _ := h.Fake.Message(m.ChatID, m.MessageID)
	h.t.Fatalf("message %d in %d: %s; it is %q", m.MessageID, m.ChatID, what, cur.Text+cur.Caption)
	return cur
}

func TestFreeTextCheckinConfirmed(t *testing.T) {
	h := ciStart(t) // Thursday 2026-11-26

	// The secretary writes as people do, in the group bound to the branch.
	m := h.reply(h.b2, li, "今天下午开了支委会，应到9人实到7人，主题是学习全会精神", "我理解的是")
	mustContain(t, m.Plain, "支部委员会（2026年11月）", "2026年11月26日", "实到7人，应到9人", "学习全会精神")
	if strings.Contains(m.Plain, "committee") || strings.Contains(m.Plain, "QA-RZ") {
		t.Fatalf("the reading shows a code: %q", m.Plain)
	}
	if h.count() != 0 {
		t.Fatal("recorded before 确认")
	}
	ok := textButton(t, m, "确认")
	textButton(t, m, "修改")
	textButton(t, m, "取消")

	// Another member's tap is refused and records nothing.
	h.send(h.Fake.CallbackQuery(zhou, m, ok.CallbackData))
	if a := waitAnswer(h.H, zhou.ID, "只有发送人才能确认"); !a.ShowAlert {
		t.Fatalf("refusal not an alert: %+v", a)
	}
	if h.count() != 0 {
		t.Fatal("another member's tap recorded it")
	}

	// The sender's 确认 records it.
	h.send(h.Fake.CallbackQuery(li, m, ok.CallbackData))
	h.waitMsg(h.b2.ID, "打卡成功")
	waitCurrent(h.H, m, "confirmed without buttons", func(c tgfake.Message) bool {
		return c.Edited && strings.Contains(c.Plain, "已确认") && len(c.Keyboard) == 0
	})
	c := h.last()
	if c.HeldOn != "2026-11-26" || c.Present == nil || *c.Present != 7 || *c.Total != 9 || c.Topic != "学习全会精神" {
		t.Fatalf("recorded %+v", c)
	}
	// A second tap records nothing more.
	h.send(h.Fake.CallbackQuery(li, m, ok.CallbackData))
	waitAnswer(h.H, li.ID, "已经处理过了")
	if h.count() != 1 {
		t.Fatalf("%d check-ins after a double tap", h.count())
	}
}

func TestFreeTextCheckinCancelEditAndAsk(t *testing.T) {
	h := ciStart(t)

	// 取消 drops it: nothing is recorded.
	m := h.reply(h.b2, li, "【党课】时间：2026年11月24日 下午3点 地点：村部 应到：9人 实到：8人 议题：学习党章", "我理解的是")
	mustContain(t, m.Plain, "党课（2026年第四季度）", "2026年11月24日", "实到8人，应到9人", "学习党章")
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "取消").CallbackData))
	waitCurrent(h.H, m, "cancelled", func(c tgfake.Message) bool { return c.Edited && strings.Contains(c.Plain, "已取消") })
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "确认").CallbackData))
	waitAnswer(h.H, li.ID, "已经处理过了")
	if h.count() != 0 {
		t.Fatal("a cancelled reading was recorded")
	}

	// 修改 gives the command form to edit and send.
	m = h.reply(h.b2, li, "上周五开了支委会和党课，7/9", "我理解的是")
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "修改").CallbackData))
	e := waitCurrent(h.H, m, "the command to edit", func(c tgfake.Message) bool { return c.Edited && strings.Contains(c.Plain, "改好后发送") })
	mustContain(t, e.Text, "<code>打卡 支委会+党课 11月20日 7/9</code>")
	if h.count() != 0 {
		t.Fatal("修改 recorded it")
	}

	// A topic written without 主题/议题/内容 is asked on the card, not shown as read.
	m = h.reply(h.b2, li, "昨天开了支委会，5个人都到了，商量冬季防火", "我理解的是")
	mustContain(t, m.Plain, "主题：商量冬季防火", "这次的主题是“商量冬季防火”吗？", "修改")
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "取消").CallbackData))
	waitCurrent(h.H, m, "cancelled", func(c tgfake.Message) bool { return c.Edited && strings.Contains(c.Plain, "已取消") })
	m = h.reply(h.b2, li, "昨天开了支委会，5个人都到了，主题：商量冬季防火", "我理解的是")
	if strings.Contains(m.Plain, "这次的主题是") {
		t.Fatalf("a labelled topic is asked: %q", m.Plain)
	}
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "取消").CallbackData))
	waitCurrent(h.H, m, "cancelled", func(c tgfake.Message) bool { return c.Edited && strings.Contains(c.Plain, "已取消") })

	// A bare weekday is asked, not guessed; nothing waits for a 确认.
	m = h.reply(h.b2, li, "周五开了支委会，应到9人实到7人", "没有完全看懂")
	mustContain(t, m.Plain, "“周五”是哪一天")
	if len(m.Buttons()) != 0 {
		t.Fatalf("an unsure reading has buttons: %+v", m.Buttons())
	}

	// Chatter, a villager's mention and an unbound group are left alone.
	for _, tc := range []struct {
		chat models.Chat
		from models.User
		text string
	}{
		{h.b2, li, "明天下午3点开支委会，请各位委员准时参加"},
		{h.b2, zhou, "今天开了支委会，应到9人实到7人"},
		{h.Fake.Group(-1001000000399, "闲聊群"), li, "今天开了支委会，应到9人实到7人"},
	} {
		if o := h.waitProcessed(h.say(tc.chat, tc.from, tc.text)); o != "ignored" {
			t.Fatalf("%q from %d: outcome %q", tc.text, tc.from.ID, o)
		}
	}
}

func TestFreeTextClaimConfirmed(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))

	// Chatter in the village group is ignored.
	if o := p.waitProcessed(p.say(p.group, zhou, "明天要扫雪，大家准备好工具")); o != "ignored" {
		t.Fatalf("chatter: outcome %q", o)
	}
	// The item needs a photo: asked for, nothing kept.
	m := p.reply(zhou, "今天帮五保户扫雪", "要申报积分吗")
	mustContain(t, m.Plain, "帮扶困难户/留守老人儿童", "请发送照片，并把这段话写在照片说明里")
	if len(m.Buttons()) != 0 {
		t.Fatalf("buttons without the photo: %+v", m.Buttons())
	}
	p.send(p.Fake.PhotoMessage(p.group, zhou, "今天帮五保户扫雪", "snow-photo-1"))
	m = p.waitPlain(ptGroup, "请点“✅ 确认”提交申报")
	mustContain(t, m.Plain, "帮扶困难户/留守老人儿童（+2分）", "今天帮五保户扫雪")
	if p.count(`SELECT count(*) FROM claims`) != 0 {
		t.Fatal("claimed before 确认")
	}
	ok := textButton(t, m, "确认")
	p.send(p.Fake.CallbackQuery(ptWu, m, ok.CallbackData))
	p.answer(ptWu.ID, "只有发送人才能确认")
	p.send(p.Fake.CallbackQuery(zhou, m, ok.CallbackData))
	p.answer(zhou.ID, "已提交申报 #1")
	p.current(m, "replaced by the submitted claim", func(c tgfake.Message) bool {
		return c.Edited && strings.Contains(c.Plain, "已提交积分申报 #1") && len(c.Keyboard) == 0
	})
	var item, note, photo string
	if err := p.Srv.Store.DB().QueryRowContext(p.Ctx, `SELECT item_code, note, photo FROM claims WHERE id = 1`).Scan(&item, &note, &photo); err != nil ||
		item != "B05" || note != "今天帮五保户扫雪" || photo != "snow-photo-1" {
		t.Fatalf("claim %s %q %q %v", item, note, photo, err)
	}
	// The review card goes out as for /claim; a second tap files nothing.
	p.waitMsg(ptGroup, "积分申报 #1")
	p.send(p.Fake.CallbackQuery(zhou, m, ok.CallbackData))
	p.answer(zhou.ID, "已经处理过了")
	if p.count(`SELECT count(*) FROM claims`) != 1 {
		t.Fatal("a second tap claimed again")
	}
}

// reply sends text to the village group and waits for the answer with want.
func (p *ptH) reply(from models.User, text, want string) tgfake.Message {
	p.t.Helper()
	p.say(p.group, from, text)
	return p.waitPlain(ptGroup, want)
}

// In a private chat a secretary of several branches confirms, then chooses the branch.
func TestFreeTextCheckinPrivateChoosesBranch(t *testing.T) {
	h := ciStart(t)
	private := h.Fake.PrivateChat(wang)
	m := h.reply(private, wang, "昨天开了党员大会，应到30人实到28人，议题：年终总结", "我理解的是")
	mustContain(t, m.Plain, "支部党员大会（2026年第四季度）", "2026年11月25日", "实到28人，应到30人", "年终总结")
	h.send(h.Fake.CallbackQuery(wang, m, textButton(t, m, "确认").CallbackData))
	choice := h.waitMsg(wang.ID, "请选择本次打卡属于哪个支部")
	var b1 models.InlineKeyboardButton
	for _, b := range choice.Buttons() {
		if strings.Contains(b.Text, "第一党支部") {
			b1 = b
		}
	}
	if b1.CallbackData == "" {
		t.Fatalf("branch buttons %+v", choice.Buttons())
	}
	if h.count() != 0 {
		t.Fatal("recorded before the branch was chosen")
	}
	h.send(h.Fake.CallbackQuery(wang, choice, b1.CallbackData))
	h.waitMsg(wang.ID, "打卡成功")
	c := h.last()
	if c.BranchID != h.b1ID || c.HeldOn != "2026-11-25" || c.Present == nil || *c.Present != 28 || c.Topic != "年终总结" {
		t.Fatalf("recorded %+v", c)
	}
}

// 补开 in free text (SPEC §7.1, §7.3): 补开10月 files the confirmed check-in for
// October, late, with its real date; without it, the open red periods are asked.
func TestFreeTextMakeUp(t *testing.T) {
	h := makeUpStart(t) // 2026-12-02, October's and November's 支委会 red
	chat := h.Fake.PrivateChat(li)
	h.say(chat, li, "补开10月的支委会，今天开的，应到9人实到7人")
	m := h.waitMsg(li.ID, "我理解的是")
	mustContain(t, m.Plain, "支部委员会（2026年10月，补开）", "补开：2026年10月", "2026年12月2日")
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "确认").CallbackData))
	h.waitMsg(li.ID, "打卡成功")
	var id int64
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &id, `SELECT max(id) FROM checkins`); err != nil {
		t.Fatal(err)
	}
	if period, late, held := makeUpItem(t, h, id); period != "2026-10" || !late || held != "2026-12-02" {
		t.Fatalf("filed %s late=%v held %s", period, late, held)
	}

	// Without 补开, confirming asks which period, as /checkin does.
	h.say(chat, li, "今天又开了支委会，7/9")
	m = h.waitMsg(li.ID, "支部委员会（2026年12月）")
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "确认").CallbackData))
	q := h.waitMsg(li.ID, "这次会议是为哪一期开的")
	if _, ok := q.Button("2026年11月（补开）"); !ok {
		t.Fatalf("buttons %+v", q.Keyboard)
	}
}

// album makes the photos of one Telegram album sent by from in chat.
func album(h *H, chat models.Chat, from models.User, group string) func(caption, fileID string) models.Update {
	return func(caption, fileID string) models.Update {
		u := h.Fake.PhotoMessage(chat, from, caption, fileID)
		u.Message.MediaGroupID = group
		return u
	}
}

// sendWant sends u and fails unless its outcome is want.
func sendWant(h *H, u models.Update, want string) {
	h.t.Helper()
	if o := h.waitProcessed(h.send(u)); o != want {
		h.t.Fatalf("%q: outcome %q, want %q", u.Message.Caption+u.Message.Text, o, want)
	}
}

// countPlain counts the messages to chatID showing want.
func countPlain(h *H, chatID int64, want string) int {
	h.drainOutbox()
	n := 0
	for _, m := range h.Fake.MessagesTo(chatID) {
		if strings.Contains(m.Plain, want) {
			n++
		}
	}
	return n
}

// A check-in written as the caption of one photo of an album is read once, for
// the album, and its 确认 keeps every photo of the album, before and after the
// captioned one.
func TestFreeTextAlbumCheckin(t *testing.T) {
	h := ciStart(t)
	photo := album(h.H, h.b2, li, "album-ft")
	sendWant(h.H, photo("", "ft-a"), "ok")
	h.send(photo("昨天晚上开了支委会，应到9人实到7人，主题是学习全会精神", "ft-b"))
	m := h.waitMsg(h.b2.ID, "我理解的是")
	mustContain(t, m.Plain, "支部委员会（2026年11月）", "2026年11月25日", "实到7人，应到9人", "学习全会精神", "这组照片一并保存")
	sendWant(h.H, photo("", "ft-c"), "ok")
	// A second caption in the same album is not read again.
	sendWant(h.H, photo("今天开了支委会 7/9", "ft-d"), "ignored")
	if n := countPlain(h.H, h.b2.ID, "我理解的是"); n != 1 {
		t.Fatalf("%d readings for one album", n)
	}
	if h.count() != 0 {
		t.Fatal("recorded before 确认")
	}
	h.send(h.Fake.CallbackQuery(li, m, textButton(t, m, "确认").CallbackData))
	conf := h.waitMsg(h.b2.ID, "打卡成功")
	mustContain(t, conf.Text, "佐证照片 4 张")
	c := h.last()
	if strings.Join(c.Evidence, ",") != "ft-a,ft-b,ft-c,ft-d" || c.HeldOn != "2026-11-25" || *c.Present != 7 || h.count() != 1 {
		t.Fatalf("album check-in %+v", c)
	}
	// A photo arriving after 确认 still joins it.
	h.send(photo("", "ft-e"))
	if c = h.last(); len(c.Evidence) != 5 {
		t.Fatalf("evidence %q after a late photo", c.Evidence)
	}
	// Chatter as an album's caption is left alone; its photos are no check-in.
	u := h.Fake.PhotoMessage(h.b2, li, "大家看看村里新修的路", "road")
	u.Message.MediaGroupID = "album-road"
	if o := h.waitProcessed(h.send(u)); o != "ignored" || h.count() != 1 {
		t.Fatalf("chatter album: outcome %q, %d check-ins", o, h.count())
	}
}

// A claim written as an album's caption is read once and keeps the captioned photo.
func TestFreeTextAlbumClaim(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	photo := album(p.H, p.group, zhou, "album-snow")
	sendWant(p.H, photo("今天帮五保户扫雪", "snow-a"), "ok")
	m := p.waitPlain(ptGroup, "请点“✅ 确认”提交申报")
	mustContain(t, m.Plain, "帮扶困难户/留守老人儿童（+2分）", "今天帮五保户扫雪")
	sendWant(p.H, photo("", "snow-b"), "ok")
	sendWant(p.H, photo("帮五保户扫雪", "snow-c"), "ignored")
	if n := countPlain(p.H, ptGroup, "要申报积分吗"); n != 1 {
		t.Fatalf("%d readings for one album", n)
	}
	p.send(p.Fake.CallbackQuery(zhou, m, textButton(t, m, "确认").CallbackData))
	p.answer(zhou.ID, "已提交申报 #1")
	var photoID string
	if err := p.Srv.Store.DB().QueryRowContext(p.Ctx, `SELECT photo FROM claims WHERE id = 1`).Scan(&photoID); err != nil || photoID != "snow-a" {
		t.Fatalf("claim photo %q %v", photoID, err)
	}
	if p.count(`SELECT count(*) FROM claims`) != 1 {
		t.Fatal("one album, several claims")
	}
}
