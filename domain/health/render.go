package health

// Rendering: a digest's lines are built as channel-neutral notices (package
// notice) in the words of the catalogue (Wording), packed into parts within
// Telegram's limit; callers render them per channel.

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zhibu/zhibu/domain/callback"
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

// itemLine renders the line of a yellow, red or resolved notice. People
// read units by name, never by code: "名称[ 党小组]".
func (p *planner) itemLine(l *line) notice.Line {
	w := p.in.Wording
	it := &p.in.Items[l.notice.Items[0]]
	n := &l.notice
	b := &p.nb
	w.bullet.Write(b)
	if n.Role == RoleOrganiser {
		if path := displayPath(it); path != "" {
			w.path.Write(b, "path", path)
		}
	}
	b.Add(notice.Plain, clip(it.BranchName, clipName))
	if it.GroupName != "" {
		w.group.Write(b, "group", clip(it.GroupName, clipShort))
	}
	if it.Obligation.TermEnd {
		p.termLine(b, it, n)
		return b.Line()
	}
	w.item.Write(b, "obligation", clip(it.Obligation.Name, clipShort), "period", it.Period.Label(),
		"due", lastDay(it.Due).In(p.loc).Format(time.DateOnly))
	today := civilDay(p.t, p.loc)
	switch n.Level {
	case LevelYellow:
		left := civilDay(lastDay(it.Due), p.loc) - today
		if it.Reason != "" {
			w.reason.Write(b, "reason", it.Reason)
		} else if left <= 0 {
			w.dueToday.Write(b)
		} else {
			w.daysLeft.Write(b, "days", strconv.FormatInt(left, 10))
		}
	case LevelRed:
		w.overdue.Write(b, "days", strconv.Itoa(DaysOverdue(it.Due, p.t, p.loc)))
		if n.OrgLevel == 1 {
			w.escalated.Write(b, "days", strconv.Itoa(p.in.Rules.EscalateDays))
		}
		if n.Role == RoleOrganiser && it.AckBy != "" {
			promised := it.AckPlanned
			if promised.IsZero() {
				promised = it.AckUntil
			}
			w.acked.Write(b, "person", clip(it.AckBy, clipShort))
			if !promised.IsZero() {
				w.planned.Write(b, "day", promised.In(p.loc).Format(time.DateOnly))
				if !it.AckUntil.IsZero() && !p.t.Before(it.AckUntil) {
					w.planLapsed.Write(b)
				}
			}
		}
	case LevelResolved:
		switch {
		case it.CheckedIn:
			w.checkedIn.Write(b)
		case it.Exempt:
			w.exempt.Write(b)
		default:
			w.cleared.Write(b)
		}
	}
	return b.Line()
}

// termLine ends the line of a 换届提醒 notice: the sentence of TermNotice
// instead of the obligation, period and deadline of an activity.
func (p *planner) termLine(b *notice.Builder, it *Item, n *Notice) {
	w := p.in.Wording
	if n.Level == LevelResolved {
		w.termCleared.Write(b, "obligation", clip(it.Obligation.Name, clipShort))
		return
	}
	w.termLine.Write(b, "notice", TermNotice(it.Due, p.t, p.loc))
	if n.Level == LevelRed && n.OrgLevel == 1 {
		w.termEscalated.Write(b)
	}
}

// promptBlock renders a green prompt: a bold branch/period line and one
// line per activity.
func (p *planner) promptBlock(l *line) []notice.Line {
	w := p.in.Wording
	first := &p.in.Items[l.notice.Items[0]]
	out := make([]notice.Line, 0, 1+len(l.notice.Items))
	b := &p.nb
	w.promptHead.Write(b, "branch", clip(first.BranchName, clipName), "period", first.Period.Label())
	out = append(out, b.Line())
	for _, i := range l.notice.Items { // sorted by greenPrompts
		it := &p.in.Items[i]
		w.promptItem.Write(b, "obligation", clip(it.Obligation.Name, clipShort))
		if it.GroupName != "" {
			w.promptGroup.Write(b, "group", clip(it.GroupName, clipShort))
		}
		w.promptDue.Write(b, "due", lastDay(it.Due).In(p.loc).Format(time.DateOnly))
		if it.CheckedIn {
			w.promptDone.Write(b)
		}
		out = append(out, b.Line())
	}
	return out
}

// footer gives secretaries the commands they need; organisers get none.
func (p *planner) footer(lines []line) []notice.Line {
	w := p.in.Wording
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
	if p.today == "" { // the same in every digest of the evaluation
		lt := p.t.In(p.loc)
		p.today, p.ackDay = monthDay(lt), monthDay(lt.AddDate(0, 0, 3))
	}
	var out []notice.Line
	if example != nil {
		w.footerCheckin.Write(&p.nb, "activity", clip(example.Obligation.Word(), clipShort), "day", p.today)
		out = append(out, p.nb.Line())
	}
	if redExample != nil {
		// A meeting held late is filed for the period it was for, with its
		// real date: never a false date inside the missed period.
		w.footerMakeup.Write(&p.nb, "activity", clip(redExample.Obligation.Word(), clipShort), "period", MakeUpWord(redExample.Period))
		out = append(out, p.nb.Line())
	}
	if red {
		w.footerAck.Write(&p.nb, "day", p.ackDay)
		out = append(out, p.nb.Line())
	}
	return out
}

// maxAckButtons is how many 收到 buttons a digest carries before they are
// folded into one per branch.
const maxAckButtons = 6

// ackButtons gives a digest with red notices for a secretary its 收到
// buttons (nil when it has none).
func (p *planner) ackButtons(d *Digest) [][]notice.Button {
	w := p.in.Wording
	items := p.in.Items
	var red []*Item // of the secretary's red notices
	var branches []int64
	for _, n := range d.Notices {
		if n.Level != LevelRed || n.Role != RoleSecretary {
			continue
		}
		it := &items[n.Items[0]]
		if !slices.Contains(branches, it.BranchID) {
			branches = append(branches, it.BranchID)
		}
		red = append(red, it)
	}
	if len(red) == 0 {
		return nil
	}
	// Labels and data are made only for the buttons shown: one row each,
	// rows sharing one backing array.
	if len(red) > maxAckButtons {
		btns := make([]notice.Button, len(branches))
		rows := make([][]notice.Button, len(branches))
		for k, b := range branches {
			label := w.ackAllText
			if len(branches) > 1 {
				for i := range items {
					if items[i].BranchID == b {
						label = w.buttonAckBranch.Text("branch", items[i].BranchCode)
						break
					}
				}
			}
			btns[k] = notice.Button{Text: label, Data: callback.AckButton(b, "", "")}
			rows[k] = btns[k : k+1 : k+1]
		}
		return rows
	}
	btns := make([]notice.Button, len(red))
	rows := make([][]notice.Button, len(red))
	for k, it := range red {
		data := callback.AckButton(it.UnitID(), it.Obligation.Code, it.Period.Key())
		if len(data) > 64 {
			data = callback.AckButton(it.BranchID, "", "")
		}
		label := w.ackText
		if len(red) > 1 {
			label = w.buttonAckItem.Text("activity", it.Obligation.Word(), "period", it.Period.Label())
		}
		btns[k] = notice.Button{Text: label, Data: data}
		rows[k] = btns[k : k+1 : k+1]
	}
	return rows
}

// render lays out a digest: prelude (fallback notice), sections by level,
// footer; split into messages of at most MaxMessageLen.
func (p *planner) render(d *Digest, lines []line) []notice.Message {
	var prelude []notice.Line
	if d.ViaFallback {
		p.in.Wording.fallback.Write(&p.nb, "name", clip(d.Name, clipShort))
		prelude = []notice.Line{p.nb.Line()}
	}
	d.PreludeLines = len(prelude)
	var secs [numSections][][]notice.Line
	one := make([]notice.Line, len(lines)) // the one-line blocks' lines
	n := 0                                 // lines in all
	for i := range lines {
		l := &lines[i]
		if l.section == secGreen {
			blk := p.promptBlock(l)
			secs[l.section] = append(secs[l.section], blk)
			n += len(blk)
		} else {
			one[i] = p.itemLine(l)
			secs[l.section] = append(secs[l.section], one[i:i+1:i+1])
			n++
		}
	}
	// The parts' lines share one array, sized for the common case of one
	// part (sections, footer); more parts grow it.
	pk := packer{limit: MaxMessageLen, prelude: prelude, more: p.in.Wording.continuedLine,
		free: make([]notice.Line, 0, len(prelude)+n+int(numSections)+4)}
	pk.reset()
	for s := range numSections {
		if len(secs[s]) == 0 {
			continue
		}
		pk.section(p.in.Wording.headerLines[s])
		for _, blk := range secs[s] {
			pk.block(blk)
		}
	}
	if f := p.footer(lines); f != nil {
		pk.section(nil)
		pk.block(f)
	}
	parts := pk.finish()
	if len(parts) > 0 {
		parts[len(parts)-1].Buttons = p.ackButtons(d)
	}
	return parts
}

// packer fills messages with lines, breaking only between lines (and
// between blocks where it can), repeating the prelude and the current
// section header (with more after it) at the top of each message.
type packer struct {
	limit   int
	prelude []notice.Line
	more    notice.Line
	out     []notice.Message
	cur     []notice.Line
	free    []notice.Line // empty, with the room after cur's last part
	curLen  int
	body    bool        // cur holds more than the prelude
	header  notice.Line // current section header (nil = none)
	inCur   bool        // the header is already in cur
	started bool        // the section already has lines in an earlier message
}

func (p *packer) reset() {
	p.cur = append(p.free, p.prelude...)
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
		p.emit()
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
		h = append(slices.Clip(h), p.more...)
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
	n := p.cost(all)
	if n > p.limit {
		return false
	}
	p.cur, p.curLen, p.body = append(p.cur, all...), n, true // push, measured
	p.inCur = len(p.header) != 0
	return true
}

func (p *packer) finish() []notice.Message {
	if p.body {
		p.emit()
	}
	return p.out
}

// emit makes cur a part; the next part's lines follow it in the array.
func (p *packer) emit() {
	n := len(p.cur)
	p.out = append(p.out, notice.Message{Lines: p.cur[:n:n]})
	p.free = p.cur[n:n]
}

// monthDay writes a date as people do: "11月20日".
func monthDay(t time.Time) string {
	return strconv.Itoa(int(t.Month())) + "月" + strconv.Itoa(t.Day()) + "日"
}
