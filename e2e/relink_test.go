package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/internal/tgfake"
)

// relinkButton finds the button with data of prefix rl and the given verb on
// the last message to chat that has one.
func relinkButton(t *testing.T, h *H, chatID int64, verb string) (tgfake.Message, string) {
	t.Helper()
	msgs := h.Fake.MessagesTo(chatID)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, row := range msgs[i].Keyboard {
			for _, b := range row {
				if callback.Prefix(b.CallbackData) == callback.Relink && strings.HasSuffix(b.CallbackData, ":"+verb) {
					return msgs[i], b.CallbackData
				}
			}
		}
	}
	t.Fatalf("no re-link button %q in the messages to %d", verb, chatID)
	return tgfake.Message{}, ""
}

// A bind code redeemed for a person linked elsewhere asks the new account
// first; on 确认改绑 the link moves and the old chat is told (SPEC §7.5).
func TestStartRelinkAsksAndTellsTheOldChat(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	h := start(t, withClock(fc))
	h.seed()
	oldU, newU, other := user(5101, "旧手机"), user(5102, "新手机"), user(5103, "别人")
	h.link("13800000001", oldU)

	h.say(h.Fake.PrivateChat(newU), newU, "/start "+h.bindCode("13800000001"))
	h.waitMsg(newU.ID, "已绑定在另一个 Telegram 账号上")
	if pid, err := h.Srv.Store.PersonByTelegram(h.Ctx, oldU.ID); err != nil || pid == 0 {
		t.Fatalf("the old link must stay until the new account confirms: %d %v", pid, err)
	}
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, newU.ID); err == nil {
		t.Fatal("the new account is linked before it confirmed")
	}

	// Someone else tapping the forwarded button is refused and audited.
	q, data := relinkButton(t, h, newU.ID, "ok")
	h.send(h.Fake.CallbackQuery(other, q, data))
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, other.ID); err == nil {
		t.Fatal("a stranger's tap moved the link")
	}
	var n int
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM audit_log WHERE action = 'bind.relink' AND NOT allowed AND actor = $1`, "tg:5103"); err != nil || n != 1 {
		t.Fatalf("stranger's tap audited: %d %v", n, err)
	}

	h.send(h.Fake.CallbackQuery(newU, q, data))
	h.waitMsg(newU.ID, "已改绑到当前账号")
	h.waitMsg(oldU.ID, "你的账号已在另一个 Telegram 账号上绑定")
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, oldU.ID); err == nil {
		t.Fatal("the old account is still linked")
	}
	pid, err := h.Srv.Store.PersonByTelegram(h.Ctx, newU.ID)
	if err != nil {
		t.Fatalf("new account not linked: %v", err)
	}
	p, err := h.Srv.Store.PersonByPhone(h.Ctx, "13800000001")
	if err != nil || p.ID != pid {
		t.Fatalf("linked to %d, want %d (%v)", pid, p.ID, err)
	}
	// A second tap decides nothing twice.
	h.send(h.Fake.CallbackQuery(newU, q, data))
	h.drainOutbox()
	found := false
	for _, a := range h.Fake.CallbackAnswers() {
		found = found || strings.Contains(a.Text, "已处理过了")
	}
	if !found {
		t.Fatalf("second tap not answered as done: %+v", h.Fake.CallbackAnswers())
	}
}

// 取消 keeps the old link, and the used code cannot be replayed.
func TestStartRelinkCancelKeepsTheOldLink(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 12, 31, 23, 50, 0, 0, time.UTC))
	h := start(t, withClock(fc))
	h.seed()
	oldU, newU := user(5201, "旧手机"), user(5202, "新手机")
	h.link("13800000006", oldU)
	code := h.bindCode("13800000006")
	h.say(h.Fake.PrivateChat(newU), newU, "/start "+code)
	h.waitMsg(newU.ID, "已绑定在另一个 Telegram 账号上")
	q, data := relinkButton(t, h, newU.ID, "no")
	h.send(h.Fake.CallbackQuery(newU, q, data))
	h.waitMsg(newU.ID, "已取消改绑")
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, oldU.ID); err != nil {
		t.Fatalf("old link lost on cancel: %v", err)
	}
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, newU.ID); err == nil {
		t.Fatal("cancel linked the new account")
	}
	h.noMsg(oldU.ID, "另一个 Telegram 账号")
	h.say(h.Fake.PrivateChat(newU), newU, "/start "+code)
	h.waitMsg(newU.ID, "绑定码无效或已过期")

	// An expired question cannot be confirmed.
	h.say(h.Fake.PrivateChat(newU), newU, "/start "+h.bindCode("13800000006"))
	h.drainOutbox()
	var ok string
	q, ok = relinkButton(t, h, newU.ID, "ok")
	fc.Advance(2 * time.Hour)
	h.send(h.Fake.CallbackQuery(newU, q, ok))
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, newU.ID); err == nil {
		t.Fatal("an expired confirmation moved the link")
	}
}

// Five wrong codes in 15 minutes lock the account out until the oldest
// leaves the window, even with a right code; the count is the database's,
// the time the server clock's.
func TestStartFailuresAreRateLimited(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 12, 31, 15, 50, 0, 0, time.UTC)) // 23:50 in Shanghai
	h := start(t, withClock(fc))
	h.seed()
	u := user(5301, "试码")
	chat := h.Fake.PrivateChat(u)
	for i := 0; i < 5; i++ {
		h.say(chat, u, "/start wrongcode"+string(rune('a'+i)))
		fc.Advance(time.Minute)
	}
	h.waitMsg(u.ID, "绑定码无效或已过期")
	good := h.bindCode("13800000007")
	h.say(chat, u, "/start "+good)
	m := h.waitMsg(u.ID, "输错次数过多")
	// The first failure was at 23:50 Shanghai: retry from 00:05 on 1 January.
	if !strings.Contains(m.Text, "1月1日 00:05") {
		t.Fatalf("refusal does not say when to retry: %q", m.Text)
	}
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, u.ID); err == nil {
		t.Fatal("a locked-out account was linked")
	}
	// Another account is not affected.
	v := user(5302, "别人")
	h.say(h.Fake.PrivateChat(v), v, "/start "+h.bindCode("13800000002"))
	h.waitMsg(v.ID, "绑定成功")

	fc.Advance(10 * time.Minute) // 15 minutes after the first failure
	h.say(chat, u, "/start "+good)
	h.waitMsg(u.ID, "绑定成功")
	var n int
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM audit_log WHERE action = 'bind.person' AND NOT allowed AND actor = 'tg:5301'`); err != nil || n != 6 {
		t.Fatalf("refused /start attempts audited: %d %v", n, err)
	}
}
