package health

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zhibu/zhibu/domain/notice"
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

var sectionHeaders = [numSections]notice.Line{
	secRedSecretary: {notice.P("🔴 "), notice.B("【红灯督办】以下规定动作已逾期未完成，请尽快整改并补录：")},
	secRedOrganiser: {notice.P("🔴 "), notice.B("【红灯督办】以下支部规定动作已逾期未完成，请督促整改：")},
	secYellow:       {notice.P("🟡 "), notice.B("【黄灯提醒】以下规定动作即将到期，请及时开展并打卡：")},
	secResolved:     {notice.P("✅ "), notice.B("【已整改】以下红灯已消除：")},
	secGreen:        {notice.P("🟢 "), notice.B("【本期规定动作】请按期开展以下活动并及时打卡：")},
}

// clip clips a user-provided string to n runes, so that one line can never
// exceed a message; the renderers escape it.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n-1]) + "…"
	}
	return s
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
		parts[i] = clip(s, clipPathEl)
	}
	return strings.Join(parts, "/")
}

// branchLabel is "名称[ 党小组]": people read units by name, never by code.
func branchLabel(b notice.Line, it *Item) notice.Line {
	b = append(b, notice.P(clip(it.BranchName, clipName)))
	if it.GroupName != "" {
		b = append(b, notice.P(" "+clip(it.GroupName, clipShort)))
	}
	return b
}

// itemLine renders the line of a yellow, red or resolved notice.
func (p *planner) itemLine(l *line) notice.Line {
	it := &p.in.Items[l.notice.Items[0]]
	n := &l.notice
	b := make(notice.Line, 0, 12)
	b = append(b, notice.P("• "))
	if n.Role == RoleOrganiser {
		if path := displayPath(it); path != "" {
			b = append(b, notice.P("〔"+path+"〕"))
		}
	}
	b = branchLabel(b, it)
	if it.Obligation.TermEnd {
		return termLine(b, it, n, p.t, p.loc)
	}
	b = append(b, notice.P(" · "+clip(it.Obligation.Name, clipShort)+" · "+it.Period.Label()+" · 截止 "+
		lastDay(it.Due).In(p.loc).Format(time.DateOnly)))
	today := civilDay(p.t, p.loc)
	switch n.Level {
	case LevelYellow:
		left := civilDay(lastDay(it.Due), p.loc) - today
		if it.Reason != "" {
			b = append(b, notice.P(" · "+it.Reason))
		} else if left <= 0 {
			b = append(b, notice.P(" · 今日截止"))
		} else {
			b = append(b, notice.P(fmt.Sprintf(" · 还有 %d 天", left)))
		}
	case LevelRed:
		b = append(b, notice.P(fmt.Sprintf(" · 已逾期 %d 天", DaysOverdue(it.Due, p.t, p.loc))))
		if n.OrgLevel == 1 {
			b = append(b, notice.P(fmt.Sprintf("（逾期超过 %d 个工作日，提级督办）", p.in.Rules.EscalateDays)))
		}
		if n.Role == RoleOrganiser && it.AckBy != "" {
			promised := it.AckPlanned
			if promised.IsZero() {
				promised = it.AckUntil
			}
			b = append(b, notice.P("；"+clip(it.AckBy, clipShort)+" 已回复收到"))
			if !promised.IsZero() {
				b = append(b, notice.P("，计划 "+promised.In(p.loc).Format(time.DateOnly)+" 前完成"))
				if !it.AckUntil.IsZero() && !p.t.Before(it.AckUntil) {
					b = append(b, notice.P("（已过期）"))
				}
			}
		}
	case LevelResolved:
		switch {
		case it.CheckedIn:
			b = append(b, notice.P(" · 已补录打卡"))
		case it.Exempt:
			b = append(b, notice.P(" · 已豁免"))
		default:
			b = append(b, notice.P(" · 已消除"))
		}
	}
	return b
}

// promptBlock renders a green prompt: a bold branch/period line and one
// line per activity.
func (p *planner) promptBlock(l *line) []notice.Line {
	first := &p.in.Items[l.notice.Items[0]]
	out := make([]notice.Line, 0, 1+len(l.notice.Items))
	out = append(out, notice.Line{notice.B(clip(first.BranchName, clipName) + " · " + first.Period.Label())})
	for _, i := range l.notice.Items { // sorted by greenPrompts
		it := &p.in.Items[i]
		b := make(notice.Line, 0, 4)
		b = append(b, notice.P("• "+clip(it.Obligation.Name, clipShort)))
		if it.GroupName != "" {
			b = append(b, notice.P("（"+clip(it.GroupName, clipShort)+"）"))
		}
		b = append(b, notice.P(" · 截止 "+lastDay(it.Due).In(p.loc).Format(time.DateOnly)))
		if it.CheckedIn {
			b = append(b, notice.P(" · 已完成"))
		}
		out = append(out, b)
	}
	return out
}

// footer gives secretaries the commands they need; organisers get none.
func (p *planner) footer(lines []line) []notice.Line {
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
	var out []notice.Line
	if example != nil {
		out = append(out, notice.Line{notice.P("打卡："), notice.C("打卡 " + clip(example.Obligation.Word(), clipShort) + " " + monthDay(lt) + " 7/9 主题"),
			notice.P("（活动 日期 实到/应到 主题）")})
	}
	if redExample != nil {
		// A meeting held late is filed for the period it was for, with its
		// real date: never a false date inside the missed period.
		out = append(out, notice.Line{notice.P("补开："), notice.C("打卡 " + clip(redExample.Obligation.Word(), clipShort) + " " + MakeUpWord(redExample.Period) + " 今天 7/9 主题"),
			notice.P("（按实际日期打卡，写明补开哪一期）")})
	}
	if red {
		out = append(out, notice.Line{notice.P("收到督办请点“收到”，或回复 "), notice.C("收到 " + monthDay(lt.AddDate(0, 0, 3))), notice.P("（计划完成日期）")})
	}
	return out
}

// render lays out a digest: prelude (fallback notice), sections by level,
// footer; split into messages of at most MaxMessageLen.
func (p *planner) render(d *Digest, lines []line) []notice.Message {
	var prelude []notice.Line
	if d.ViaFallback {
		prelude = []notice.Line{{notice.I("（此消息应发给 " + clip(d.Name, clipShort) + "，其尚未绑定个人账号，现发至本组织群）")}}
	}
	d.PreludeLines = len(prelude)
	var secs [numSections][][]notice.Line
	for i := range lines {
		l := &lines[i]
		if l.section == secGreen {
			secs[l.section] = append(secs[l.section], p.promptBlock(l))
		} else {
			secs[l.section] = append(secs[l.section], []notice.Line{p.itemLine(l)})
		}
	}
	pk := packer{limit: MaxMessageLen, prelude: prelude, more: notice.P("（续）")}
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
		pk.section(nil)
		pk.block(f)
	}
	return pk.finish()
}

// packer fills messages with lines, breaking only between lines (and
// between blocks where it can), repeating the prelude and the current
// section header (with more after it) at the top of each message.
type packer struct {
	limit   int
	prelude []notice.Line
	more    notice.Span
	out     []notice.Message
	cur     []notice.Line
	curLen  int
	body    bool        // cur holds more than the prelude
	header  notice.Line // current section header (nil = none)
	inCur   bool        // the header is already in cur
	started bool        // the section already has lines in an earlier message
}

func (p *packer) reset() {
	p.cur = append(make([]notice.Line, 0, 16), p.prelude...)
	p.curLen = 0
	for i, l := range p.prelude {
		if i > 0 {
			p.curLen++
		}
		p.curLen += notice.Len(l)
	}
	p.body, p.inCur = false, false
}

func (p *packer) flush() {
	if p.body {
		p.out = append(p.out, notice.Message{Lines: p.cur})
		if p.inCur {
			p.started = true
		}
	}
	p.reset()
}

// cost is the length cur would have with lines added.
func (p *packer) cost(lines []notice.Line) int {
	n, k := p.curLen, len(p.cur)
	for _, l := range lines {
		if k > 0 {
			n++
		}
		n += notice.Len(l)
		k++
	}
	return n
}

func (p *packer) push(lines ...notice.Line) {
	for _, l := range lines {
		if len(p.cur) > 0 {
			p.curLen++
		}
		p.curLen += notice.Len(l)
		p.cur = append(p.cur, l)
	}
	p.body = true
}

func (p *packer) section(header notice.Line) {
	p.header, p.inCur, p.started = header, false, false
}

// withHeader prefixes lines with the section header when cur lacks it.
func (p *packer) withHeader(lines []notice.Line) []notice.Line {
	if p.inCur || len(p.header) == 0 {
		return lines
	}
	h := p.header
	if p.started {
		h = append(slices.Clip(h), p.more)
	}
	return append([]notice.Line{h}, lines...)
}

// block adds lines kept together when they fit in one message, else line
// by line.
func (p *packer) block(lines []notice.Line) {
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
		if p.tryBlock([]notice.Line{l}) {
			continue
		}
		if p.body {
			p.flush()
			if p.tryBlock([]notice.Line{l}) {
				continue
			}
		}
		// A single line longer than a message (user strings are clipped,
		// so only with a tiny limit): cut it between characters.
		room := p.limit - p.cost(p.withHeader([]notice.Line{nil}))
		for _, part := range notice.Cut(l, room) {
			if !p.tryBlock([]notice.Line{part}) {
				p.flush()
				if !p.tryBlock([]notice.Line{part}) {
					p.push(p.withHeader([]notice.Line{part})...)
					p.inCur = len(p.header) != 0
				}
			}
		}
	}
}

func (p *packer) tryBlock(lines []notice.Line) bool {
	all := p.withHeader(lines)
	if p.cost(all) > p.limit {
		return false
	}
	p.push(all...)
	p.inCur = len(p.header) != 0
	return true
}

func (p *packer) finish() []notice.Message {
	if p.body {
		p.out = append(p.out, notice.Message{Lines: p.cur})
	}
	return p.out
}

// monthDay writes a date as people do: "11月20日".
func monthDay(t time.Time) string { return fmt.Sprintf("%d月%d日", t.Month(), t.Day()) }
