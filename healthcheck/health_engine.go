package healthcheck

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/storage"
)

// The engine evaluates one subtree at one instant. It reads the subtree in
// one row per unit (storage.HealthTree: the unit, its people, its group
// chat, its done periods as runs, and the memory the last evaluations left:
// stored lights and the last slot sent per recipient, item and level), plus
// the few exemptions, acknowledgements and silences; then it walks the
// branches once:
//
//   - per (branch or group, obligation) only the periods that matter are
//     looked at: the current one, the next when its yellow window is open,
//     and past periods not done (done runs are skipped whole);
//   - lights are compared with the stored ones (light.changed);
//   - an item goes to the planner only when it may give a line not sent
//     yet (its current slot for some recipient, a resolved note, or the
//     period's green prompt), so a steady evaluation plans almost nothing;
//   - items are planned in batches of whole "recipient components" —
//     branches that share no recipient never share a digest — so memory
//     stays bounded and every person still gets one digest;
//   - the memory of the units that changed is rewritten, in the same
//     transaction as the notification log (the authority: a line the memory
//     forgot is refused by the log's key and planned again).

// evalMode says what an engine run produces.
type evalMode struct {
	plan        bool // run the planner
	record      bool // write light changes, the log, the outbox and the memory
	keepLights  bool // collect every listed light in Evaluation.Lights
	keepDigests bool // collect digests and silenced items in the Evaluation
	statuses    bool // collect per-branch statuses (summary, /status)
	allItems    bool // statuses list every item, not only yellow and red
	// planAll hands every yellow and red item to the planner, bypassing the
	// unsent pre-filter: tests compare the two to hold the pre-filter to
	// health.Plan's rules (TestPreFilterNeverDropsWhatPlanSends).
	planAll bool
}

// batchItems is how many plan items are gathered before planning them (at
// a component boundary).
const batchItems = 2000

// changeChunk is how many light-change events are buffered before writing.
const changeChunk = 20000

// maxReplans bounds how often a batch is planned again after the log
// refused lines the memory did not know.
const maxReplans = 5

type hcUnit struct {
	ID       int64
	ParentID int64
	Code     string
	Name     string
	Kind     string
	// ThemeDay is the theme code of the branch's 主题党日 (health.ThemeCode:
	// a day of the month or a weekday rule; 0 = not set).
	ThemeDay int

	// What binds the branch (with the defaults applied after loading):
	// its type, whether it has a committee, its committee's term end.
	branchType string
	committee  bool
	termEnd    time.Time // civil date at UTC midnight; zero = none

	idx          int32    // its own index in engine.units
	parent       int32    // index in engine.units, -1 when unknown
	startSeq     [3]int32 // number of the start period per recurrence
	secLo, secHi int32    // its secretaries in engine.recips
	orgLo, orgHi int32    // its organisers in engine.recips
	groupChat    int64
	groups       []int32

	doneLo, doneHi int32 // range of engine.done
	memLo, memHi   int32 // range of engine.mem
	litLo, litHi   int32 // range of engine.stored
	Above          bool  // an ancestor of the root, read for its organisers and name
	touched        bool  // its memory must be rewritten
}

// doneRun is a run of consecutive done periods of one obligation.
type doneRun struct {
	ob     int16
	lo, hi int32
}

// hcItemKey identifies an item by unit, obligation index and period number.
type hcItemKey struct {
	unit int64
	ob   int16
	seq  int32
}

// storedLight is a light the memory holds for an item of a unit.
type storedLight struct {
	ob    int16
	seq   int32
	light health.Light
	seen  bool
}

// newLight is a yellow or red light computed for an item of a unit.
type newLight struct {
	unit  int32
	ob    int16
	seq   int32
	light health.Light
}

type pendingResolved struct {
	ob     int16
	seq    int32
	people []int64
}

type engine struct {
	a  Service
	st store // nil: no database (the rules alone)
	// robotUnits are the units with active group robots (nil: not read yet).
	robotUnits map[int64]bool
	at         time.Time
	loc        *time.Location
	rules      health.Rules
	obs        []health.Obligation
	obIdx      map[string]int16
	cur        []int32 // current period number per obligation
	curRec     [3]int32
	mode       evalMode
	rootID     int64
	ev         *Evaluation

	units  []hcUnit
	byID   map[int64]int32
	recips []health.Recipient
	done   []doneRun
	mem    []memRec
	stored []storedLight
	exempt map[hcItemKey]struct{}
	// weak are the items whose meetings were all held below quorum, with
	// why they stay yellow (health.QuorumReason).
	weak     map[hcItemKey]string
	acks     map[hcItemKey]*storage.Ack
	silences []storage.Silence
	pending  map[int64][]pendingResolved

	orgMemo   map[int32][][]health.Recipient
	deadlines map[dlKey]dlVal
	pathMemo  map[int32][]string

	batch     []health.Item
	changes   []storage.LightChange
	lit       []newLight // yellow and red lights computed (for the memory)
	newMem    []memRec   // lines recorded in this run (for the memory)
	extraSent map[string]struct{}
	buf       []byte

	lap                      time.Time
	tPlan, tDigests, tLights time.Duration

	// the component being walked and the items each component gathered
	comp      int32
	compItems [][]health.Item

	// per branch, while walking it
	branch     *BranchStatus
	promptMemo [3]promptMemo
}

type promptMemo struct {
	rec    health.Recurrence
	seq    int32
	wanted bool
}

func (a Service) newEngine(ctx context.Context, st store, at time.Time, rootID int64, mode evalMode) (*engine, error) {
	rules, err := a.HealthRules()
	if err != nil {
		return nil, err
	}
	if st != nil {
		if rules.Calendar, err = a.Calendar(ctx); err != nil {
			return nil, err
		}
	}
	obs := a.Obligations()
	e := &engine{a: a, st: st, at: at, loc: a.Loc, rules: rules, obs: obs, mode: mode, rootID: rootID,
		obIdx: make(map[string]int16, len(obs)), cur: make([]int32, len(obs)),
		orgMemo: map[int32][][]health.Recipient{}, pathMemo: map[int32][]string{}, extraSent: map[string]struct{}{},
		ev: &Evaluation{At: at, DryRun: !mode.record}}
	for i, ob := range obs {
		e.obIdx[ob.Code] = int16(i)
		e.cur[i] = periodSeq(health.PeriodAt(ob.Recurs, at, a.Loc))
	}
	for i, rec := range []health.Recurrence{health.Monthly, health.Quarterly, health.Yearly} {
		e.curRec[i] = periodSeq(health.PeriodAt(rec, at, a.Loc))
	}
	return e, nil
}

// HealthRules are the notice rules from healthcheck.* in the configuration,
// with the calendar's configured days off only (the engine adds the
// official calendar, which needs the database: see Calendar).
func (a Service) HealthRules() (health.Rules, error) {
	hc := a.Cfg.Healthcheck
	from, to, err := health.ParseQuietHours(hc.QuietHours)
	if err != nil {
		return health.Rules{}, err
	}
	hol, err := health.ParseHolidays(hc.Holidays)
	if err != nil {
		return health.Rules{}, err
	}
	r := health.Rules{YellowRepeat: hc.YellowRepeat.D(), RedRepeat: hc.RedRepeat.D(), EscalateDays: int(hc.EscalateAfter),
		QuietFrom: from, QuietTo: to, Calendar: (*health.Calendar)(nil).WithExtraHolidays(hol)}
	return r, r.Validate()
}

// phase records the time since the last phase under name.
func (e *engine) phase(name string) {
	now := clock.Monotonic()
	if !e.lap.IsZero() {
		e.ev.Timings = append(e.ev.Timings, Timing{Phase: name, Took: now.Sub(e.lap)})
	}
	e.lap = now
}

// run loads the subtree and walks it.
func (e *engine) run(ctx context.Context) error {
	e.phase("")
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
	// The walk goes component by component; when the lights are kept for
	// printing it goes in branch-code order instead, and each component's
	// items wait until its last branch is walked.
	order := make([]int32, 0, len(branches))
	for _, c := range comps {
		order = append(order, c...)
	}
	if e.mode.keepLights {
		slices.SortFunc(order, func(x, y int32) int { return strings.Compare(e.units[x].Code, e.units[y].Code) })
		e.ev.Lights = make([]health.ItemLight, 0, len(order)*(len(e.obs)+1))
	}
	compOf := make([]int32, len(e.units)) // by unit index
	left := make([]int, len(comps))
	if e.mode.keepLights {
		e.compItems = make([][]health.Item, len(comps))
	}
	for ci, c := range comps {
		left[ci] = len(c)
		for _, bi := range c {
			compOf[bi] = int32(ci)
		}
	}
	e.phase("prepare")
	for _, bi := range order {
		e.comp = compOf[bi]
		if err := e.evalBranch(ctx, bi); err != nil {
			return err
		}
		if left[e.comp]--; left[e.comp] == 0 {
			if e.compItems != nil {
				e.batch = append(e.batch, e.compItems[e.comp]...)
				e.compItems[e.comp] = nil
			}
			if len(e.batch) >= batchItems {
				if err := e.flushPlan(ctx); err != nil {
					return err
				}
			}
		}
	}
	if err := e.flushPlan(ctx); err != nil {
		return err
	}
	if err := e.flushChanges(ctx); err != nil {
		return err
	}
	e.phase("walk, plan, record")
	if e.mode.record {
		if err := e.saveMemory(ctx); err != nil {
			return err
		}
		e.phase("save memory")
	}
	if e.mode.keepLights {
		e.ev.Codes = make(map[int64]string, len(order)*2)
		e.ev.Names = make(map[int64]string, len(order)*2)
		for _, bi := range order {
			b := &e.units[bi]
			e.ev.Codes[b.ID], e.ev.Names[b.ID] = b.Code, b.Name
			for _, gi := range b.groups {
				e.ev.Codes[e.units[gi].ID], e.ev.Names[e.units[gi].ID] = e.units[gi].Code, e.units[gi].Name
			}
		}
	}
	e.ev.Timings = append(e.ev.Timings, Timing{"(of which planning)", e.tPlan}, Timing{"(of which recording digests)", e.tDigests},
		Timing{"(of which recording events)", e.tLights})
	return nil
}

// load reads the subtree.
func (e *engine) load(ctx context.Context) error {
	st, root := e.st, e.rootID
	parts := storage.TreeParts{People: e.mode.plan, Memory: e.mode.plan}
	n, err := st.HealthTreeSize(ctx, root)
	if err != nil {
		return err
	}
	e.units = make([]hcUnit, 0, n)
	e.byID = make(map[int64]int32, n)
	err = st.HealthTree(ctx, root, parts, func(r *storage.HealthRow) error {
		i := int32(len(e.units))
		y, m, d := r.StartedOn.Date()
		u := hcUnit{ID: r.ID, ParentID: r.ParentID, Code: r.Code, Name: r.Name, Kind: kindOf(r.Kind),
			ThemeDay: r.ThemeDay, Above: r.Above, idx: i, parent: -1, groupChat: r.GroupChat, termEnd: r.TermEnd}
		if len(r.ThemeWeekday) > 0 {
			u.ThemeDay = health.ThemeCode(0, string(r.ThemeWeekday))
		}
		if u.Kind == domain.KindBranch {
			// The type's default needs the parent, known after the load.
			u.branchType = branchTypeOf(r.BranchType)
			var given *bool
			if r.Committee >= 0 {
				c := r.Committee == 1
				given = &c
			}
			var members *int
			if r.Members >= 0 {
				members = &r.Members
			}
			u.committee = domain.HasCommittee(given, members)
		}
		start := time.Date(y, m, d, 0, 0, 0, 0, e.loc)
		for k, rec := range recs {
			u.startSeq[k] = periodSeq(health.PeriodAt(rec, start, e.loc))
		}
		// Secretaries, then organisers, into the shared recipients array.
		u.secLo, u.secHi = e.addRecipients(r.Holders, domain.RoleSecretary, r.GroupChat)
		u.orgLo, u.orgHi = e.addRecipients(r.Holders, domain.RoleOrganiser, r.GroupChat)
		e.byID[u.ID] = i
		u.doneLo = int32(len(e.done))
		e.addDone(r.Done)
		u.doneHi = int32(len(e.done))
		e.units = append(e.units, u)
		if len(r.Memory.Lights)+len(r.Memory.Sent) > 0 {
			e.loadMemory(i, &r.Memory)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range e.units {
		u := &e.units[i]
		if p, ok := e.byID[u.ParentID]; ok && u.ParentID != 0 {
			u.parent = p
			if u.Kind == domain.KindGroup && e.units[p].Kind == domain.KindBranch {
				e.units[p].groups = append(e.units[p].groups, int32(i))
			}
		}
		if u.Kind == domain.KindBranch && u.branchType == "" {
			parentKind := ""
			if u.parent >= 0 {
				parentKind = e.units[u.parent].Kind
			}
			u.branchType = domain.DefaultBranchType(parentKind)
		}
	}
	e.phase("load tree")
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
	weak, err := st.BelowQuorumItems(ctx, root)
	if err != nil {
		return err
	}
	e.weak = make(map[hcItemKey]string, len(weak))
	for _, w := range weak {
		if k, ok := e.key(w.UnitID, w.Obligation, w.Period); ok {
			e.weak[k] = health.QuorumReason(w.Present, w.Total)
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
	if e.mode.plan {
		if e.silences, err = st.HealthSilences(ctx, root, e.at); err != nil {
			return err
		}
	}
	e.phase("load exemptions, acks, silences")
	return nil
}

// addRecipients appends a unit's holders of role to e.recips and returns
// their range there.
func (e *engine) addRecipients(hs []storage.HealthHolder, role string, groupChat int64) (lo, hi int32) {
	lo = int32(len(e.recips))
	for _, h := range hs {
		if h.Role == role {
			e.recips = append(e.recips, health.Recipient{PersonID: h.PersonID, Name: h.Name, ChatID: h.ChatID, FallbackChatID: groupChat})
		}
	}
	return lo, int32(len(e.recips))
}

// branchTypeOf interns the few branch types ("" = not given).
func branchTypeOf(b []byte) string {
	for _, t := range domain.BranchTypes {
		if string(b) == t {
			return t
		}
	}
	return string(b)
}

// kindOf interns the few unit kinds.
func kindOf(b []byte) string {
	for _, k := range domain.UnitKinds {
		if string(b) == k {
			return k
		}
	}
	return string(b)
}

// addDone appends a unit's runs of done periods of the obligations owed,
// sorted by obligation and period (a run of another recurrence than its
// obligation's, left from before a configuration change, is skipped).
func (e *engine) addDone(runs []storage.DoneRun) {
	lo := len(e.done)
	for _, r := range runs {
		oi, ok := e.obIdx[string(r.Obligation)]
		if !ok || r.Recurs != e.obs[oi].Recurs {
			continue
		}
		e.done = append(e.done, doneRun{ob: oi, lo: r.First, hi: r.Last})
	}
	slices.SortFunc(e.done[lo:], func(x, y doneRun) int {
		if x.ob != y.ob {
			return int(x.ob) - int(y.ob)
		}
		return int(x.lo - y.lo)
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

// doneRuns returns u's runs of done periods of obligation oi.
func (e *engine) doneRuns(u *hcUnit, oi int) []doneRun {
	runs := e.done[u.doneLo:u.doneHi]
	lo := 0
	for lo < len(runs) && int(runs[lo].ob) < oi {
		lo++
	}
	hi := lo
	for hi < len(runs) && int(runs[hi].ob) == oi {
		hi++
	}
	return runs[lo:hi]
}

// isDone reports whether period s lies in one of the runs.
func isDone(runs []doneRun, s int32) bool {
	for _, r := range runs {
		if r.lo <= s && s <= r.hi {
			return true
		}
	}
	return false
}

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
		ob := &e.obs[oi]
		if !ob.Binds(b.branchType, b.committee, len(b.groups) > 0) {
			// Not owed (any more): red notices sent before get their
			// resolved note.
			e.resolveAll(b, nil, oi)
			for _, gi := range b.groups {
				e.resolveAll(b, &e.units[gi], oi)
			}
			continue
		}
		if ob.TermEnd {
			l, err := e.evalTerm(ctx, b, oi)
			if err != nil {
				return err
			}
			worst = health.Worst(worst, l)
			continue
		}
		if ob.PerGroup && len(b.groups) > 0 {
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
	if e.mode.plan {
		// Stored lights not listed again are green now (done, exempt, or no
		// longer owed).
		if err := e.clearUnseen(ctx, b, nil); err != nil {
			return err
		}
		for _, gi := range b.groups {
			if err := e.clearUnseen(ctx, b, &e.units[gi]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *engine) clearUnseen(ctx context.Context, b, g *hcUnit) error {
	u := b
	if g != nil {
		u = g
	}
	for i := u.litLo; i < u.litHi; i++ {
		s := &e.stored[i]
		if s.seen {
			continue
		}
		ob := &e.obs[s.ob]
		if err := e.change(ctx, b, g, ob, seqPeriod(ob.Recurs, s.seq), s.light, health.Green); err != nil {
			return err
		}
	}
	return nil
}

// evalItem evaluates one (branch or group, obligation) over the periods
// that matter and returns the worst light listed.
func (e *engine) evalItem(ctx context.Context, b, g *hcUnit, oi int) (health.Light, error) {
	ob := &e.obs[oi]
	ri := recIndex(ob.Recurs)
	u := b
	firstSeq := b.startSeq[ri]
	if g != nil {
		u = g
		firstSeq = max(firstSeq, g.startSeq[ri])
	}
	theme := b.ThemeDay
	curSeq := e.cur[oi]
	done := e.doneRuns(u, oi)
	worst := health.Green
	j := 0
	for s := firstSeq; s < curSeq; s++ {
		for j < len(done) && done[j].hi < s {
			j++
		}
		if j < len(done) && done[j].lo <= s {
			s = done[j].hi // the whole run is done
			continue
		}
		if _, ok := e.exempt[hcItemKey{u.ID, int16(oi), s}]; ok {
			continue
		}
		l := e.weakLight(u, oi, s, e.lightAt(oi, s, theme, false), false)
		if l == health.Green { // not yet in its window: nothing to list
			continue
		}
		if err := e.emit(ctx, b, g, oi, seqPeriod(ob.Recurs, s), s, l, false, false, false); err != nil {
			return worst, err
		}
		worst = health.Worst(worst, l)
	}
	for s := max(curSeq, firstSeq); s <= curSeq+1; s++ {
		if s > curSeq {
			if yf, _ := e.deadline(oi, s, theme); e.at.Before(yf) {
				continue
			}
		}
		checked := isDone(done, s)
		_, exempt := e.exempt[hcItemKey{u.ID, int16(oi), s}]
		l := e.weakLight(u, oi, s, e.lightAt(oi, s, theme, checked || exempt), checked || exempt)
		if err := e.emit(ctx, b, g, oi, seqPeriod(ob.Recurs, s), s, l, checked, exempt, s == curSeq); err != nil {
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
			checked := isDone(done, pr.seq)
			_, exempt := e.exempt[hcItemKey{u.ID, int16(oi), pr.seq}]
			owed := pr.seq >= firstSeq
			if l := e.weakLight(u, oi, pr.seq, e.lightAt(oi, pr.seq, theme, checked || exempt || !owed), checked || exempt || !owed); l != health.Green {
				continue
			}
			it := e.item(b, g, oi, p, health.Green, checked, exempt)
			it.Resolved, it.RedNotified = true, pr.people
			e.planItem(it)
		}
	}
	return worst, nil
}

// weakLight is l, or yellow for an item not done whose meetings were all
// held below quorum: recorded, so never red, but not done either.
func (e *engine) weakLight(u *hcUnit, oi int, seq int32, l health.Light, done bool) health.Light {
	if done || len(e.weak) == 0 {
		return l
	}
	if _, ok := e.weak[hcItemKey{u.ID, int16(oi), seq}]; ok {
		return health.Yellow
	}
	return l
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
		is.YellowFrom, is.Due = e.deadlineOf(b, oi, seq)
		if !checked && !exempt {
			is.Reason = e.weak[hcItemKey{u.ID, int16(oi), seq}]
		}
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
	for i := u.litLo; i < u.litHi; i++ {
		if s := &e.stored[i]; int(s.ob) == oi && s.seq == seq {
			s.seen, prev = true, s.light
			break
		}
	}
	if l != health.Green {
		e.lit = append(e.lit, newLight{unit: u.idx, ob: int16(oi), seq: seq, light: l})
	}
	if prev != l {
		if err := e.change(ctx, b, g, ob, p, prev, l); err != nil {
			return err
		}
	}
	// The item is planned when it has a line not sent yet, or while the
	// period's green prompt (which lists every current item) is due.
	if (l != health.Green && (e.mode.planAll || e.unsent(u, oi, p, seq, l, b, g))) || (current && !exempt && e.promptWanted(b, ob, p, seq)) {
		e.planItem(e.item(b, g, oi, p, l, checked, exempt))
	}
	return nil
}

// unsent reports whether a yellow or red item has a line for its current
// slot that some recipient was not sent yet — the planner's rules (see
// health.Plan), erring towards planning: when in doubt the item is planned
// and the planner decides.
func (e *engine) unsent(u *hcUnit, oi int, p health.Period, seq int32, l health.Light, b, g *hcUnit) bool {
	yf, due := e.deadlineOf(b, oi, seq)
	ui := u.idx
	secs := e.secs(b)
	check := func(rs []health.Recipient, level byte, slot int64) bool {
		for _, r := range rs {
			if last, ok := e.sentSlot(ui, r.PersonID, int16(oi), seq, level); !ok || last < slot {
				return true
			}
		}
		return false
	}
	if g != nil && g.secHi > g.secLo {
		if l == health.Yellow && check(e.secs(g), 'y', hcSlot(e.at.Sub(yf), e.rules.YellowRepeat)) {
			return true
		}
		if l == health.Red && check(e.secs(g), 'r', hcSlot(e.at.Sub(due), e.rules.RedRepeat)) {
			return true
		}
	}
	if l == health.Yellow {
		return check(secs, 'y', hcSlot(e.at.Sub(yf), e.rules.YellowRepeat))
	}
	since := e.at.Sub(due)
	slot := hcSlot(since, e.rules.RedRepeat)
	paused := false
	if a := e.acks[hcItemKey{u.ID, int16(oi), seq}]; a != nil && e.at.Before(a.Until) {
		paused = true
	}
	orgs := e.orgs(b)
	if slot == 0 || !paused {
		if check(secs, 'r', slot) {
			return true
		}
		if len(orgs) > 0 && check(orgs[0], 'r', slot) {
			return true
		}
	}
	if esc := e.rules.EscalateAt(due, e.loc); !esc.IsZero() && !e.at.Before(esc) && len(orgs) > 1 {
		slot1 := hcSlot(e.at.Sub(esc), e.rules.RedRepeat)
		if (slot1 == 0 || !paused) && check(orgs[1], 'r', slot1) {
			return true
		}
	}
	return false
}

// secs are u's secretaries.
func (e *engine) secs(u *hcUnit) []health.Recipient {
	return slices.Clip(e.recips[u.secLo:u.secHi])
}

// planItem hands an item to the planner: straight into the batch when the
// walk goes component by component, else into its component's list until
// the component is complete.
func (e *engine) planItem(it health.Item) {
	if e.compItems != nil {
		e.compItems[e.comp] = append(e.compItems[e.comp], it)
		return
	}
	e.batch = append(e.batch, it)
}

// dlKey names a deadline: obligation, period number and fixed day (0 for
// obligations that do not use it).
type dlKey struct {
	ob    int16
	theme int16
	seq   int32
}

type dlVal struct{ yellowFrom, due time.Time }

// deadline is health.Deadline, memoised: a province has few distinct
// (obligation, period, fixed day) triples.
func (e *engine) deadline(oi int, seq int32, theme int) (yellowFrom, due time.Time) {
	ob := &e.obs[oi]
	if !ob.ThemeDay {
		theme = 0
	}
	k := dlKey{ob: int16(oi), theme: int16(theme), seq: seq}
	if v, ok := e.deadlines[k]; ok {
		return v.yellowFrom, v.due
	}
	yf, due := health.Deadline(*ob, seqPeriod(ob.Recurs, seq), theme, e.loc, e.rules.Calendar)
	if e.deadlines == nil {
		e.deadlines = map[dlKey]dlVal{}
	}
	e.deadlines[k] = dlVal{yf, due}
	return yf, due
}

// deadlineOf is the deadline of b's item of obligation oi for period seq:
// from b's term end for the term reminder, else deadline.
func (e *engine) deadlineOf(b *hcUnit, oi int, seq int32) (yellowFrom, due time.Time) {
	if e.obs[oi].TermEnd {
		return health.TermDeadline(b.termEnd, e.loc)
	}
	return e.deadline(oi, seq, b.ThemeDay)
}

// evalTerm evaluates the 换届提醒 of b: one item, filed under the year its
// committee's term ends, yellow from health.TermYellowMonths before, red
// once passed; none when the term end is not known. It is owed whatever
// the branch's start date: a term that ran out is news, not history. A new
// term end date clears the item of the old one (a resolved note when a red
// notice went out).
func (e *engine) evalTerm(ctx context.Context, b *hcUnit, oi int) (health.Light, error) {
	ob := &e.obs[oi]
	seq := int32(-1)
	light := health.Green
	if !b.termEnd.IsZero() {
		seq = periodSeq(health.TermPeriod(b.termEnd))
		_, exempt := e.exempt[hcItemKey{b.ID, int16(oi), seq}]
		yf, due := e.deadlineOf(b, oi, seq)
		switch {
		case exempt || e.at.Before(yf):
		case e.at.Before(due):
			light = health.Yellow
		default:
			light = health.Red
		}
		if light != health.Green || exempt {
			if err := e.emit(ctx, b, nil, oi, seqPeriod(ob.Recurs, seq), seq, light, false, exempt, false); err != nil {
				return light, err
			}
		}
	}
	if e.mode.plan {
		for _, pr := range e.pending[b.ID] {
			if int(pr.ob) != oi || (pr.seq == seq && light != health.Green) {
				continue
			}
			it := e.item(b, nil, oi, seqPeriod(ob.Recurs, pr.seq), health.Green, false, pr.seq == seq)
			it.Resolved, it.RedNotified = true, pr.people
			e.planItem(it)
		}
	}
	return light, nil
}

// resolveAll plans the resolved notes of every item of obligation oi of b
// (or of its group g) that had a red notice: the obligation no longer binds
// the branch.
func (e *engine) resolveAll(b, g *hcUnit, oi int) {
	if !e.mode.plan {
		return
	}
	u := b
	if g != nil {
		u = g
	}
	ob := &e.obs[oi]
	for _, pr := range e.pending[u.ID] {
		if int(pr.ob) != oi {
			continue
		}
		it := e.item(b, g, oi, seqPeriod(ob.Recurs, pr.seq), health.Green, false, false)
		it.Resolved, it.RedNotified = true, pr.people
		e.planItem(it)
	}
}

// lightAt is health.LightAt for an owed period over the memoised
// deadlines: green when done (checked in or exempt) or before the yellow
// window, yellow inside it, red from due on.
func (e *engine) lightAt(oi int, seq int32, theme int, done bool) health.Light {
	if done {
		return health.Green
	}
	yf, due := e.deadline(oi, seq, theme)
	switch {
	case e.at.Before(yf):
		return health.Green
	case e.at.Before(due):
		return health.Yellow
	}
	return health.Red
}

// hcSlot is the planner's repeat slot (health.SlotOf).
func hcSlot(d, repeat time.Duration) int64 { return health.SlotOf(d, repeat) }

// promptWanted reports whether the green prompt of b for period p is due
// and has not reached every secretary of b yet.
func (e *engine) promptWanted(b *hcUnit, ob *health.Obligation, p health.Period, seq int32) bool {
	if b.secHi == b.secLo || !e.at.Before(p.Start(e.loc).AddDate(0, 1, 0)) {
		return false
	}
	slot := recIndex(ob.Recurs)
	m := &e.promptMemo[slot]
	if m.rec == ob.Recurs && m.seq == seq {
		return m.wanted
	}
	m.rec, m.seq, m.wanted = ob.Recurs, seq, false
	bi := b.idx
	for _, r := range e.secs(b) {
		if _, ok := e.sentSlot(bi, r.PersonID, promptOb-int16(slot), seq, 'g'); !ok {
			m.wanted = true
			break
		}
	}
	return m.wanted
}

// item builds the planner's view of one item.
func (e *engine) item(b, g *hcUnit, oi int, p health.Period, l health.Light, checked, exempt bool) health.Item {
	ob := e.obs[oi]
	yf, due := e.deadlineOf(b, oi, periodSeq(p))
	it := health.Item{
		BranchID: b.ID, BranchCode: b.Code, BranchName: b.Name, UnitPath: e.path(b),
		Obligation: ob, Period: p, Light: l, YellowFrom: yf, Due: due,
		CheckedIn: checked, Exempt: exempt,
		Secretaries: e.secs(b), Organisers: e.orgs(b),
	}
	u := b
	if g != nil {
		u = g
		it.GroupID, it.GroupName = g.ID, g.Name
		if g.secHi > g.secLo {
			it.Secretaries = append(slices.Clip(e.secs(b)), e.secs(g)...)
		}
	}
	if l == health.Yellow {
		it.Reason = e.weak[hcItemKey{u.ID, int16(oi), periodSeq(p)}]
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
		for ui := u.idx; ui >= 0; ui = e.units[ui].parent {
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
		if u := &e.units[ui]; u.orgHi > u.orgLo {
			rs := slices.Clip(e.recips[u.orgLo:u.orgHi])
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
	find := func(x int32) int32 {
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
		join(int32(pos), e.secs(b))
		for _, gi := range b.groups {
			join(int32(pos), e.secs(&e.units[gi]))
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
	u.touched = true
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
	e.changes = append(e.changes, storage.LightChange{UnitID: u.ID, Payload: slices.Clone(buf)})
	if len(e.changes) >= changeChunk {
		return e.flushChanges(ctx)
	}
	return nil
}

func (e *engine) flushChanges(ctx context.Context) error {
	if len(e.changes) == 0 {
		return nil
	}
	start := clock.Monotonic()
	err := e.st.AppendLightEvents(ctx, e.changes)
	e.tLights += time.Since(start)
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

// alreadySent is the planner's AlreadySent: a key is sent when the memory
// holds a slot at least as late for its (person, item, level), or the log
// refused it in an earlier attempt of this run. Slots only grow with time,
// so this is exact for live evaluations and errs towards silence for an
// evaluation as of an earlier instant.
func (e *engine) alreadySent(key string) bool {
	if _, ok := e.extraSent[key]; ok {
		return true
	}
	k, ok := e.parseKey(key)
	if !ok {
		return false
	}
	last, ok := e.sentSlot(k.unit, k.person, k.ob, k.seq, k.level)
	return ok && last >= k.slot
}

// flushPlan plans the gathered items and records or keeps the digests.
// When the log refuses lines the memory did not know, they count as sent
// and the batch is planned again.
func (e *engine) flushPlan(ctx context.Context) error {
	if len(e.batch) == 0 {
		return nil
	}
	ev := e.ev
	if hold := e.rules.Hold(e.at, e.loc); hold != "" && e.mode.record && !e.mode.keepDigests {
		// Quiet hours or a day off: the planner would send nothing and
		// keep nothing, only count the lines held, so the scheduler's
		// ticks of a night or a holiday do not plan (at 100,000 branches
		// the first night of a month planned 400,000 items on every tick).
		ev.Items += len(e.batch)
		ev.Deferred, ev.DeferReason, ev.NextAllowed = true, hold, e.rules.NextAllowed(e.at, e.loc)
		clear(e.batch)
		e.batch = e.batch[:0]
		return nil
	}
	var out health.PlanOutput
	for attempt := 0; ; attempt++ {
		start := clock.Monotonic()
		out = health.Plan(health.PlanInput{At: e.at, Loc: e.loc, Rules: e.rules, Items: e.batch, AlreadySent: e.alreadySent, Wording: noticeWording})
		e.tPlan += time.Since(start)
		if !e.mode.record || len(out.Digests) == 0 {
			break
		}
		recs := make([]storage.DigestRecord, len(out.Digests))
		for i := range out.Digests {
			recs[i] = digestRecord(&out.Digests[i])
		}
		start = clock.Monotonic()
		n, err := e.st.RecordDigests(ctx, e.at, recs)
		e.tDigests += time.Since(start)
		var conflict *storage.ConflictError
		if errors.As(err, &conflict) && attempt < maxReplans {
			e.a.Log.Warn("healthcheck: lines already logged; planning again", slog.Int("lines", len(conflict.Lines)))
			for _, l := range conflict.Lines {
				e.extraSent[l.Key] = struct{}{}
				e.remember(l)
			}
			continue
		}
		if err != nil {
			if errors.Is(err, domain.ErrConflict) {
				return errConcurrentEvaluation
			}
			return err
		}
		ev.Messages += n
		if err := e.notifyRobots(ctx, recs, out.Digests); err != nil {
			return err
		}
		for i := range recs {
			for _, l := range recs[i].Lines {
				e.remember(l)
			}
		}
		break
	}
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
	clear(e.batch)
	e.batch = e.batch[:0]
	return nil
}
