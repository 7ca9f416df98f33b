package e2e

import (
	"testing"
	"time"

	"github.com/zhibu/zhibu/bot"
)

// A handler that keeps failing is retried a few times and then given up:
// the outcome is recorded with the error and the user gets one apology,
// while other updates go on being processed.
func TestFailingUpdateIsGivenUpWithAnApology(t *testing.T) {
	h := start(t)
	h.seed()
	h.link("13800000002", li)
	calls := 0
	h.Srv.Router.Handle(bot.Command{Name: "boom", Handler: func(c *bot.Ctx) error {
		calls++
		panic("boom")
	}})
	chat := h.Fake.PrivateChat(li)
	id, err := h.Fake.SendUpdateAndWait(h.Ctx, h.Fake.TextMessage(chat, li, "/boom"))
	if err != nil {
		t.Fatal(err)
	}
	h.say(chat, li, "/help") // the chat is not stuck behind the failing update
	h.waitMsg(li.ID, "可用命令")
	deadline := time.Now().Add(30 * time.Second)
	var outcome string
	for time.Now().Before(deadline) {
		if outcome, _ = h.Srv.Store.UpdateOutcome(h.Ctx, id); outcome != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if outcome != "panic" || calls != 3 {
		t.Fatalf("outcome %q after %d calls, want panic after 3", outcome, calls)
	}
	h.waitMsg(li.ID, "抱歉，处理您的消息时出错")
	var errText string
	_ = h.Srv.Store.DB().GetContext(h.Ctx, &errText, `SELECT error FROM updates WHERE update_id = $1`, id)
	if errText != "panic: boom" {
		t.Fatalf("recorded error %q", errText)
	}
}
