package app

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/storage"
)

// The engine evaluates one subtree at one instant. It reads everything it
// needs in a few set-based queries (units, holders, group chats, the done
// set aggregated per unit, exemptions, silences, acknowledgements, stored
// lights, the notification state), then walks the branches once:
//
//   - per (branch or group, obligation) only the periods that matter are
//     looked at: the current one, the next when its yellow window is open,
//     and past periods that are not done (a done past period is skipped by
//     walking the unit's sorted done list alongside the period numbers);
//   - the lights are compared with the stored ones (light.changed);
//   - items that may give a notice (yellow, red, resolved, and the current
//     period's items while its green prompt is due) go to the planner in
//     batches of whole "recipient components" — branches that share no
//     recipient never share a digest, so planning a county at a time keeps
//     memory bounded and still gives every person one digest.

// evalMode says what an engine run produces.
type evalMode struct {
	plan        bool // run the planner
	record      bool // write light changes, the log and the outbox
	keepLights  bool // collect every listed light in Evaluation.Lights
	keepDigests bool // collect digests and silenced items in the Evaluation
	statuses    bool // collect per-branch statuses (summary, /status)
	allItems    bool // statuses list every item, not only yellow and red
}

// batchItems is how many plan items are gathered before planning them (at
// a component boundary).
const batchItems = 20000

// changeChunk is how many light changes are buffered before writing.
const changeChunk = 20000

type hcUnit struct {
	storage.HealthUnit
	parent         int32 // index in engine.units, -1 when unknown
	start          time.Time
	secretaries    []health.Recipient
	organisers     []health.Recipient
	groupChat      int64
	groups         []int32
	doneLo, doneHi int32 // range of engine.done
}

// hcItemKey identifies an item by unit, obligation index and period number.
type hcItemKey struct {
	unit int64
	ob   int16
	seq  int32
}

type storedLight struct {
	unit  int64
	ob    int16
	seq   int32
	light health.Light
	seen  bool
}

type sentEntry struct {
	h    uint64
	slot int64
}

type pendingResolved struct {
	ob     int16
	seq    int32
	people []int64
}

// doneShift packs (obligation index, period number) into one int32.
const doneShift = 20

type engine struct {
	a      *App
	st     *storage.Store
	at     time.Time
	loc    *time.Location
	rules  health.Rules
	obs    []health.Obligation
	obIdx  map[string]int16
	cur    []int32 // current period number per obligation
	mode   evalMode
	rootID int64
	ev     *Evaluation

	units    []hcUnit
	byID     map[int64]int32
	done     []int32
	exempt   map[hcItemKey]struct{}
	acks     map[hcItemKey]*storage.Ack
	silences []storage.Silence
	pending  map[int64][]pendingResolved
	stored   []storedLight
	sent     []sentEntry

	orgMemo  map[int32][][]health.Recipient
	pathMemo map[int32][]string

	batch   []health.Item
	changes []storage.LightChange
	buf     []byte

	// per branch, while walking it
	branch     *BranchStatus
	promptMemo [3]promptMemo
}

type promptMemo struct {
	rec    health.Recurrence
	seq    int32
	wanted bool
}

func (a *App) newEngine(st *storage.Store, at time.Time, rootID int64, mode evalMode) (*engine, error) {
	rules, err := a.HealthRules()
	if err != nil {
		return nil, err
	}
	obs := a.Obligations()
	e := &engine{a: a, st: st, at: at, loc: a.Loc, rules: rules, obs: obs, mode: mode, rootID: rootID,
		obIdx: make(map[string]int16, len(obs)), cur: make([]int32, len(obs)),
		orgMemo: map[int32][][]health.Recipient{}, pathMemo: map[int32][]string{},
		ev: &Evaluation{At: at, DryRun: !mode.record}}
	for i, ob := range obs {
		e.obIdx[ob.Code] = int16(i)
		e.cur[i] = periodSeq(health.PeriodAt(ob.Recurs, at, a.Loc))
	}
	return e, nil
}

// HealthRules are the notice rules from healthcheck.* in the configuration.
func (a *App) HealthRules() (health.Rules, error) {
	hc := a.Cfg.Healthcheck
	from, to, err := health.ParseQuietHours(hc.QuietHours)
	if err != nil {
		return health.Rules{}, err
	}
	hol, err := health.ParseHolidays(hc.Holidays)
	if err != nil {
		return health.Rules{}, err
	}
	r := health.Rules{YellowRepeat: hc.YellowRepeat.D(), RedRepeat: hc.RedRepeat.D(), EscalateAfter: hc.EscalateAfter.D(),
		QuietFrom: from, QuietTo: to, Holidays: hol}
	return r, r.Validate()
}

// run loads the subtree and walks it.
func (e *engine) run(ctx context.Context) error {
	if err := e.load(ctx); err != nil {
		return err
	}
	var branches []int32
	for i := range e.units {
		if u := &e.units[i]; u.Kind == domain.KindBranch && !u.Above {
			branches = append(branches, int32(i))
		}
	}
	comps := [][]int32{branches}
	if e.mode.plan {
		comps = e.components(branches)
	}
	for _, comp := range comps {
		for _, bi := range comp {
			if err := e.evalBranch(ctx, bi); err != nil {
				return err
			}
		}
		if len(e.batch) >= batchItems {
			if err := e.flushPlan(ctx); err != nil {
				return err
			}
		}
	}
	if err := e.flushPlan(ctx); err != nil {
		return err
	}
	// Stored yellow and red lights not seen again are green now (done,
	// exempt, or no longer owed).
	for i := range e.stored {
		s := &e.stored[i]
		if s.seen {
			continue
		}
		ui, ok := e.byID[s.unit]
		if !ok {
			continue
		}
		u := &e.units[ui]
		b, g := u, (*hcUnit)(nil)
		if u.Kind == domain.KindGroup && u.parent >= 0 {
			b, g = &e.units[u.parent], u
		}
		ob := &e.obs[s.ob]
		if err := e.change(ctx, b, g, ob, seqPeriod(ob.Recurs, s.seq), s.light, health.Green); err != nil {
			return err
		}
	}
	return e.flushChanges(ctx)
}

// load reads the subtree.
func (e *engine) load(ctx context.Context) error {
	st, root := e.st, e.rootID
	hus, err := st.HealthUnits(ctx, root)
	if err != nil {
		return err
	}
	e.units = make([]hcUnit, len(hus))
	e.byID = make(map[int64]int32, len(hus))
	for i, hu := range hus {
		y, m, d := hu.StartedOn.Date()
		e.units[i] = hcUnit{HealthUnit: hu, parent: -1, start: time.Date(y, m, d, 0, 0, 0, 0, e.loc)}
		e.byID[hu.ID] = int32(i)
	}
	for i := range e.units {
		u := &e.units[i]
		if p, ok := e.byID[u.ParentID]; ok {
			u.parent = p
			if u.Kind == domain.KindGroup && e.units[p].Kind == domain.KindBranch {
				e.units[p].groups = append(e.units[p].groups, int32(i))
			}
		}
	}
	chats, err := st.HealthGroupChats(ctx, root)
	if err != nil {
		return err
	}
	for unit, chat := range chats {
		if i, ok := e.byID[unit]; ok {
			e.units[i].groupChat = chat
		}
	}
	holders, err := st.HealthHolders(ctx, root)
	if err != nil {
		return err
	}
	for _, h := range holders {
		i, ok := e.byID[h.UnitID]
		if !ok {
			continue
		}
		u := &e.units[i]
		r := health.Recipient{PersonID: h.PersonID, Name: h.Name, ChatID: h.ChatID, FallbackChatID: u.groupChat}
		if h.Role == domain.RoleSecretary {
			u.secretaries = append(u.secretaries, r)
		} else {
			u.organisers = append(u.organisers, r)
		}
	}
	if err := e.loadDone(ctx); err != nil {
		return err
	}
	exs, err := st.HealthExemptions(ctx, root)
	if err != nil {
		return err
	}
	e.exempt = make(map[hcItemKey]struct{}, len(exs))
	for _, x := range exs {
		if k, ok := e.key(x.UnitID, x.Obligation, x.Period); ok {
			e.exempt[k] = struct{}{}
		}
	}
	if e.mode.plan || e.mode.statuses {
		acks, err := st.HealthAcks(ctx, root)
		if err != nil {
			return err
		}
		e.acks = make(map[hcItemKey]*storage.Ack, len(acks))
		for i := range acks {
			if k, ok := e.key(acks[i].UnitID, acks[i].Obligation, acks[i].Period); ok {
				e.acks[k] = &acks[i]
			}
		}
	}
	if !e.mode.plan {
		return nil
	}
	if e.silences, err = st.HealthSilences(ctx, root, e.at); err != nil {
		return err
	}
	// Periods whose notification state matters: the previous, current and
	// next period of every recurrence, and the periods of items that were
	// yellow or red or await a "resolved" note.
	periods := map[string]struct{}{}
	for i, ob := range e.obs {
		for d := int32(-1); d <= 1; d++ {
			periods[seqPeriod(ob.Recurs, e.cur[i]+d).Key()] = struct{}{}
		}
	}
	err = st.HealthLights(ctx, root, func(unit int64, ob, period, light []byte) error {
		periods[string(period)] = struct{}{}
		oi, ok := e.obIdx[string(ob)]
		if !ok {
			return nil
		}
		seq, ok := parseSeq(period, e.obs[oi].Recurs)
		if !ok {
			return nil
		}
		e.stored = append(e.stored, storedLight{unit: unit, ob: oi, seq: seq, light: health.Light(light)})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(e.stored, func(a, b storedLight) int { return hcCmpItem(a.unit, a.ob, a.seq, b.unit, b.ob, b.seq) })
	reds, err := st.HealthRedNotified(ctx, root)
	if err != nil {
		return err
	}
	e.pending = map[int64][]pendingResolved{}
	for _, r := range reds {
		periods[r.Period] = struct{}{}
		if k, ok := e.key(r.UnitID, r.Obligation, r.Period); ok {
			e.pending[k.unit] = append(e.pending[k.unit], pendingResolved{ob: k.ob, seq: k.seq, people: r.People})
		}
	}
	keys := make([]string, 0, len(periods))
	for p := range periods {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	err = st.HealthSent(ctx, root, keys, func(person, unit int64, ob, period, level []byte, slot int64) error {
		b := e.buf[:0]
		b = strconv.AppendInt(b, person, 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, unit, 10)
		b = append(b, '/')
		b = append(b, ob...)
		b = append(b, '/')
		b = append(b, period...)
		b = append(b, '/')
		b = append(b, level...)
		e.buf = b
		e.sent = append(e.sent, sentEntry{h: hcHash(b), slot: slot})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(e.sent, func(a, b sentEntry) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return 0
	})
	return nil
}

// loadDone reads the done set into one array, a sorted run per unit.
func (e *engine) loadDone(ctx context.Context) error {
	return e.st.HealthDone(ctx, e.rootID, func(unit int64, pairs []byte) error {
		ui, ok := e.byID[unit]
		if !ok {
			return nil
		}
		lo := int32(len(e.done))
		for len(pairs) > 0 {
			var pair []byte
			pair, pairs, _ = bytes.Cut(pairs, []byte{','})
			ob, period, ok := bytes.Cut(pair, []byte{' '})
			if !ok {
				continue
			}
			oi, ok := e.obIdx[string(ob)]
			if !ok {
				continue
			}
			seq, ok := parseSeq(period, e.obs[oi].Recurs)
			if !ok {
				continue
			}
			e.done = append(e.done, int32(oi)<<doneShift|seq)
		}
		run := e.done[lo:]
		slices.Sort(run)
		run = slices.Compact(run)
		e.done = e.done[:int(lo)+len(run)]
		e.units[ui].doneLo, e.units[ui].doneHi = lo, int32(len(e.done))
		return nil
	})
}

// key resolves stored names to an hcItemKey; ok is false for an unknown
// obligation or a malformed period.
func (e *engine) key(unit int64, ob, period string) (hcItemKey, bool) {
	oi, ok := e.obIdx[ob]
	if !ok {
		return hcItemKey{}, false
	}
	seq, ok := parseSeq([]byte(period), e.obs[oi].Recurs)
	return hcItemKey{unit: unit, ob: oi, seq: seq}, ok
}

func hcCmpItem(au int64, ao int16, as int32, bu int64, bo int16, bs int32) int {
	switch {
	case au != bu:
		if au < bu {
			return -1
		}
		return 1
	case ao != bo:
		return int(ao) - int(bo)
	case as != bs:
		if as < bs {
			return -1
		}
		return 1
	}
	return 0
}

// hcHash is FNV-1a, for the notification state's in-memory index.
func hcHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// sentSlot is the last slot logged for a key without its slot.
func (e *engine) sentSlot(prefix []byte) (int64, bool) {
	h := hcHash(prefix)
	i, ok := slices.BinarySearchFunc(e.sent, h, func(s sentEntry, h uint64) int {
		switch {
		case s.h < h:
			return -1
		case s.h > h:
			return 1
		}
		return 0
	})
	if !ok {
		return 0, false
	}
	return e.sent[i].slot, true
}

// alreadySent is the planner's AlreadySent: a key is sent when a slot at
// least as late was logged for its (person, item, level). Slots only grow
// with time, so this is exact for live evaluations and errs towards silence
// for an evaluation as of an earlier instant.
func (e *engine) alreadySent(key string) bool {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return false
	}
	slot, err := strconv.ParseInt(key[i+1:], 10, 64)
	if err != nil {
		return false
	}
	last, ok := e.sentSlot([]byte(key[:i]))
	return ok && last >= slot
}

// doneSeqs returns the sorted period numbers of obligation oi done by u.
func (e *engine) doneSeqs(u *hcUnit, oi int) []int32 {
	run := e.done[u.doneLo:u.doneHi]
	lo, _ := slices.BinarySearch(run, int32(oi)<<doneShift)
	hi, _ := slices.BinarySearch(run, int32(oi+1)<<doneShift)
	return run[lo:hi]
}

const seqMask = 1<<doneShift - 1

func (e *engine) evalBranch(ctx context.Context, bi int32) error {
	b := &e.units[bi]
	if e.mode.statuses {
		e.ev.Branches = append(e.ev.Branches, BranchStatus{ID: b.ID, Code: b.Code, Name: b.Name, Light: health.Green})
		e.branch = &e.ev.Branches[len(e.ev.Branches)-1]
	} else {
		e.branch = nil
	}
	e.promptMemo = [3]promptMemo{}
	worst := health.Green
	for oi := range e.obs {
		if e.obs[oi].PerGroup && len(b.groups) > 0 {
			for _, gi := range b.groups {
				l, err := e.evalItem(ctx, b, &e.units[gi], oi)
				if err != nil {
					return err
				}
				worst = health.Worst(worst, l)
			}
			continue
		}
		l, err := e.evalItem(ctx, b, nil, oi)
		if err != nil {
			return err
		}
		worst = health.Worst(worst, l)
	}
	e.ev.Counts.Add(worst)
	if e.branch != nil {
		e.branch.Light = worst
	}
	return nil
}

// evalItem evaluates one (branch or group, obligation) over the periods
// that matter and returns the worst light listed.
func (e *engine) evalItem(ctx context.Context, b, g *hcUnit, oi int) (health.Light, error) {
	ob := &e.obs[oi]
	u := b
	start := b.start
	if g != nil {
		u = g
		if g.start.After(start) {
			start = g.start
		}
	}
	theme := b.ThemeDay
	curSeq := e.cur[oi]
	firstSeq := periodSeq(health.PeriodAt(ob.Recurs, start, e.loc))
	done := e.doneSeqs(u, oi)
	worst := health.Green
	j := 0
	for s := firstSeq; s < curSeq; s++ {
		for j < len(done) && done[j]&seqMask < s {
			j++
		}
		if j < len(done) && done[j]&seqMask == s {
			continue
		}
		if _, ok := e.exempt[hcItemKey{u.ID, int16(oi), s}]; ok {
			continue
		}
		p := seqPeriod(ob.Recurs, s)
		l := health.LightAt(*ob, p, theme, health.Facts{Owed: true}, e.at, e.loc)
		if l == health.Green { // not yet in its window: nothing to list
			continue
		}
		if err := e.emit(ctx, b, g, oi, p, s, l, false, false, false); err != nil {
			return worst, err
		}
		worst = health.Worst(worst, l)
	}
	for s := max(curSeq, firstSeq); s <= curSeq+1; s++ {
		p := seqPeriod(ob.Recurs, s)
		if s > curSeq {
			if yf, _ := health.Deadline(*ob, p, theme, e.loc); e.at.Before(yf) {
				continue
			}
		}
		_, checked := slices.BinarySearch(done, int32(oi)<<doneShift|s)
		_, exempt := e.exempt[hcItemKey{u.ID, int16(oi), s}]
		l := health.LightAt(*ob, p, theme, health.Facts{CheckedIn: checked, Exempt: exempt, Owed: true}, e.at, e.loc)
		if err := e.emit(ctx, b, g, oi, p, s, l, checked, exempt, s == curSeq); err != nil {
			return worst, err
		}
		worst = health.Worst(worst, l)
	}
	if e.mode.plan {
		for _, pr := range e.pending[u.ID] {
			if int(pr.ob) != oi {
				continue
			}
			p := seqPeriod(ob.Recurs, pr.seq)
			_, checked := slices.BinarySearch(done, int32(oi)<<doneShift|pr.seq)
			_, exempt := e.exempt[hcItemKey{u.ID, int16(oi), pr.seq}]
			owed := pr.seq >= firstSeq
			if l := health.LightAt(*ob, p, theme, health.Facts{CheckedIn: checked, Exempt: exempt, Owed: owed}, e.at, e.loc); l != health.Green {
				continue
			}
			it := e.item(b, g, oi, p, health.Green, checked, exempt)
			it.Resolved, it.RedNotified = true, pr.people
			e.batch = append(e.batch, it)
		}
	}
	return worst, nil
}

// emit records one listed light: the result, the change against the
// stored light, and the plan item when it may give a notice.
func (e *engine) emit(ctx context.Context, b, g *hcUnit, oi int, p health.Period, seq int32, l health.Light, checked, exempt, current bool) error {
	ob := &e.obs[oi]
	var groupID int64
	u := b
	if g != nil {
		groupID, u = g.ID, g
	}
	il := health.ItemLight{BranchID: b.ID, GroupID: groupID, Obligation: ob.Code, Period: p, Light: l}
	if e.mode.keepLights {
		e.ev.Lights = append(e.ev.Lights, il)
	}
	if e.branch != nil && (e.mode.allItems || l != health.Green) {
		is := ItemStatus{ItemLight: il, CheckedIn: checked, Exempt: exempt}
		if g != nil {
			is.GroupCode, is.GroupName = g.Code, g.Name
		}
		is.YellowFrom, is.Due = health.Deadline(*ob, p, b.ThemeDay, e.loc)
		if l == health.Red {
			is.Ack = e.acks[hcItemKey{u.ID, int16(oi), seq}]
		}
		e.branch.Items = append(e.branch.Items, is)
	}
	if !e.mode.plan {
		return nil
	}
	// Compare with the stored light.
	prev := health.Green
	if i, ok := slices.BinarySearchFunc(e.stored, hcItemKey{u.ID, int16(oi), seq}, func(s storedLight, k hcItemKey) int {
		return hcCmpItem(s.unit, s.ob, s.seq, k.unit, k.ob, k.seq)
	}); ok {
		e.stored[i].seen = true
		prev = e.stored[i].light
	}
	if prev != l {
		if err := e.change(ctx, b, g, ob, p, prev, l); err != nil {
			return err
		}
	}
	if l != health.Green || (current && !exempt && e.promptWanted(b, ob, p, seq)) {
		e.batch = append(e.batch, e.item(b, g, oi, p, l, checked, exempt))
	}
	return nil
}

// promptWanted reports whether the green prompt of b for period p is due
// and has not reached every secretary of b yet.
func (e *engine) promptWanted(b *hcUnit, ob *health.Obligation, p health.Period, seq int32) bool {
	if len(b.secretaries) == 0 || !e.at.Before(p.Start(e.loc).AddDate(0, 1, 0)) {
		return false
	}
	slot := 0
	switch ob.Recurs {
	case health.Quarterly:
		slot = 1
	case health.Yearly:
		slot = 2
	}
	m := &e.promptMemo[slot]
	if m.rec == ob.Recurs && m.seq == seq {
		return m.wanted
	}
	m.rec, m.seq, m.wanted = ob.Recurs, seq, false
	key := p.Key()
	for _, r := range b.secretaries {
		buf := e.buf[:0]
		buf = strconv.AppendInt(buf, r.PersonID, 10)
		buf = append(buf, '/')
		buf = strconv.AppendInt(buf, b.ID, 10)
		buf = append(buf, '/')
		buf = append(buf, health.AllObligations...)
		buf = append(buf, '/')
		buf = append(buf, key...)
		buf = append(buf, '/')
		buf = append(buf, health.LevelGreen...)
		e.buf = buf
		if _, ok := e.sentSlot(buf); !ok {
			m.wanted = true
			break
		}
	}
	return m.wanted
}

// item builds the planner's view of one item.
func (e *engine) item(b, g *hcUnit, oi int, p health.Period, l health.Light, checked, exempt bool) health.Item {
	ob := e.obs[oi]
	yf, due := health.Deadline(ob, p, b.ThemeDay, e.loc)
	it := health.Item{
		BranchID: b.ID, BranchCode: b.Code, BranchName: b.Name, UnitPath: e.path(b),
		Obligation: ob, Period: p, Light: l, YellowFrom: yf, Due: due,
		CheckedIn: checked, Exempt: exempt,
		Secretaries: b.secretaries, Organisers: e.orgs(b),
	}
	u := b
	if g != nil {
		u = g
		it.GroupID, it.GroupName = g.ID, g.Name
		if len(g.secretaries) > 0 {
			it.Secretaries = append(slices.Clip(b.secretaries), g.secretaries...)
		}
	}
	if l == health.Red {
		if a := e.acks[hcItemKey{u.ID, int16(oi), periodSeq(p)}]; a != nil {
			it.AckBy, it.AckUntil = a.Person, a.Until
			if a.PlannedOn != nil {
				y, m, d := a.PlannedOn.Date()
				it.AckPlanned = time.Date(y, m, d, 0, 0, 0, 0, e.loc)
			}
		}
	}
	if len(e.silences) > 0 {
		for ui := int32(e.byID[u.ID]); ui >= 0; ui = e.units[ui].parent {
			id := e.units[ui].ID
			for _, s := range e.silences {
				if s.UnitID == id && (s.Obligation == "" || s.Obligation == ob.Code) {
					it.Silenced, it.SilenceReason = true, s.Reason
				}
			}
			if it.Silenced {
				break
			}
		}
	}
	return it
}

// orgs returns the organisers of the nearest unit above b that has any
// (level 0) and of the next such unit above (level 1), shared by the
// branches of one parent.
func (e *engine) orgs(b *hcUnit) [][]health.Recipient {
	if b.parent < 0 {
		return nil
	}
	if o, ok := e.orgMemo[b.parent]; ok {
		return o
	}
	var out [][]health.Recipient
	for ui := b.parent; ui >= 0 && len(out) < 2; ui = e.units[ui].parent {
		if rs := e.units[ui].organisers; len(rs) > 0 {
			out = append(out, rs)
		}
	}
	e.orgMemo[b.parent] = out
	return out
}

// path names the units from the top down to b's parent.
func (e *engine) path(b *hcUnit) []string {
	if b.parent < 0 {
		return nil
	}
	if p, ok := e.pathMemo[b.parent]; ok {
		return p
	}
	var out []string
	for ui := b.parent; ui >= 0; ui = e.units[ui].parent {
		out = append(out, e.units[ui].Name)
	}
	slices.Reverse(out)
	e.pathMemo[b.parent] = out
	return out
}

// components splits branches into groups that share no recipient, so
// that each group can be planned on its own and still give every person
// one digest. Order follows the first branch of each group.
func (e *engine) components(branches []int32) [][]int32 {
	parent := make([]int32, len(branches))
	for i := range parent {
		parent[i] = int32(i)
	}
	var find func(int32) int32
	find = func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	first := make(map[int64]int32, len(branches))
	join := func(pos int32, rs []health.Recipient) {
		for _, r := range rs {
			if f, ok := first[r.PersonID]; ok {
				if a, b := find(pos), find(f); a != b {
					parent[a] = b
				}
			} else {
				first[r.PersonID] = pos
			}
		}
	}
	for pos, bi := range branches {
		b := &e.units[bi]
		join(int32(pos), b.secretaries)
		for _, gi := range b.groups {
			join(int32(pos), e.units[gi].secretaries)
		}
		for _, lvl := range e.orgs(b) {
			join(int32(pos), lvl)
		}
	}
	index := map[int32]int{}
	var out [][]int32
	for pos, bi := range branches {
		r := find(int32(pos))
		k, ok := index[r]
		if !ok {
			k = len(out)
			index[r] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], bi)
	}
	return out
}

// change buffers a light change and its event.
func (e *engine) change(ctx context.Context, b, g *hcUnit, ob *health.Obligation, p health.Period, from, to health.Light) error {
	e.ev.Changes++
	if !e.mode.record {
		return nil
	}
	u := b
	if g != nil {
		u = g
	}
	key := p.Key()
	buf := e.buf[:0]
	buf = append(buf, `{"unit":`...)
	buf = hcAppendJSON(buf, u.Code)
	buf = append(buf, `,"branch":`...)
	buf = hcAppendJSON(buf, b.Code)
	if g != nil {
		buf = append(buf, `,"group":`...)
		buf = hcAppendJSON(buf, g.Code)
	}
	buf = append(buf, `,"obligation":`...)
	buf = hcAppendJSON(buf, ob.Code)
	buf = append(buf, `,"period":`...)
	buf = hcAppendJSON(buf, key)
	buf = append(buf, `,"from":"`...)
	buf = append(buf, from...)
	buf = append(buf, `","to":"`...)
	buf = append(buf, to...)
	buf = append(buf, `","at":"`...)
	buf = e.at.In(e.loc).AppendFormat(buf, time.RFC3339)
	buf = append(buf, `"}`...)
	e.buf = buf
	e.changes = append(e.changes, storage.LightChange{UnitID: u.ID, Obligation: ob.Code, Period: key,
		From: string(from), To: string(to), Payload: slices.Clone(buf)})
	if len(e.changes) >= changeChunk {
		return e.flushChanges(ctx)
	}
	return nil
}

func (e *engine) flushChanges(ctx context.Context) error {
	if len(e.changes) == 0 {
		return nil
	}
	err := e.st.SaveLightChanges(ctx, e.at, e.changes)
	clear(e.changes)
	e.changes = e.changes[:0]
	return err
}

// hcAppendJSON appends s as a JSON string.
func hcAppendJSON(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// flushPlan plans the gathered items and records or keeps the digests.
func (e *engine) flushPlan(ctx context.Context) error {
	if len(e.batch) == 0 {
		return nil
	}
	out := health.Plan(health.PlanInput{At: e.at, Loc: e.loc, Rules: e.rules, Items: e.batch, AlreadySent: e.alreadySent})
	ev := e.ev
	ev.Items += len(e.batch)
	ev.Stats.Lines += out.Stats.Lines
	ev.Stats.AlreadySent += out.Stats.AlreadySent
	ev.Stats.Paused += out.Stats.Paused
	ev.Stats.Silenced += out.Stats.Silenced
	ev.Stats.Undeliverable += out.Stats.Undeliverable
	if out.Deferred {
		ev.Deferred, ev.DeferReason, ev.NextAllowed = true, out.DeferReason, out.NextAllowed
	}
	if e.mode.keepDigests {
		ev.Digests = append(ev.Digests, out.Digests...)
		ev.Silenced = append(ev.Silenced, out.Silenced...)
	}
	ev.Sent += len(out.Digests)
	if e.mode.record && len(out.Digests) > 0 {
		recs := make([]storage.DigestRecord, len(out.Digests))
		for i := range out.Digests {
			recs[i] = digestRecord(&out.Digests[i], e.batch)
		}
		n, err := e.st.RecordDigests(ctx, e.at, recs)
		if err != nil {
			if errors.Is(err, domain.ErrConflict) {
				return errConcurrentEvaluation
			}
			return err
		}
		ev.Messages += n
	}
	clear(e.batch)
	e.batch = e.batch[:0]
	return nil
}
