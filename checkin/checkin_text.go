package checkin

import (
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
)

// The texts of check-in replies and notices: Telegram HTML, user text
// escaped. They are in app because several doors send them (the bot's
// replies, the rejection notice of any door).

// ck is the check-in catalogue (internal/texts/checkin.yaml).
var ck = texts.Checkin

// writeCheckinLines writes a check-in's obligations, a line each: the
// obligation, the unit when not the branch itself, the period, and whether
// it is a late or an extra record.
func writeCheckinLines(b *strings.Builder, r Result) {
	for _, l := range r.Lines {
		b.WriteString(ck.T("line.item", "obligation", html.EscapeString(l.Obligation.Name)))
		if l.Unit.ID != r.Branch.ID {
			b.WriteString(ck.T("line.unit", "unit", html.EscapeString(l.Unit.Name)))
		}
		b.WriteString(ck.T("line.period", "period", l.Period.Label()))
		if l.Late {
			b.WriteString(ck.T("line.late"))
		}
		if l.Extra {
			b.WriteString(ck.T("line.extra"))
		}
		if l.BelowQuorum {
			b.WriteString(ck.T("line.below_quorum"))
		}
		b.WriteByte('\n')
	}
}

// writeCheckinHead writes what a confirmation and an organiser's copy
// both open with: the head, the lines, the day and, when counted, the
// attendance, in the texts of the catalogue section kind ("confirm" or
// "copy": <kind>.head, <kind>.date, <kind>.attendance).
func writeCheckinHead(b *strings.Builder, r Result, kind string) {
	c := r.Checkin
	b.WriteString(ck.T(kind+".head", "id", id64(c.ID), "branch", html.EscapeString(r.Branch.Name)))
	writeCheckinLines(b, r)
	b.WriteString(ck.T(kind+".date", "day", c.HeldOn))
	if c.Total != nil {
		b.WriteString(ck.T(kind+".attendance", "present", itoa(*c.Present), "total", itoa(*c.Total)))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func id64(n int64) string { return strconv.FormatInt(n, 10) }

// CheckinConfirmation is the reply to an accepted check-in: what was
// recorded, whether it is late or an extra record, and the branch's lights.
func (a Service) CheckinConfirmation(r Result) string {
	var b strings.Builder
	c := r.Checkin
	writeCheckinHead(&b, r, "confirm")
	if n := len(c.Evidence); n > 0 {
		b.WriteString(ck.T("confirm.photos", "count", itoa(n)))
	}
	b.WriteByte('\n')
	if c.Topic != "" {
		b.WriteString(ck.T("confirm.topic", "topic", html.EscapeString(c.Topic)))
	}
	for _, l := range r.Lines {
		if l.Extra {
			b.WriteString(ck.T("confirm.extra", "obligation", html.EscapeString(l.Obligation.Name), "period", l.Period.Label()))
		}
	}
	for _, l := range r.Lines {
		if l.BelowQuorum && c.Present != nil && c.Total != nil {
			b.WriteString(ck.T("confirm.below_quorum", "obligation", html.EscapeString(l.Obligation.Name), "period", l.Period.Label(),
				"reason", health.QuorumReason(*c.Present, *c.Total)))
		}
	}
	for _, l := range r.Lines {
		if l.Late && !l.Extra {
			b.WriteString(ck.T("confirm.late", "obligation", html.EscapeString(l.Obligation.Name), "period", l.Period.Label(),
				"due", l.Due.Add(-time.Nanosecond).In(a.Loc).Format(time.DateOnly)))
		}
	}
	b.WriteString(ck.T("confirm.lights"))
	b.WriteString(a.RenderLights(r.Lights))
	b.WriteString(ck.T("confirm.tail"))
	return b.String()
}

// WithdrawnReply is the reply to /undo.
func (a Service) WithdrawnReply(ch Change) string {
	return ck.T("withdrawn", "id", id64(ch.Checkin.ID), "items", html.EscapeString(itemNames(a, ch.Checkin)),
		"day", ch.Checkin.HeldOn, "lights", a.RenderLights(ch.Lights))
}

// RejectedNotice tells the secretary that a check-in was rejected and why.
func (a Service) RejectedNotice(ch Change, by, reason string) string {
	return ck.T("rejected.notice", "branch", html.EscapeString(ch.Branch.Name), "id", id64(ch.Checkin.ID),
		"items", html.EscapeString(itemNames(a, ch.Checkin)), "day", ch.Checkin.HeldOn,
		"by", html.EscapeString(by), "reason", html.EscapeString(reason), "lights", a.RenderLights(ch.Lights))
}

// RejectedReply is the reply to the organiser who rejected.
func (a Service) RejectedReply(ch Change) string {
	key := "rejected.unnotified"
	if ch.NotifiedChat != 0 {
		key = "rejected.notified"
	}
	return ck.T(key, "branch", html.EscapeString(ch.Branch.Name), "id", id64(ch.Checkin.ID),
		"items", html.EscapeString(itemNames(a, ch.Checkin)), "day", ch.Checkin.HeldOn)
}

// itemNames is "主题党日、党课" for a check-in's obligations.
func itemNames(a Service, c storage.Checkin) string {
	var names []string
	seen := map[string]bool{}
	for _, it := range c.Items {
		name := it.Obligation
		if ob, ok := healthcheck.Of(a.App).Obligation(it.Obligation); ok {
			name = ob.Name
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return strings.Join(names, "、")
}
