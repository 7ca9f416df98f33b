package e2e

import (
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/internal/tgfake"
)

// SPEC §7.3: a reply to the card of a free-text check-in corrects the
// reading; it is still recorded only on the sender's 确认.
func TestFreeTextCheckinCorrectedByReply(t *testing.T) {
	h := ciStart(t) // Thursday 2026-11-26

	m := h.reply(h.b2, li, "昨天开了支委会，5个人都到了，商量冬季防火", "我理解的是")
	mustContain(t, m.Plain, "这次的主题是“商量冬季防火”吗？", "直接回复这条消息")
	replyTo := func(from models.User, text string) int64 {
		t.Helper()
		return h.send(h.Fake.ReplyMessage(h.b2, from, text, m))
	}

	// Another member's correction is refused; their remark under the card is left alone.
	replyTo(zhou, "主题是学习党章")
	h.waitMsg(h.b2.ID, "只有发送人才能修改")
	if o := h.waitProcessed(replyTo(zhou, "辛苦了")); o != "ignored" {
		t.Fatalf("a remark under the card: outcome %q", o)
	}

	// The sender's topic: the card shows it, no longer asked, buttons kept.
	replyTo(li, "主题是学习二十届四中全会精神")
	h.waitMsg(h.b2.ID, "已按您的回复改好")
	cur := waitCurrent(h.H, m, "the corrected topic", func(c tgfake.Message) bool {
		return c.Edited && strings.Contains(c.Plain, "主题：学习二十届四中全会精神")
	})
	if strings.Contains(cur.Plain, "这次的主题是") || strings.Contains(cur.Plain, "商量冬季防火") {
		t.Fatalf("the corrected card still asks: %q", cur.Plain)
	}
	textButton(t, cur, "修改")
	// A field: the attendance.
	replyTo(li, "实到4人")
	cur = waitCurrent(h.H, m, "the corrected attendance", func(c tgfake.Message) bool {
		return strings.Contains(c.Plain, "实到4人，应到5人")
	})
	mustContain(t, cur.Plain, "主题：学习二十届四中全会精神", "2026年11月25日")
	if h.count() != 0 {
		t.Fatal("a correction recorded it")
	}

	// 确认 records the corrected reading.
	h.send(h.Fake.CallbackQuery(li, cur, textButton(t, cur, "确认").CallbackData))
	h.waitMsg(h.b2.ID, "打卡成功")
	c := h.last()
	if c.HeldOn != "2026-11-25" || c.Present == nil || *c.Present != 4 || *c.Total != 5 || c.Topic != "学习二十届四中全会精神" {
		t.Fatalf("recorded %+v", c)
	}
	// A reply to the confirmed card says so, and changes nothing.
	replyTo(li, "实到3人")
	h.waitMsg(h.b2.ID, "已经确认记录了")
	if c := h.last(); h.count() != 1 || *c.Present != 4 {
		t.Fatalf("after a late correction: %d check-ins, %+v", h.count(), c)
	}
}
