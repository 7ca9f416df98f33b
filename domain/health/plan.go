package health

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/domain/notice"
)

// Recipient is a person who may receive notices.
type Recipient struct {
	PersonID int64
	Name     string
	// ChatID is the person's linked private chat; 0 = not linked.
	ChatID int64
	// FallbackChatID is the bound group of the person's unit (the branch
	// group for a secretary, the unit's group for an organiser); 0 = none.
	FallbackChatID int64
}

// Item is one (branch or party group, obligation, period) with its light at
// the evaluation instant and everything planning needs to know about it.
// The caller fills it from OpenPeriods, Deadline, LightAt and the records.
type Item struct {
	BranchID   int64
	BranchCode string
	BranchName string
	// UnitPath names the units from the county down to the branch's parent,
	// for display to organisers.
	UnitPath []string
	// GroupID and GroupName identify the party group of a PerGroup
	// obligation (0/"" otherwise). The group is a unit, so GroupID replaces
	// BranchID in the notice key.
	GroupID   int64
	GroupName string

	Obligation Obligation
	Period     Period
	Light      Light
	YellowFrom time.Time
	Due        time.Time

	// CheckedIn and Exempt are the facts behind a green light; they only
	// change wording (已完成, 已豁免).
	CheckedIn bool
	Exempt    bool
	// Reason explains a light the deadline does not: a meeting held below
	// quorum keeps its item yellow (QuorumReason).
	Reason string

	// AckBy is who acknowledged the red notice ("" = nobody); AckUntil is
	// when the pause of repeats ends (zero = no pause); AckPlanned is the
	// promised completion date (zero = none given, AckUntil is shown).
	AckBy      string
	AckUntil   time.Time
	AckPlanned time.Time

	// Silenced items are reported in PlanOutput.Silenced and never notified.
	Silenced      bool
	SilenceReason string

	// Resolved: green now, but a red notice was sent before (from the
	// notification log). RedNotified lists the people who got a red notice
	// for the item; the resolved note goes to those of them who are among
	// Organisers, or to the level-0 organisers when the list is empty.
	Resolved    bool
	RedNotified []int64

	Secretaries []Recipient
	// Organisers[0] are the organisers of the nearest unit above the branch
	// that has any, Organisers[1] those of the next such unit above. Further
	// levels are not used.
	Organisers [][]Recipient
}

// UnitID is the unit the item is about: the party group for a per-group
// obligation, else the branch.
func (it *Item) UnitID() int64 {
	if it.GroupID != 0 {
		return it.GroupID
	}
	return it.BranchID
}

// Level is the kind of a notice line.
type Level string

// The notice levels; a digest's level is the most severe of its lines:
// red > yellow > resolved > green.
const (
	LevelGreen    Level = "green"
	LevelYellow   Level = "yellow"
	LevelRed      Level = "red"
	LevelResolved Level = "resolved"
)

func (l Level) severity() int {
	switch l {
	case LevelRed:
		return 3
	case LevelYellow:
		return 2
	case LevelResolved:
		return 1
	}
	return 0
}

// Role is why a recipient gets a line.
type Role string

// The recipient roles.
const (
	RoleSecretary Role = "secretary"
	RoleOrganiser Role = "organiser"
)

// AllObligations is the obligation code of a green prompt's key: the prompt
// lists all of a branch's obligations for one period.
const AllObligations = "*"

// NoticeKey identifies one notice line; a line with a given key is sent at
// most once.
type NoticeKey struct {
	PersonID   int64
	UnitID     int64  // branch, or party group for a per-group obligation
	Obligation string // obligation code, or AllObligations
	Period     string // period key
	Level      Level
	Slot       int64
}

// String renders the key stably: "person/unit/obligation/period/level/slot",
// e.g. "12/340/committee_meeting/2026-11/red/2".
func (k NoticeKey) String() string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(strconv.FormatInt(k.PersonID, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(k.UnitID, 10))
	b.WriteByte('/')
	b.WriteString(k.Obligation)
	b.WriteByte('/')
	b.WriteString(k.Period)
	b.WriteByte('/')
	b.WriteString(string(k.Level))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(k.Slot, 10))
	return b.String()
}

// ParseNoticeKey reads a key made by NoticeKey.String.
func ParseNoticeKey(s string) (NoticeKey, error) {
	f := strings.Split(s, "/")
	if len(f) != 6 {
		return NoticeKey{}, fmt.Errorf("health: notice key %q: want 6 fields, have %d", s, len(f))
	}
	var k NoticeKey
	var err error
	if k.PersonID, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return NoticeKey{}, fmt.Errorf("health: notice key %q: person: %w", s, err)
	}
	if k.UnitID, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return NoticeKey{}, fmt.Errorf("health: notice key %q: unit: %w", s, err)
	}
	k.Obligation, k.Period, k.Level = f[2], f[3], Level(f[4])
	if k.Slot, err = strconv.ParseInt(f[5], 10, 64); err != nil {
		return NoticeKey{}, fmt.Errorf("health: notice key %q: slot: %w", s, err)
	}
	return k, nil
}

// Notice is one line of a digest.
type Notice struct {
	Key   NoticeKey
	Role  Role
	Level Level
	// OrgLevel is 0 or 1 for organisers (which unit above), 0 otherwise.
	OrgLevel int
	// Items are indexes into PlanInput.Items: one item, or for a green
	// prompt every item it lists (in display order; the slice is shared by
	// the prompt's recipients and must not be modified).
	Items []int
}

// Digest is everything one recipient gets from one evaluation, as one
// message (several Parts only past Telegram's length limit).
type Digest struct {
	PersonID int64
	Name     string
	// ChatID is where to send: the person's chat, or with ViaFallback their
	// unit's group; 0 with Undeliverable when there is neither.
	ChatID        int64
	ViaFallback   bool
	Undeliverable bool
	// Level is the most severe level of the lines.
	Level   Level
	Keys    []string // NoticeKey strings, as Notices
	Notices []Notice
	// Items is the number of notice lines (len(Keys)).
	Items int
	// Parts are the message, channel-neutral: each part at most
	// MaxMessageLen UTF-16 code units (notice.Len), as Telegram counts;
	// the last carries the 收到 buttons of a secretary's red notices.
	Parts []notice.Message
	// PreludeLines is how many lines at the top of every part are the note
	// of a message sent via the fallback group (ViaFallback): for the
	// person's Telegram chat, not for group robots.
	PreludeLines int
}

// Texts renders the parts for Telegram (HTML parse mode).
func (d Digest) Texts() []string {
	out := make([]string, len(d.Parts))
	for i := range d.Parts {
		out[i] = notice.HTML(d.Parts[i])
	}
	return out
}

// PlanInput is one evaluation.
type PlanInput struct {
	At    time.Time
	Loc   *time.Location
	Rules Rules
	Items []Item
	// AlreadySent reports whether a key (NoticeKey.String) was sent before;
	// nil means nothing was. See SentSet.
	AlreadySent func(key string) bool
	// Wording is what the notices say (NewWording); required.
	Wording *Wording
}

// SentSet makes an AlreadySent function from a list of keys.
func SentSet(keys ...string) func(string) bool {
	set := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		set[k] = struct{}{}
	}
	return func(k string) bool {
		_, ok := set[k]
		return ok
	}
}

// PlanStats count what the planner did with the lines it considered.
type PlanStats struct {
	Lines         int // lines in the digests (or pending, when deferred)
	AlreadySent   int // left out: key already sent
	Paused        int // left out: red repeat paused by an acknowledgement
	Silenced      int // items silenced that would otherwise be notified
	Undeliverable int // digests with no chat at all
}

// PlanOutput is the result of Plan.
type PlanOutput struct {
	At time.Time
	// Deferred: t is in the quiet hours or on a holiday; no digests are
	// planned, Stats.Lines says how many lines wait, NextAllowed when they
	// may go (the next evaluation at or after it sends the then-current
	// slots).
	Deferred    bool
	DeferReason string
	NextAllowed time.Time
	Digests     []Digest
	// Silenced are the silenced items that are yellow, red or resolved.
	Silenced []Item
	Stats    PlanStats
}

// Plan decides which notices are due at in.At and groups them into one
// digest per recipient, ordered by person id (see the package doc for the
// rules). It is pure: the caller records what it sends and passes the keys
// back through AlreadySent. With the zero Rules nothing repeats, nothing
// escalates and there are no quiet hours.
func Plan(in PlanInput) PlanOutput {
	if in.Wording == nil {
		panic("health: Plan without a Wording")
	}
	loc := locOr(in.Loc)
	p := planner{in: &in, loc: loc, t: in.At, people: map[int64]*personLines{}, seen: map[string]struct{}{}}
	out := PlanOutput{At: in.At}
	if hold := in.Rules.Hold(in.At, loc); hold != "" {
		out.Deferred, out.DeferReason = true, hold
		out.NextAllowed = in.Rules.NextAllowed(in.At, loc)
	}
	for i := range in.Items {
		it := &in.Items[i]
		if it.Silenced {
			if it.Light == Yellow || it.Light == Red || (it.Light == Green && it.Resolved) {
				out.Silenced = append(out.Silenced, *it)
				p.stats.Silenced++
			}
			continue
		}
		p.item(i)
	}
	p.greenPrompts()
	out.Stats = p.stats
	if out.Deferred {
		return out
	}
	out.Digests = p.digests()
	for i := range out.Digests {
		if out.Digests[i].Undeliverable {
			out.Stats.Undeliverable++
		}
	}
	return out
}

// SlotOf is the repeat slot of a notice d after its level began:
// ⌊d/repeat⌋, 0 when d < 0 or repeat <= 0 (no repeats). The engine's
// pre-filter uses it too, so the two never disagree on a slot.
func SlotOf(d, repeat time.Duration) int64 {
	if d <= 0 || repeat <= 0 {
		return 0
	}
	return int64(d / repeat)
}

// line is a planned notice line for one person.
type line struct {
	notice  Notice
	section section
}

// section is where a line is printed in a digest, in this order.
type section int

const (
	secRedSecretary section = iota
	secRedOrganiser
	secYellow
	secResolved
	secGreen
	numSections
)

type personLines struct {
	r     Recipient
	lines []line
}

type planner struct {
	in     *PlanInput
	loc    *time.Location
	t      time.Time
	people map[int64]*personLines
	order  []int64
	seen   map[string]struct{}
	stats  PlanStats
	// prompts groups the items of each green prompt by (branch, period).
	prompts map[promptKey][]int
	// nb builds the digests' lines: shared buffers, not a slice and a
	// string each.
	nb notice.Builder
	// today and ackDay are the footer's dates (monthDay), made once.
	today, ackDay string
}

type promptKey struct {
	branch int64
	period Period
}

// add plans one line unless its key was already planned in this evaluation
// (the caller passed an item twice) or sent before.
func (p *planner) add(r Recipient, k NoticeKey, sec section, n Notice) {
	ks := k.String()
	if _, dup := p.seen[ks]; dup {
		return
	}
	p.seen[ks] = struct{}{}
	if p.in.AlreadySent != nil && p.in.AlreadySent(ks) {
		p.stats.AlreadySent++
		return
	}
	p.stats.Lines++
	pl := p.people[r.PersonID]
	if pl == nil {
		pl = &personLines{r: r}
		p.people[r.PersonID] = pl
		p.order = append(p.order, r.PersonID)
	} else {
		if pl.r.ChatID == 0 {
			pl.r.ChatID = r.ChatID
		}
		if pl.r.FallbackChatID == 0 {
			pl.r.FallbackChatID = r.FallbackChatID
		}
		if pl.r.Name == "" {
			pl.r.Name = r.Name
		}
	}
	n.Key = k
	pl.lines = append(pl.lines, line{notice: n, section: sec})
}

// item plans the yellow, red or resolved lines of item i and notes it for
// the green prompt.
func (p *planner) item(i int) {
	it := &p.in.Items[i]
	rules := &p.in.Rules
	unit, period := it.UnitID(), it.Period.Key()
	key := func(r Recipient, level Level, slot int64) NoticeKey {
		return NoticeKey{PersonID: r.PersonID, UnitID: unit, Obligation: it.Obligation.Code,
			Period: period, Level: level, Slot: slot}
	}
	// done holds the people already given a line for this item, so that
	// someone who is both secretary and organiser gets it once.
	var done []int64
	once := func(id int64) bool {
		if slices.Contains(done, id) {
			return false
		}
		done = append(done, id)
		return true
	}
	switch it.Light {
	case Yellow:
		slot := SlotOf(p.t.Sub(it.YellowFrom), rules.YellowRepeat)
		for _, r := range it.Secretaries {
			if once(r.PersonID) {
				p.add(r, key(r, LevelYellow, slot), secYellow, Notice{Role: RoleSecretary, Level: LevelYellow, Items: []int{i}})
			}
		}
	case Red:
		paused := p.t.Before(it.AckUntil)
		since := p.t.Sub(it.Due)
		send := func(r Recipient, slot int64, role Role, orgLevel int) {
			if !once(r.PersonID) {
				return
			}
			if slot >= 1 && paused {
				p.stats.Paused++
				return
			}
			sec := secRedSecretary
			if role == RoleOrganiser {
				sec = secRedOrganiser
			}
			p.add(r, key(r, LevelRed, slot), sec, Notice{Role: role, Level: LevelRed, OrgLevel: orgLevel, Items: []int{i}})
		}
		slot := SlotOf(since, rules.RedRepeat)
		for _, r := range it.Secretaries {
			send(r, slot, RoleSecretary, 0)
		}
		if len(it.Organisers) > 0 {
			for _, r := range it.Organisers[0] {
				send(r, slot, RoleOrganiser, 0)
			}
		}
		// Escalation never goes out with the item's first red notice (as
		// after a long holiday): it waits until a level-0 line has gone.
		if esc := rules.EscalateAt(it.Due, p.loc); !esc.IsZero() && !p.t.Before(esc) && len(it.Organisers) > 1 && p.firstRedSent(it, key) {
			slot1 := SlotOf(p.t.Sub(esc), rules.RedRepeat)
			for _, r := range it.Organisers[1] {
				send(r, slot1, RoleOrganiser, 1)
			}
		}
	case Green:
		if it.Resolved {
			for lvl, rs := range it.Organisers {
				if lvl > 1 {
					break
				}
				for _, r := range rs {
					notified := slices.Contains(it.RedNotified, r.PersonID) || (len(it.RedNotified) == 0 && lvl == 0)
					if notified && once(r.PersonID) {
						p.add(r, key(r, LevelResolved, 0), secResolved, Notice{Role: RoleOrganiser, Level: LevelResolved, OrgLevel: lvl, Items: []int{i}})
					}
				}
			}
		}
	}
	// The green prompt lists the current period's activities, during the
	// first month of the period.
	if it.Exempt || it.Obligation.TermEnd || !it.Obligation.Recurs.Valid() || it.Period != PeriodAt(it.Obligation.Recurs, p.t, p.loc) {
		return
	}
	if !p.t.Before(it.Period.Start(p.loc).AddDate(0, 1, 0)) {
		return
	}
	if p.prompts == nil {
		p.prompts = map[promptKey][]int{}
	}
	pk := promptKey{branch: it.BranchID, period: it.Period}
	p.prompts[pk] = append(p.prompts[pk], i)
}

// firstRedSent reports whether a level-0 red notice of slot 0 (a
// secretary's or a level-0 organiser's) was sent before this evaluation,
// or there is nobody at level 0 to send one to.
func (p *planner) firstRedSent(it *Item, key func(Recipient, Level, int64) NoticeKey) bool {
	level0 := slices.Clone(it.Secretaries)
	if len(it.Organisers) > 0 {
		level0 = append(level0, it.Organisers[0]...)
	}
	if len(level0) == 0 {
		return true
	}
	if p.in.AlreadySent == nil {
		return false
	}
	for _, r := range level0 {
		if p.in.AlreadySent(key(r, LevelRed, 0).String()) {
			return true
		}
	}
	return false
}

// greenPrompts plans one green line per (secretary, branch, period).
func (p *planner) greenPrompts() {
	keys := make([]promptKey, 0, len(p.prompts))
	for k := range p.prompts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b promptKey) int {
		return cmp.Or(cmp.Compare(a.branch, b.branch), a.period.Compare(b.period))
	})
	for _, k := range keys {
		idx := p.prompts[k]
		slices.SortFunc(idx, p.compareItems)
		var done []int64
		for _, i := range idx {
			for _, r := range p.in.Items[i].Secretaries {
				if slices.Contains(done, r.PersonID) {
					continue
				}
				done = append(done, r.PersonID)
				nk := NoticeKey{PersonID: r.PersonID, UnitID: k.branch, Obligation: AllObligations,
					Period: k.period.Key(), Level: LevelGreen}
				p.add(r, nk, secGreen, Notice{Role: RoleSecretary, Level: LevelGreen, Items: idx})
			}
		}
	}
}

// digests renders one digest per person, ordered by person id.
func (p *planner) digests() []Digest {
	slices.Sort(p.order)
	out := make([]Digest, 0, len(p.order))
	for _, id := range p.order {
		pl := p.people[id]
		d := Digest{PersonID: id, Name: pl.r.Name, ChatID: pl.r.ChatID, Level: LevelGreen}
		if d.ChatID == 0 {
			if pl.r.FallbackChatID != 0 {
				d.ChatID, d.ViaFallback = pl.r.FallbackChatID, true
			} else {
				d.Undeliverable = true
			}
		}
		slices.SortStableFunc(pl.lines, func(a, b line) int {
			return cmp.Or(cmp.Compare(a.section, b.section), p.compareItems(a.notice.Items[0], b.notice.Items[0]))
		})
		d.Keys = make([]string, len(pl.lines))
		d.Notices = make([]Notice, len(pl.lines))
		for j, l := range pl.lines {
			d.Keys[j] = l.notice.Key.String()
			d.Notices[j] = l.notice
			if l.notice.Level.severity() > d.Level.severity() {
				d.Level = l.notice.Level
			}
		}
		d.Items = len(d.Keys)
		d.Parts = p.render(&d, pl.lines)
		out = append(out, d)
	}
	return out
}

// compareItems orders items by branch code, branch, group, obligation and
// period.
func (p *planner) compareItems(i, j int) int {
	a, b := &p.in.Items[i], &p.in.Items[j]
	return cmp.Or(
		strings.Compare(a.BranchCode, b.BranchCode),
		cmp.Compare(a.BranchID, b.BranchID),
		cmp.Compare(a.GroupID, b.GroupID),
		strings.Compare(a.Obligation.Code, b.Obligation.Code),
		a.Period.Compare(b.Period),
	)
}
