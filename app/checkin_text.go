package app

import (
	"fmt"
	"github.com/zhibu/zhibu/domain/health"
	"html"
	"strings"
	"time"

	"github.com/zhibu/zhibu/storage"
)

// The texts of check-in replies and notices: Telegram HTML, user text
// escaped. They are in app because several doors send them (the bot's
// replies, the rejection notice of any door).

// writeCheckinLines writes a check-in's obligations, a line each: the
// obligation, the unit when not the branch itself, the period, and whether
// it is a late or an extra record.
func writeCheckinLines(b *strings.Builder, r CheckinResult) {
	for _, l := range r.Lines {
		b.WriteString("• " + html.EscapeString(l.Obligation.Name))
		if l.Unit.ID != r.Branch.ID {
			b.WriteString("（" + html.EscapeString(l.Unit.Name) + "）")
		}
		b.WriteString(" · " + l.Period.Label())
		if l.Late {
			b.WriteString(" · 补开")
		}
		if l.Extra {
			b.WriteString(" · 补充记录")
		}
		if l.BelowQuorum {
			b.WriteString(" · 未过半数")
		}
		b.WriteByte('\n')
	}
}

// CheckinConfirmation is the reply to an accepted check-in: what was
// recorded, whether it is late or an extra record, and the branch's lights.
func (a *App) CheckinConfirmation(r CheckinResult) string {
	var b strings.Builder
	c := r.Checkin
	fmt.Fprintf(&b, "✅ <b>打卡成功</b>（#%d）· %s\n", c.ID, html.EscapeString(r.Branch.Name))
	writeCheckinLines(&b, r)
	b.WriteString("日期：" + c.HeldOn)
	if c.Total != nil {
		fmt.Fprintf(&b, " · 实到/应到：%d/%d", *c.Present, *c.Total)
	}
	if n := len(c.Evidence); n > 0 {
		fmt.Fprintf(&b, " · 佐证照片 %d 张", n)
	}
	b.WriteByte('\n')
	if c.Topic != "" {
		b.WriteString("主题：" + html.EscapeString(c.Topic) + "\n")
	}
	for _, l := range r.Lines {
		if l.Extra {
			fmt.Fprintf(&b, "<i>%s%s已有打卡，本次作为补充记录保存，不重复计算。</i>\n", html.EscapeString(l.Obligation.Name), l.Period.Label())
		}
	}
	for _, l := range r.Lines {
		if l.BelowQuorum && c.Present != nil && c.Total != nil {
			fmt.Fprintf(&b, "<i>%s%s：%s。</i>\n", html.EscapeString(l.Obligation.Name), l.Period.Label(),
				health.QuorumReason(*c.Present, *c.Total))
		}
	}
	for _, l := range r.Lines {
		if l.Late && !l.Extra {
			fmt.Fprintf(&b, "<i>%s%s已于 %s 截止，本次记为补开（按实际日期记录）。</i>\n", html.EscapeString(l.Obligation.Name), l.Period.Label(),
				l.Due.Add(-time.Nanosecond).In(a.Loc).Format(time.DateOnly))
		}
	}
	b.WriteString("\n<b>本支部当前状态</b>\n")
	b.WriteString(a.RenderLights(r.Lights))
	b.WriteString("\n\n如有误，24 小时内发送 /undo 撤回。")
	return b.String()
}

// WithdrawnReply is the reply to /undo.
func (a *App) WithdrawnReply(ch CheckinChange) string {
	return fmt.Sprintf("↩️ 已撤回打卡 #%d（%s · %s）。\n\n<b>本支部当前状态</b>\n%s",
		ch.Checkin.ID, html.EscapeString(itemNames(a, ch.Checkin)), ch.Checkin.HeldOn, a.RenderLights(ch.Lights))
}

// RejectedNotice tells the secretary that a check-in was rejected and why.
func (a *App) RejectedNotice(ch CheckinChange, by, reason string) string {
	return fmt.Sprintf("❌ <b>打卡被驳回</b>：%s 的打卡 #%d（%s · %s）已被 %s 驳回。\n理由：%s\n请补充完善后重新打卡。\n\n<b>本支部当前状态</b>\n%s",
		html.EscapeString(ch.Branch.Name), ch.Checkin.ID, html.EscapeString(itemNames(a, ch.Checkin)), ch.Checkin.HeldOn,
		html.EscapeString(by), html.EscapeString(reason), a.RenderLights(ch.Lights))
}

// RejectedReply is the reply to the organiser who rejected.
func (a *App) RejectedReply(ch CheckinChange) string {
	s := fmt.Sprintf("已驳回 %s 的打卡 #%d（%s · %s）", html.EscapeString(ch.Branch.Name), ch.Checkin.ID,
		html.EscapeString(itemNames(a, ch.Checkin)), ch.Checkin.HeldOn)
	if ch.NotifiedChat != 0 {
		return s + "，已通知支部书记。"
	}
	return s + "；支部书记未绑定账号，也没有绑定支部群，无法通知。"
}

// itemNames is "主题党日、党课" for a check-in's obligations.
func itemNames(a *App, c storage.Checkin) string {
	var names []string
	seen := map[string]bool{}
	for _, it := range c.Items {
		name := it.Obligation
		if ob, ok := a.Obligation(it.Obligation); ok {
			name = ob.Name
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return strings.Join(names, "、")
}
