package app

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// The texts the points use cases send (Telegram HTML, user text escaped).
// Chat replies are the bot's; these are the messages that a use case sends
// in its own transaction, whichever door it came through: review cards and
// their edits, notices to claimants and households, receipts, rankings.

func esc(s string) string { return html.EscapeString(s) }

// cut shortens user text for a card (a photo caption holds 1,024 characters).
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func signed(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func (a *App) clock(t time.Time) string { return t.In(a.Loc).Format("01-02 15:04") }

// day is a publicity date as villagers read it: to the day (公示至11月23日),
// not the minute.
func (a *App) day(t time.Time) string { return t.In(a.Loc).Format("1月2日") }

// PointsText names a claim's item with its points: "A01 参加治安巡逻（+2 分）".
func PointsText(c storage.Claim) string {
	if c.Veto {
		return c.ItemCode + " " + c.ItemName + "（一票否决）"
	}
	return c.ItemCode + " " + c.ItemName + "（" + signed(c.Points) + " 分）"
}

var evidenceWords = map[string]string{
	string(points.EvidencePhoto):       "现场照片",
	string(points.EvidenceCertificate): "证书或证明材料照片",
	string(points.EvidenceWitness):     "见证（评议即确认）",
	string(points.EvidenceNone):        "无需",
}

// cardText is a claim's review card: who, which household, what, how many
// points, the note and the evidence.
func (a *App) cardText(c storage.Claim, hh storage.Household) string {
	var b strings.Builder
	switch {
	case c.Kind == storage.ClaimKindDeduction && c.Veto:
		fmt.Fprintf(&b, "<b>⛔ 一票否决记录 #%d</b>\n", c.ID)
	case c.Kind == storage.ClaimKindDeduction:
		fmt.Fprintf(&b, "<b>⚠️ 扣分记录 #%d</b>\n", c.ID)
	default:
		fmt.Fprintf(&b, "<b>📝 积分申报 #%d</b>\n", c.ID)
	}
	fmt.Fprintf(&b, "村：%s\n", esc(c.VillageName))
	if c.Kind == storage.ClaimKindDeduction {
		fmt.Fprintf(&b, "农户：%s\n", esc(hh.Label()))
		fmt.Fprintf(&b, "登记人：%s\n", esc(c.RecorderName))
	} else {
		fmt.Fprintf(&b, "申报人：%s（%s）\n", esc(c.PersonName), esc(hh.Label()))
	}
	fmt.Fprintf(&b, "项目：<code>%s</code> %s\n", esc(c.ItemCode), esc(c.ItemName))
	if c.Veto {
		fmt.Fprintf(&b, "类别：%s · <b>一票否决</b>\n", esc(c.Category))
	} else {
		fmt.Fprintf(&b, "类别：%s · <b>%s 分</b>\n", esc(c.Category), signed(c.Points))
	}
	ev := evidenceWords[c.Evidence]
	if c.HasPhoto() {
		ev += "（已附照片）"
	}
	if ev != "" {
		fmt.Fprintf(&b, "证明：%s\n", ev)
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "说明：%s\n", esc(cut(c.Note, 200)))
	}
	fmt.Fprintf(&b, "时间：%s", a.clock(c.ClaimedAt))
	if c.Objections > 0 && c.Status == storage.ClaimPending {
		fmt.Fprintf(&b, "\n🔁 第 %d 轮评议", c.Objections+1)
		if c.Reason != "" {
			fmt.Fprintf(&b, "（异议：%s）", esc(cut(c.Reason, 100)))
		}
	}
	return b.String()
}

// decisionFooter is what a decided card shows below the claim.
func (a *App) decisionFooter(c storage.Claim, effective *time.Time) string {
	at := ""
	if c.DecidedAt != nil {
		at = " " + a.clock(*c.DecidedAt)
	}
	switch c.Status {
	case storage.ClaimApproved:
		s := fmt.Sprintf("✅ <b>已通过</b> — %s%s", esc(c.Decider), at)
		if c.Kind == storage.ClaimKindDeduction {
			s = fmt.Sprintf("✅ <b>已登记</b> — %s%s", esc(c.Decider), at)
		}
		if effective != nil {
			if c.DecidedAt != nil && effective.After(*c.DecidedAt) {
				s += "\n公示至" + a.day(*effective) + "，期满生效"
			} else {
				s += "\n已生效"
			}
		}
		return s
	case storage.ClaimRejected:
		s := fmt.Sprintf("❌ <b>已驳回</b> — %s%s", esc(c.Decider), at)
		if c.Reason != "" {
			s += "\n理由：" + esc(cut(c.Reason, 200))
		}
		return s
	case storage.ClaimFrozen:
		return "🧊 <b>已冻结</b>：本户本期被一票否决"
	}
	return ""
}

// reviewKeyboard carries the one-tap decision buttons of a card.
func reviewKeyboard(claimID int64) map[string]any {
	return map[string]any{"inline_keyboard": [][]map[string]string{{
		{"text": "通过", "callback_data": callback.Decision(claimID, true)},
		{"text": "驳回", "callback_data": callback.Decision(claimID, false)},
	}}}
}

// claimantNotice tells the claimant what became of their claim.
func (a *App) claimantNotice(c storage.Claim, effective *time.Time) string {
	what := esc(PointsText(c))
	switch c.Status {
	case storage.ClaimApproved:
		s := fmt.Sprintf("✅ 您的积分申报 #%d %s 已通过（%s）。", c.ID, what, esc(c.Decider))
		if effective != nil && c.DecidedAt != nil && effective.After(*c.DecidedAt) {
			s += "\n公示至" + a.day(*effective) + "，期满后计入本户积分。"
		} else {
			s += "\n已计入本户积分。"
		}
		return s
	case storage.ClaimRejected:
		s := fmt.Sprintf("❌ 您的积分申报 #%d %s 未通过（%s）。", c.ID, what, esc(c.Decider))
		if c.Reason != "" {
			s += "\n理由：" + esc(c.Reason)
		}
		return s
	case storage.ClaimFrozen:
		return fmt.Sprintf("🧊 您的积分申报 #%d %s 已冻结：本户本期被一票否决。", c.ID, what)
	case storage.ClaimPending:
		return fmt.Sprintf("⚠️ 您的积分申报 #%d %s 在公示期内收到异议，已重新提交评议。\n异议理由：%s", c.ID, what, esc(c.Reason))
	}
	return ""
}

// householdDeductionNotice tells a household about a deduction or veto.
func (a *App) householdDeductionNotice(c storage.Claim, effective time.Time) string {
	if c.Veto {
		when := "本期"
		if l := a.VetoLabel(c); l != "" {
			when = l
		}
		s := fmt.Sprintf("⛔ 本户被记录一票否决项目：%s %s（%s 登记，记录 #%d）。\n本户%s不参加积分排名和奖励，待审核的申报已冻结。",
			esc(c.ItemCode), esc(c.ItemName), esc(c.Decider), c.ID, when)
		if c.ActDate != nil {
			s += "\n发生日期：" + c.ActDate.Format("2006年1月2日")
		}
		if c.Note != "" {
			s += "\n说明：" + esc(c.Note)
		}
		return s
	}
	s := fmt.Sprintf("⚠️ 本户被记录扣分：%s（%s 登记，记录 #%d）。", esc(PointsText(c)), esc(c.Decider), c.ID)
	if c.Note != "" {
		s += "\n说明：" + esc(c.Note)
	}
	if c.DecidedAt != nil && effective.After(*c.DecidedAt) {
		s += "\n公示至" + a.day(effective) + "，如有异议请在公示期内联系村积分评议员。"
	}
	return s
}

// receiptText is the household's receipt for a redemption.
func (a *App) receiptText(r Redemption) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🧾 <b>积分兑换回执</b> #%d\n", r.Entry.ID)
	fmt.Fprintf(&b, "农户：%s（%s）\n", esc(r.Household.Label()), esc(r.Household.VillageName))
	fmt.Fprintf(&b, "兑换积分：%d 分\n", -r.Entry.Points)
	if r.Goods != nil {
		fmt.Fprintf(&b, "商品：%s ×%d（每件 %d 分）\n", esc(r.Goods.Name), r.Qty, r.Goods.Points)
	} else if r.Entry.Goods != "" {
		fmt.Fprintf(&b, "物品：%s\n", esc(r.Entry.Goods))
	}
	fmt.Fprintf(&b, "经办：%s\n", esc(r.Operator))
	fmt.Fprintf(&b, "时间：%s\n", a.clock(r.Entry.RecordedAt))
	fmt.Fprintf(&b, "余额：%d → <b>%d</b> 分", r.Before, r.After)
	return b.String()
}

// RankingText renders a ranking for a chat: the first max rows, then how
// many more. Vetoed households are left out without naming why (SPEC §7.4):
// a veto is the household's matter, told to it privately.
func RankingText(title string, rows []RankedHousehold, max int) string {
	var b strings.Builder
	b.WriteString("<b>" + esc(title) + "</b>\n")
	shown, ranked := 0, 0
	for _, r := range rows {
		if r.Vetoed {
			continue
		}
		ranked++
		if shown >= max {
			continue
		}
		shown++
		medal := ""
		switch r.Rank {
		case 1:
			medal = "🥇"
		case 2:
			medal = "🥈"
		case 3:
			medal = "🥉"
		}
		fmt.Fprintf(&b, "%d. %s%s — <b>%d</b> 分\n", r.Rank, medal, esc(r.Label()), r.Points)
	}
	if ranked == 0 {
		b.WriteString("（暂无农户）\n")
	}
	if ranked > shown {
		fmt.Fprintf(&b, "……共 %d 户参与排名\n", ranked)
	}
	return strings.TrimRight(b.String(), "\n")
}
