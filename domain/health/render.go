package health

import (
	"fmt"
	"html"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxMessageLen is Telegram's limit on a message's text: 4096 UTF-16 code
// units after entity parsing.
const MaxMessageLen = 4096

// Lengths at which user-provided strings are clipped, so that one line can
// never exceed a message.
const (
	clipName   = 40
	clipShort  = 20
	clipPathEl = 16
	maxPathEls = 4
)

var sectionHeaders = [numSections]string{
	secRedSecretary: "🔴 <b>【红灯督办】以下规定动作已逾期未完成，请尽快整改并补录：</b>",
	secRedOrganiser: "🔴 <b>【红灯督办】以下支部规定动作已逾期未完成，请督促整改：</b>",
	secYellow:       "🟡 <b>【黄灯提醒】以下规定动作即将到期，请及时开展并打卡：</b>",
	secResolved:     "✅ <b>【已整改】以下红灯已消除：</b>",
	secGreen:        "🟢 <b>【本期规定动作】请按期开展以下活动并及时打卡：</b>",
}

// esc escapes a user-provided string for Telegram HTML after clipping it to
// n runes.
func esc(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n-1]) + "…"
	}
	return html.EscapeString(s)
}

// civilDay numbers the calendar day of t in loc.
func civilDay(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// lastDay is the last instant before due: the deadline as people say it.
func lastDay(due time.Time) time.Time { return due.Add(-time.Nanosecond) }

// displayPath is the item's unit path for organisers, without the branch
// itself and limited to the last few units.
func displayPath(it *Item) string {
	path := it.UnitPath
	if n := len(path); n > 0 && path[n-1] == it.BranchName {
		path = path[:n-1]
	}
	if len(path) > maxPathEls {
		path = path[len(path)-maxPathEls:]
	}
	parts := make([]string, len(path))
	for i, s := range path {
		parts[i] = esc(s, clipPathEl)
	}
	return strings.Join(parts, "/")
}

// branchLabel is "名称[ 党小组]": people read units by name, never by code.
func branchLabel(b *strings.Builder, it *Item) {
	b.WriteString(esc(it.BranchName, clipName))
	if it.GroupName != "" {
		b.WriteByte(' ')
		b.WriteString(esc(it.GroupName, clipShort))
	}
}

// itemLine renders the line of a yellow, red or resolved notice.
func (p *planner) itemLine(l *line) string {
	it := &p.in.Items[l.notice.Items[0]]
	n := &l.notice
	var b strings.Builder
	b.WriteString("• ")
	if n.Role == RoleOrganiser {
		if path := displayPath(it); path != "" {
			b.WriteString("〔" + path + "〕")
		}
	}
	branchLabel(&b, it)
	if it.Obligation.TermEnd {
		return termLine(&b, it, n, p.t, p.loc)
	}
	b.WriteString(" · ")
	b.WriteString(esc(it.Obligation.Name, clipShort))
	b.WriteString(" · ")
	b.WriteString(it.Period.Label())
	b.WriteString(" · 截止 ")
	b.WriteString(lastDay(it.Due).In(p.loc).Format(time.DateOnly))
	today := civilDay(p.t, p.loc)
	switch n.Level {
	case LevelYellow:
		left := civilDay(lastDay(it.Due), p.loc) - today
		if it.Reason != "" {
			b.WriteString(" · " + html.EscapeString(it.Reason))
		} else if left <= 0 {
			b.WriteString(" · 今日截止")
		} else {
			fmt.Fprintf(&b, " · 还有 %d 天", left)
		}
	case LevelRed:
		fmt.Fprintf(&b, " · 已逾期 %d 天", DaysOverdue(it.Due, p.t, p.loc))
		if n.OrgLevel == 1 {
			fmt.Fprintf(&b, "（逾期超过 %d 个工作日，提级督办）", p.in.Rules.EscalateDays)
		}
		if n.Role == RoleOrganiser && it.AckBy != "" {
			promised := it.AckPlanned
			if promised.IsZero() {
				promised = it.AckUntil
			}
			b.WriteString("；")
			b.WriteString(esc(it.AckBy, clipShort))
			b.WriteString(" 已回复收到")
			if !promised.IsZero() {
				b.WriteString("，计划 ")
				b.WriteString(promised.In(p.loc).Format(time.DateOnly))
				b.WriteString(" 前完成")
				if !it.AckUntil.IsZero() && !p.t.Before(it.AckUntil) {
					b.WriteString("（已过期）")
				}
			}
		}
	case LevelResolved:
		switch {
		case it.CheckedIn:
			b.WriteString(" · 已补录打卡")
		case it.Exempt:
			b.WriteString(" · 已豁免")
		default:
			b.WriteString(" · 已消除")
		}
	}
	return b.String()
}

// promptBlock renders a green prompt: a bold branch/period line and one
// line per activity.
func (p *planner) promptBlock(l *line) []string {
	first := &p.in.Items[l.notice.Items[0]]
	var b strings.Builder
	b.WriteString("<b>")
	b.WriteString(esc(first.BranchName, clipName))
	b.WriteString(" · ")
	b.WriteString(first.Period.Label())
	b.WriteString("</b>")
	out := []string{b.String()}
	for _, i := range l.notice.Items { // sorted by greenPrompts
		it := &p.in.Items[i]
		b.Reset()
		b.WriteString("• ")
		b.WriteString(esc(it.Obligation.Name, clipShort))
		if it.GroupName != "" {
			b.WriteString("（" + esc(it.GroupName, clipShort) + "）")
		}
		b.WriteString(" · 截止 ")
		b.WriteString(lastDay(it.Due).In(p.loc).Format(time.DateOnly))
		if it.CheckedIn {
			b.WriteString(" · 已完成")
		}
		out = append(out, b.String())
	}
	return out
}

// footer gives secretaries the commands they need; organisers get none.
func (p *planner) footer(lines []line) []string {
	var example, redExample *Item
	red := false
	for i := range lines {
		n := &lines[i].notice
		if n.Role != RoleSecretary {
			continue
		}
		// The 换届提醒 is not checked in: it gives no example.
		if it := &p.in.Items[n.Items[0]]; example == nil && !it.Obligation.TermEnd {
			example = it
		}
		if it := &p.in.Items[n.Items[0]]; redExample == nil && n.Level == LevelRed && !it.Obligation.TermEnd {
			redExample = it
		}
		red = red || n.Level == LevelRed
	}
	lt := p.t.In(p.loc)
	var out []string
	if example != nil {
		out = append(out, fmt.Sprintf("打卡：<code>打卡 %s %s 7/9 主题</code>（活动 日期 实到/应到 主题）",
			esc(example.Obligation.Word(), clipShort), monthDay(lt)))
	}
	if redExample != nil {
		// A meeting held late is filed for the period it was for, with its
		// real date: never a false date inside the missed period.
		out = append(out, fmt.Sprintf("补开：<code>打卡 %s %s 今天 7/9 主题</code>（按实际日期打卡，写明补开哪一期）",
			esc(redExample.Obligation.Word(), clipShort), MakeUpWord(redExample.Period)))
	}
	if red {
		out = append(out, fmt.Sprintf("收到督办请点“收到”，或回复 <code>收到 %s</code>（计划完成日期）", monthDay(lt.AddDate(0, 0, 3))))
	}
	return out
}

// render lays out a digest: prelude (fallback notice), sections by level,
// footer; split into messages of at most MaxMessageLen.
func (p *planner) render(d *Digest, lines []line) []string {
	var prelude []string
	if d.ViaFallback {
		prelude = []string{"<i>（此消息应发给 " + esc(d.Name, clipShort) + "，其尚未绑定个人账号，现发至本组织群）</i>"}
	}
	var secs [numSections][][]string
	for i := range lines {
		l := &lines[i]
		if l.section == secGreen {
			secs[l.section] = append(secs[l.section], p.promptBlock(l))
		} else {
			secs[l.section] = append(secs[l.section], []string{p.itemLine(l)})
		}
	}
	pk := packer{limit: MaxMessageLen, prelude: prelude}
	pk.reset()
	for s := range numSections {
		if len(secs[s]) == 0 {
			continue
		}
		pk.section(sectionHeaders[s])
		for _, blk := range secs[s] {
			pk.block(blk)
		}
	}
	if f := p.footer(lines); f != nil {
		pk.section("")
		pk.block(f)
	}
	return pk.finish()
}

// packer fills messages with lines, breaking only between lines (and
// between blocks where it can), repeating the prelude and the current
// section header at the top of each message.
type packer struct {
	limit   int
	prelude []string
	out     []string
	cur     []string
	curLen  int
	body    bool   // cur holds more than the prelude
	header  string // current section header ("" = none)
	inCur   bool   // the header is already in cur
	started bool   // the section already has lines in an earlier message
}

func (p *packer) reset() {
	p.cur = append(p.cur[:0], p.prelude...)
	p.curLen = 0
	for i, l := range p.prelude {
		if i > 0 {
			p.curLen++
		}
		p.curLen += TelegramLen(l)
	}
	p.body, p.inCur = false, false
}

func (p *packer) flush() {
	if p.body {
		p.out = append(p.out, strings.Join(p.cur, "\n"))
		if p.inCur {
			p.started = true
		}
	}
	p.reset()
}

// cost is the length cur would have with lines added.
func (p *packer) cost(lines []string) int {
	n, k := p.curLen, len(p.cur)
	for _, l := range lines {
		if k > 0 {
			n++
		}
		n += TelegramLen(l)
		k++
	}
	return n
}

func (p *packer) push(lines ...string) {
	for _, l := range lines {
		if len(p.cur) > 0 {
			p.curLen++
		}
		p.curLen += TelegramLen(l)
		p.cur = append(p.cur, l)
	}
	p.body = true
}

func (p *packer) section(header string) {
	p.header, p.inCur, p.started = header, false, false
}

// withHeader prefixes lines with the section header when cur lacks it.
func (p *packer) withHeader(lines []string) []string {
	if p.inCur || p.header == "" {
		return lines
	}
	h := p.header
	if p.started {
		h += "（续）"
	}
	return append([]string{h}, lines...)
}

// block adds lines kept together when they fit in one message, else line
// by line.
func (p *packer) block(lines []string) {
	if p.tryBlock(lines) {
		return
	}
	if p.body {
		p.flush()
		if p.tryBlock(lines) {
			return
		}
	}
	for _, l := range lines {
		if p.tryBlock([]string{l}) {
			continue
		}
		if p.body {
			p.flush()
			if p.tryBlock([]string{l}) {
				continue
			}
		}
		// A single line longer than a message (user strings are clipped,
		// so only with a tiny limit): cut it outside tags and entities.
		room := p.limit - p.cost(p.withHeader([]string{""}))
		for _, part := range cutLine(l, room) {
			if !p.tryBlock([]string{part}) {
				p.flush()
				if !p.tryBlock([]string{part}) {
					p.push(p.withHeader([]string{part})...)
					p.inCur = p.header != ""
				}
			}
		}
	}
}

func (p *packer) tryBlock(lines []string) bool {
	all := p.withHeader(lines)
	if p.cost(all) > p.limit {
		return false
	}
	p.push(all...)
	p.inCur = p.header != ""
	return true
}

func (p *packer) finish() []string {
	if p.body {
		p.out = append(p.out, strings.Join(p.cur, "\n"))
	}
	return p.out
}

// cutLine cuts s into pieces of at most room UTF-16 units (at least one
// character each), never inside a tag or an entity; tags open at a cut are
// closed at the end of the piece and opened again in the next.
func cutLine(s string, room int) []string {
	room = max(room, 1)
	var out []string
	var open []string    // tags open in cur, e.g. "<b>"
	var pending []string // opening tags not yet followed by text
	var cur strings.Builder
	n := 0
	for i := 0; i < len(s); {
		j, w := unitEnd(s, i)
		unit := s[i:j]
		i = j
		if w == 0 && strings.HasPrefix(unit, "<") && !strings.HasPrefix(unit, "</") {
			pending = append(pending, unit) // opens with the text it precedes
			continue
		}
		if w > 0 && n+w > room && n > 0 {
			for k := len(open) - 1; k >= 0; k-- {
				cur.WriteString("</" + tagName(open[k]) + ">")
			}
			out = append(out, cur.String())
			cur.Reset()
			for _, t := range open {
				cur.WriteString(t)
			}
			n = 0
		}
		for _, t := range pending {
			cur.WriteString(t)
		}
		open, pending = append(open, pending...), pending[:0]
		if w == 0 && strings.HasPrefix(unit, "</") && len(open) > 0 {
			open = open[:len(open)-1]
		}
		cur.WriteString(unit)
		n += w
	}
	for _, t := range pending {
		cur.WriteString(t)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// tagName is "b" for "<b>" and "a" for `<a href="…">`.
func tagName(open string) string {
	name := strings.Trim(open, "<>")
	if k := strings.IndexByte(name, ' '); k >= 0 {
		name = name[:k]
	}
	return name
}

// unitEnd returns the end of the unit starting at s[i] (a tag, an entity or
// one character) and its length in UTF-16 code units as Telegram counts it.
func unitEnd(s string, i int) (end, units int) {
	switch s[i] {
	case '<':
		if j := strings.IndexByte(s[i:], '>'); j >= 0 {
			return i + j + 1, 0
		}
	case '&':
		if j := strings.IndexByte(s[i:], ';'); j > 1 && j <= 10 {
			dec := html.UnescapeString(s[i : i+j+1])
			return i + j + 1, utf16Len(dec)
		}
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return i + w, utf16.RuneLen(r)
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// TelegramLen is the length Telegram counts for an HTML-mode text: UTF-16
// code units of the text after tags are removed and entities decoded.
func TelegramLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		j, w := unitEnd(s, i)
		n += w
		i = j
	}
	return n
}

// monthDay writes a date as people do: "11月20日".
func monthDay(t time.Time) string { return fmt.Sprintf("%d月%d日", t.Month(), t.Day()) }
