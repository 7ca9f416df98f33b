package bot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/texts"
)

// ht is the health-check catalogue (internal/texts/health.yaml).
var ht = texts.Health

// hcMaxListed bounds the branches a summary names per light.
const hcMaxListed = 20

var hcLightIcons = map[health.Light]string{health.Green: "🟢", health.Yellow: "🟡", health.Red: "🔴"}

func hcNeedLinked(c *Ctx) error {
	if c.Actor.PersonID == 0 {
		return domain.Refuse(domain.ErrForbidden, "%s", ht.T("refuse.not_linked"))
	}
	return nil
}

// statusHandler shows a branch's lights in its group or to its secretary,
// and the subtree's summary to an organiser or admin; "/status CODE" picks
// a unit within the sender's scope.
func statusHandler(c *Ctx) error {
	if err := hcNeedLinked(c); err != nil {
		return err
	}
	a := c.App
	if len(c.Cmd.Args) > 0 {
		u, err := a.UnitForActor(c, c.Actor, c.Cmd.Args[0])
		if err != nil {
			return err
		}
		text, err := hcUnitStatusText(c, u)
		if err != nil {
			return err
		}
		return c.Reply(text, nil)
	}
	if !c.Private() {
		u, bound, err := a.GroupUnit(c, c.ChatID())
		if err != nil {
			return err
		}
		if bound && u.Kind == domain.KindBranch {
			text, err := hcBranchStatusText(c, u)
			if err != nil {
				return err
			}
			return c.Reply(text, nil)
		}
	}
	units, err := healthcheck.Of(a).StatusUnits(c, c.Actor)
	if err != nil {
		return err
	}
	parts := make([]string, 0, len(units))
	for _, u := range units {
		text, err := hcUnitStatusText(c, u)
		if err != nil {
			return err
		}
		parts = append(parts, text)
	}
	return c.Reply(strings.Join(parts, "\n\n"), nil)
}

// hcUnitStatusText is a branch's lights or a unit's summary.
func hcUnitStatusText(c *Ctx, u domain.Unit) (string, error) {
	if u.Kind == domain.KindBranch {
		return hcBranchStatusText(c, u)
	}
	if u.Kind == domain.KindGroup && u.ParentID != nil {
		b, err := c.App.UnitByID(c, c.Actor, *u.ParentID)
		if err != nil {
			return "", err
		}
		return hcBranchStatusText(c, b)
	}
	return hcSummaryText(c, u)
}

// hcUnitName is a unit's name, for replies (never its code).
func hcUnitName(c *Ctx, id int64) (string, error) {
	u, err := c.App.UnitByID(c, c.Actor, id)
	if err != nil {
		return "", fmt.Errorf("unit %d: %w", id, err)
	}
	return u.Name, nil
}

// hcPeriodLabel is the Chinese label of a period key ("2026年第四季度").
func hcPeriodLabel(key string) string {
	if p, err := health.ParsePeriod(key); err == nil {
		return p.Label()
	}
	return key
}

func hcObligationName(a *app.App, code string) string {
	if ob, ok := healthcheck.Of(a).Obligation(code); ok {
		return ob.Name
	}
	return code
}

// hcItemLine renders one item of a branch.
func hcItemLine(c *Ctx, it healthcheck.ItemStatus) string {
	a := c.App
	var b strings.Builder
	b.WriteString(hcLightIcons[it.Light] + " " + E(hcObligationName(a, it.Obligation)))
	if it.GroupName != "" {
		b.WriteString(ht.T("item.group", "group", E(it.GroupName)))
	}
	b.WriteString(ht.T("item.period", "period", it.Period.Label()))
	last := it.Due.Add(-time.Nanosecond).In(a.Loc)
	switch {
	case it.CheckedIn:
		b.WriteString(ht.T("item.done"))
	case it.Exempt:
		b.WriteString(ht.T("item.exempt"))
	case it.Reason != "":
		b.WriteString(ht.T("item.reason", "reason", E(it.Reason)))
	case it.Light == health.Red:
		b.WriteString(ht.T("item.overdue", "due", last.Format("01-02"), "days", strconv.Itoa(health.DaysOverdue(it.Due, a.Now(), a.Loc))))
		if it.Ack != nil {
			b.WriteString(ht.T("item.acked", "person", E(it.Ack.Person)))
			if it.Ack.PlannedOn != nil {
				b.WriteString(ht.T("item.planned", "day", it.Ack.PlannedOn.Format("01-02")))
			}
		}
	default:
		b.WriteString(ht.T("item.due", "due", last.Format("01-02")))
	}
	return b.String()
}

func hcBranchStatusText(c *Ctx, u domain.Unit) (string, error) {
	a := c.App
	st, err := healthcheck.Of(a).BranchStatus(c, c.Actor, u.ID)
	if err != nil {
		return "", err
	}
	now := a.Now()
	var cur, missed []string
	for _, it := range st.Items {
		line := hcItemLine(c, it)
		if it.Period.Before(health.PeriodAt(it.Period.Rec, now, a.Loc)) {
			missed = append(missed, line)
		} else {
			cur = append(cur, line)
		}
	}
	var b strings.Builder
	b.WriteString(ht.T("branch.head", "unit", E(u.Name), "icon", hcLightIcons[st.Light], "light", st.Light.Label()))
	if len(cur) == 0 && len(missed) == 0 {
		b.WriteString(ht.T("branch.nothing"))
		return b.String(), nil
	}
	if len(cur) > 0 {
		b.WriteString(ht.T("branch.current", "items", strings.Join(cur, "\n")))
	}
	if len(missed) > 0 {
		if len(cur) > 0 {
			b.WriteString("\n")
		}
		b.WriteString(ht.T("branch.missed", "items", strings.Join(missed, "\n")))
	}
	return b.String(), nil
}

func hcSummaryText(c *Ctx, u domain.Unit) (string, error) {
	a := c.App
	counts, bs, err := healthcheck.Of(a).UnitSummary(c, c.Actor, u.ID)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(ht.T("summary.head", "unit", E(u.Name), "total", strconv.Itoa(counts.Total()),
		"green", strconv.Itoa(counts.Green), "yellow", strconv.Itoa(counts.Yellow), "red", strconv.Itoa(counts.Red)))
	for _, l := range []health.Light{health.Red, health.Yellow} {
		var lines []string
		n := 0
		for _, br := range bs {
			if br.Light != l {
				continue
			}
			n++
			if len(lines) >= hcMaxListed {
				continue
			}
			var items []string
			for _, it := range br.Items {
				if it.Light == l {
					s := E(hcObligationName(a, it.Obligation)) + " " + it.Period.Label()
					if it.Ack != nil {
						if it.Ack.PlannedOn != nil {
							s += ht.T("summary.acked_planned", "person", E(it.Ack.Person), "day", it.Ack.PlannedOn.Format("01-02"))
						} else {
							s += ht.T("summary.acked", "person", E(it.Ack.Person))
						}
					}
					items = append(items, s)
				}
			}
			lines = append(lines, ht.T("summary.branch", "branch", E(br.Name), "items", strings.Join(items, "、")))
		}
		if n == 0 {
			continue
		}
		b.WriteString(ht.T("summary.light", "icon", hcLightIcons[l], "light", l.Label(), "lines", strings.Join(lines, "\n")))
		if n > len(lines) {
			b.WriteString(ht.T("summary.more", "count", strconv.Itoa(n)))
		}
	}
	return b.String(), nil
}

// ackHandler: /ack [obligation] [planned date].
//
// 收到 alone is also what everyone in a group says to any announcement: from
// someone who is no secretary at all it is chatter, not a command.
func ackHandler(c *Ctx) error {
	if c.Cmd.Plain && !c.Private() && len(c.Cmd.Args) == 0 && len(c.Actor.UnitsWith(domain.RoleSecretary)) == 0 {
		return errIgnored
	}
	if err := hcNeedLinked(c); err != nil {
		return err
	}
	a := c.App
	var req healthcheck.AckRequest
	for _, arg := range c.Cmd.Args {
		if d, ok := plannedDate(arg, a.Now(), a.Loc); ok && req.Planned == nil {
			req.Planned = &d
			continue
		}
		if code, ok := healthcheck.Of(a).ObligationMatcher().Match(arg); ok && req.Obligation == "" {
			req.Obligation = code
			continue
		}
		return domain.Refuse(domain.ErrInvalid, "%s", ht.T("ack.unknown", "word", arg))
	}
	if !c.Private() {
		req.ChatID = c.ChatID()
	}
	res, err := healthcheck.Of(a).Ack(c, c.Actor, req)
	if err != nil {
		return err
	}
	return c.Reply(hcAckText(a, res), nil)
}

func hcAckText(a *app.App, res healthcheck.AckResult) string {
	var items []string
	for _, it := range res.Items {
		s := E(hcObligationName(a, it.Obligation))
		if it.GroupName != "" {
			s += ht.T("item.group", "group", E(it.GroupName))
		}
		items = append(items, s+ht.T("item.period", "period", it.Period.Label()))
	}
	text := ht.T("ack.done", "items", strings.Join(items, "、"))
	if res.Planned != nil {
		text += ht.T("ack.planned", "day", res.Planned.Format(time.DateOnly))
	} else {
		text += ht.T("ack.paused", "until", res.Until.In(a.Loc).Format("01-02 15:04"))
	}
	return text
}

// plannedDate reads a promised date. Unlike a check-in's date it lies ahead
// (command.ParseFutureDate): 11-20 that has passed this year means next
// year's, 5号 past this month next month's; 明天, 下周五, 月底 are read.
func plannedDate(arg string, now time.Time, loc *time.Location) (time.Time, bool) {
	return command.ParseFutureDate(arg, now, loc)
}

// silenceSpan reads the dates of /silence at the start of rest: one date (the
// last day), or a range (11月28日至12月5日, also written 11-28 至 12-05). It
// returns the first day (zero: from now), the last day, the words read and
// what follows.
func silenceSpan(rest string, now time.Time, loc *time.Location) (from, to time.Time, span, after string, ok bool) {
	for n := 3; n >= 1; n-- {
		words, tail := hcSplitArgs(rest, n)
		if len(words) < n {
			continue
		}
		span := strings.Join(words, "")
		if n > 1 && !strings.ContainsAny(span, "至到~～—") {
			continue // only a range spreads over words
		}
		if from, to, ok := command.ParseFutureRange(span, now, loc); ok {
			return from, to, span, tail, true
		}
	}
	return time.Time{}, time.Time{}, "", rest, false
}

// reYearWritten finds a year in the dates of a command.
var reYearWritten = regexp.MustCompile(`\d{4}|[０-９]{4}`)

// ackCallback handles the 收到 button of a red notice.
func ackCallback(c *Ctx) error {
	if err := hcNeedLinked(c); err != nil {
		return err
	}
	req, err := healthcheck.ParseAckData(c.Data)
	if err != nil {
		return c.Answer(ht.T("ack.tap_stale"), false)
	}
	res, err := healthcheck.Of(c.App).Ack(c, c.Actor, req)
	if err != nil {
		return err
	}
	return c.Answer(ht.T("ack.tap_done", "count", strconv.Itoa(len(res.Items)), "until", res.Until.In(c.App.Loc).Format("01-02 15:04")), false)
}

// hcSplitArgs cuts the first n words off rest and returns them with the
// remainder (which keeps its inner spacing).
func hcSplitArgs(rest string, n int) ([]string, string) {
	var words []string
	s := strings.TrimSpace(rest)
	for len(words) < n && s != "" {
		i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '　' })
		if i < 0 {
			words = append(words, s)
			s = ""
			break
		}
		words = append(words, s[:i])
		s = strings.TrimLeft(s[i:], " \t\n　")
	}
	return words, s
}

// exemptHandler: /exempt <branch code> <obligation> <period> <reason>.
func exemptHandler(c *Ctx) error {
	if err := hcNeedLinked(c); err != nil {
		return err
	}
	words, reason := hcSplitArgs(c.Cmd.Rest, 3)
	if len(words) < 3 || reason == "" {
		return domain.Refuse(domain.ErrInvalid, "%s", ht.T("exempt.usage"))
	}
	xs, err := healthcheck.Of(c.App).Exempt(c, c.Actor, healthcheck.ExemptRequest{UnitCode: words[0], Obligation: words[1], Period: words[2], Reason: reason})
	if err != nil {
		return err
	}
	var units []string
	for _, x := range xs {
		name, err := hcUnitName(c, x.UnitID)
		if err != nil {
			return err
		}
		units = append(units, E(name))
	}
	x := xs[0]
	return c.Reply(ht.T("exempt.done", "units", strings.Join(units, "、"), "obligation", E(hcObligationName(c.App, x.Obligation)),
		"period", hcPeriodLabel(x.Period), "reason", E(x.Reason)), nil)
}

// silenceHandler: /silence <unit code> [obligation] <until date> <reason>.
func silenceHandler(c *Ctx) error {
	if err := hcNeedLinked(c); err != nil {
		return err
	}
	a := c.App
	usage := domain.Refuse(domain.ErrInvalid, "%s", ht.T("silence.usage"))
	words, rest := hcSplitArgs(c.Cmd.Rest, 2)
	if len(words) < 2 {
		return usage
	}
	req := healthcheck.SilenceRequest{UnitCode: words[0]}
	now := a.Now()
	from, until, span, reason, ok := silenceSpan(words[1]+" "+rest, now, a.Loc)
	if !ok && strings.ContainsAny(words[1], "0123456789０１２３４５６７８９至到~") {
		// No obligation has a digit in its name: a date that cannot be read.
		return domain.Refuse(domain.ErrInvalid, "%s", ht.T("silence.bad_date", "date", words[1], "usage", usage.Error()))
	}
	if !ok {
		req.Obligation = words[1]
		if strings.TrimSpace(rest) == "" {
			return usage
		}
		if from, until, span, reason, ok = silenceSpan(rest, now, a.Loc); !ok {
			more, _ := hcSplitArgs(rest, 1)
			return domain.Refuse(domain.ErrInvalid, "%s", ht.T("silence.bad_date", "date", more[0], "usage", usage.Error()))
		}
	}
	if strings.TrimSpace(reason) == "" {
		return usage
	}
	if until.Sub(now) > 183*24*time.Hour && !reYearWritten.MatchString(span) {
		// 11-20 typed on 11-26 would silence for a year: asked, not guessed.
		return domain.Refuse(domain.ErrInvalid, "%s", ht.T("silence.far", "span", span, "year", strconv.Itoa(until.Year()),
			"month", strconv.Itoa(int(until.Month())), "day", strconv.Itoa(until.Day()), "date", until.Format(time.DateOnly)))
	}
	if from.After(now) {
		req.From = from
	}
	req.Until, req.Reason = until.AddDate(0, 0, 1), reason
	x, err := healthcheck.Of(a).Silence(c, c.Actor, req)
	if err != nil {
		return err
	}
	what := ht.T("silence.all")
	if x.Obligation != "" {
		what = E(hcObligationName(a, x.Obligation))
	}
	name, err := hcUnitName(c, x.UnitID)
	if err != nil {
		return err
	}
	when := ht.T("silence.until", "day", until.Format(time.DateOnly))
	if !req.From.IsZero() {
		when = ht.T("silence.from", "day", from.Format(time.DateOnly), "until", when)
	}
	return c.Reply(ht.T("silence.done", "unit", E(name), "what", what, "when", when, "reason", E(x.Reason)), nil)
}
