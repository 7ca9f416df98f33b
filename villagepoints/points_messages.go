package villagepoints

import (
	"html"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
)

// The texts the points use cases send (Telegram HTML, user text escaped).
// Chat replies are the bot's; these are the messages that a use case sends
// in its own transaction, whichever door it came through: review cards and
// their edits, notices to claimants and households, receipts, rankings.
// Their words are in internal/texts/points.yaml.

var pt = texts.Points

func esc(s string) string { return html.EscapeString(s) }

// cut shortens user text for a card (a photo caption holds 1,024 characters).
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func (a Service) clock(t time.Time) string { return t.In(a.Loc).Format("01-02 15:04") }

// day is a publicity date as villagers read it: to the day (公示至11月23日),
// not the minute.
func (a Service) day(t time.Time) string { return t.In(a.Loc).Format("1月2日") }

// PointsText names a claim's item with its points: "A01 参加治安巡逻（+2 分）".
func PointsText(c storage.Claim) string {
	if c.Veto {
		return pt.T("item.veto", "code", c.ItemCode, "name", c.ItemName)
	}
	return pt.T("item.points", "code", c.ItemCode, "name", c.ItemName, "points", points.Signed(c.Points))
}

var evidenceWords = map[string]string{
	string(points.EvidencePhoto):       pt.T("evidence.photo"),
	string(points.EvidenceCertificate): pt.T("evidence.certificate"),
	string(points.EvidenceWitness):     pt.T("evidence.witness"),
	string(points.EvidenceNone):        pt.T("evidence.none"),
}

// cardText is a claim's review card: who, which household, what, how many
// points, the note and the evidence.
func (a Service) cardText(c storage.Claim, hh storage.Household) string {
	var b strings.Builder
	id := strconv.FormatInt(c.ID, 10)
	switch {
	case c.Kind == storage.ClaimKindDeduction && c.Veto:
		b.WriteString(pt.T("card.head_veto", "id", id))
	case c.Kind == storage.ClaimKindDeduction:
		b.WriteString(pt.T("card.head_deduction", "id", id))
	default:
		b.WriteString(pt.T("card.head_claim", "id", id))
	}
	b.WriteString(pt.T("card.village", "village", esc(c.VillageName)))
	if c.Kind == storage.ClaimKindDeduction {
		b.WriteString(pt.T("card.household", "household", esc(hh.Label())))
		b.WriteString(pt.T("card.recorder", "name", esc(c.RecorderName)))
	} else {
		b.WriteString(pt.T("card.claimant", "name", esc(c.PersonName), "household", esc(hh.Label())))
	}
	b.WriteString(pt.T("card.item", "code", esc(c.ItemCode), "name", esc(c.ItemName)))
	if c.Veto {
		b.WriteString(pt.T("card.category_veto", "category", esc(c.Category)))
	} else {
		b.WriteString(pt.T("card.category", "category", esc(c.Category), "points", points.Signed(c.Points)))
	}
	ev := evidenceWords[c.Evidence]
	if c.HasPhoto() {
		ev += pt.T("card.photo_attached")
	}
	if ev != "" {
		b.WriteString(pt.T("card.evidence", "evidence", ev))
	}
	if c.Note != "" {
		b.WriteString(pt.T("card.note", "note", esc(cut(c.Note, 200))))
	}
	b.WriteString(pt.T("card.time", "time", a.clock(c.ClaimedAt)))
	if c.Objections > 0 && c.Status == storage.ClaimPending {
		b.WriteString(pt.T("card.round", "round", strconv.Itoa(c.Objections+1)))
		if c.Reason != "" {
			b.WriteString(pt.T("card.round_reason", "reason", esc(cut(c.Reason, 100))))
		}
	}
	return b.String()
}

// decisionFooter is what a decided card shows below the claim.
func (a Service) decisionFooter(c storage.Claim, effective *time.Time) string {
	at := ""
	if c.DecidedAt != nil {
		at = " " + a.clock(*c.DecidedAt)
	}
	switch c.Status {
	case storage.ClaimApproved:
		s := pt.T("footer.approved", "decider", esc(c.Decider), "at", at)
		if c.Kind == storage.ClaimKindDeduction {
			s = pt.T("footer.registered", "decider", esc(c.Decider), "at", at)
		}
		if effective != nil {
			if c.DecidedAt != nil && effective.After(*c.DecidedAt) {
				s += pt.T("footer.publicity", "day", a.day(*effective))
			} else {
				s += pt.T("footer.effective")
			}
		}
		return s
	case storage.ClaimRejected:
		s := pt.T("footer.rejected", "decider", esc(c.Decider), "at", at)
		if c.Reason != "" {
			s += pt.T("footer.reason", "reason", esc(cut(c.Reason, 200)))
		}
		return s
	case storage.ClaimFrozen:
		return pt.T("footer.frozen")
	}
	return ""
}

// reviewKeyboard carries the one-tap decision buttons of a card.
func reviewKeyboard(claimID int64) map[string]any {
	return map[string]any{"inline_keyboard": [][]map[string]string{{
		{"text": pt.T("button.approve"), "callback_data": callback.Decision(claimID, true)},
		{"text": pt.T("button.reject"), "callback_data": callback.Decision(claimID, false)},
	}}}
}

// claimantNotice tells the claimant what became of their claim.
func (a Service) claimantNotice(c storage.Claim, effective *time.Time) string {
	what, id := esc(PointsText(c)), strconv.FormatInt(c.ID, 10)
	switch c.Status {
	case storage.ClaimApproved:
		s := pt.T("notice.approved", "id", id, "item", what, "decider", esc(c.Decider))
		if effective != nil && c.DecidedAt != nil && effective.After(*c.DecidedAt) {
			s += pt.T("notice.approved_publicity", "day", a.day(*effective))
		} else {
			s += pt.T("notice.approved_effective")
		}
		return s
	case storage.ClaimRejected:
		s := pt.T("notice.rejected", "id", id, "item", what, "decider", esc(c.Decider))
		if c.Reason != "" {
			s += pt.T("notice.reason", "reason", esc(c.Reason))
		}
		return s
	case storage.ClaimFrozen:
		return pt.T("notice.frozen", "id", id, "item", what)
	case storage.ClaimPending:
		return pt.T("notice.reopened", "id", id, "item", what, "reason", esc(c.Reason))
	}
	return ""
}

// householdDeductionNotice tells a household about a deduction or veto.
func (a Service) householdDeductionNotice(c storage.Claim, effective time.Time) string {
	id := strconv.FormatInt(c.ID, 10)
	if c.Veto {
		when := pt.T("veto.this_period")
		if l := a.VetoLabel(c); l != "" {
			when = l
		}
		s := pt.T("notice.veto", "code", esc(c.ItemCode), "name", esc(c.ItemName), "decider", esc(c.Decider), "id", id, "when", when)
		if c.ActDate != nil {
			s += pt.T("notice.act_date", "day", c.ActDate.Format("2006年1月2日"))
		}
		if c.Note != "" {
			s += pt.T("notice.note", "note", esc(c.Note))
		}
		return s
	}
	s := pt.T("notice.deduction", "item", esc(PointsText(c)), "decider", esc(c.Decider), "id", id)
	if c.Note != "" {
		s += pt.T("notice.note", "note", esc(c.Note))
	}
	if c.DecidedAt != nil && effective.After(*c.DecidedAt) {
		s += pt.T("notice.deduction_publicity", "day", a.day(effective))
	}
	return s
}

// receiptText is the household's receipt for a redemption.
func (a Service) receiptText(r Redemption) string {
	var b strings.Builder
	b.WriteString(pt.T("receipt.head", "id", strconv.FormatInt(r.Entry.ID, 10)))
	b.WriteString(pt.T("receipt.household", "household", esc(r.Household.Label()), "village", esc(r.Household.VillageName)))
	b.WriteString(pt.T("receipt.points", "points", strconv.Itoa(-r.Entry.Points)))
	if r.Goods != nil {
		b.WriteString(pt.T("receipt.goods", "goods", esc(r.Goods.Name), "qty", strconv.Itoa(r.Qty), "points", strconv.Itoa(r.Goods.Points)))
	} else if r.Entry.Goods != "" {
		b.WriteString(pt.T("receipt.thing", "goods", esc(r.Entry.Goods)))
	}
	b.WriteString(pt.T("receipt.operator", "name", esc(r.Operator)))
	b.WriteString(pt.T("receipt.time", "time", a.clock(r.Entry.RecordedAt)))
	b.WriteString(pt.T("receipt.balance", "before", strconv.Itoa(r.Before), "after", strconv.Itoa(r.After)))
	return b.String()
}

// RankingText renders a ranking for a chat: the first max rows, then how
// many more. Vetoed households are left out without naming why (SPEC §7.4):
// a veto is the household's matter, told to it privately.
func RankingText(title string, rows []RankedHousehold, max int) string {
	var b strings.Builder
	b.WriteString(pt.T("rank.title", "title", esc(title)))
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
		b.WriteString(pt.T("rank.row", "rank", strconv.Itoa(r.Rank), "medal", medal, "household", esc(r.Label()), "points", strconv.Itoa(r.Points)))
	}
	if ranked == 0 {
		b.WriteString(pt.T("rank.none"))
	}
	if ranked > shown {
		b.WriteString(pt.T("rank.more", "count", strconv.Itoa(ranked)))
	}
	return strings.TrimRight(b.String(), "\n")
}
