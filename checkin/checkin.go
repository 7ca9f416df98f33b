package checkin

// Check-ins (SPEC §3): a secretary reports a held meeting, by chat message
// or through the API, and it is filed for the obligations it names.
//
// RecordCheckin applies the rules in this order; every refusal is one
// Chinese sentence and is audited:
//
//  1. The sender must be linked (a person) or an API token, and hold a role
//     that may check in at all (secretary, or admin).
//  2. The branch: a group chat bound to a branch implies it; otherwise an
//     explicit branch (BranchID from a keyboard tap, BranchCode typed first
//     in a private chat); otherwise the sender's only branch as secretary.
//     A secretary of several branches gets *ErrChooseBranch (the bot shows a
//     keyboard and keeps the request as a pending check-in).
//  3. Only a secretary of that branch, or an admin of it or of a unit above,
//     may check in for it.
//  4. The date may not be after today. Each obligation counts for the
//     oldest owed period not yet done whose window (its start to its due
//     time, health.CheckinCandidates) contains the date: a 组织生活会 held in
//     January for last year, a 主题党日 in its grace days for its month;
//     otherwise for the period that contains the date (an extra record when
//     that one is done too). The period containing the date may not be
//     before the branch's start period (obligations are not owed before it).
//  5. Per-group obligations (党小组会) are filed for one party group (unit of
//     kind group under the branch), named as "党小组会@第一党小组" (or the
//     group's code or name as the first word of the topic, or the API's
//     group field); a branch with one group implies it; a branch without
//     groups files them for the branch itself.
//  6. An item whose (unit, obligation, period) already has an active
//     check-in is kept as an extra record; an item recorded at or after its
//     period's due time (health.Deadline) is late.
//
// The check-in, its items, its audit entry and its domain event are written
// in one transaction, the caller's when it opened one (the bot's update
// transaction, which also holds the confirmation reply).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/storage"
)

// Check-in sources.
const (
	SourceTelegram = "telegram"
	SourceAPI      = "api"
)

// UndoWindow is how long after recording a check-in its author may withdraw it.
const UndoWindow = 24 * time.Hour

// maxRejectReason bounds a rejection reason, in runes.
const maxRejectReason = 200

// Request is a check-in as a door submits it, before the branch is
// resolved and the rules are applied. It is also what a pending check-in
// keeps while the sender chooses a branch (hence the JSON tags).
type Request struct {
	BranchCode  string    `json:"branch,omitempty"`    // typed by the sender; "" = implied
	BranchID    int64     `json:"branch_id,omitempty"` // chosen from a keyboard
	Obligations []string  `json:"obligations"`         // obligation codes
	Group       string    `json:"group,omitempty"`     // party group code or name (党小组会)
	Date        time.Time `json:"date"`                // the activity's day (00:00 in the zone)
	Present     int       `json:"present,omitempty"`
	Total       int       `json:"total,omitempty"` // 0 = attendance not given
	Topic       string    `json:"topic,omitempty"`
	Evidence    []string  `json:"evidence,omitempty"` // photo file ids (or URLs from the API)
	// MediaGroupID is the Telegram album the captioned photo belongs to: the
	// album's other photos join the evidence (AttachAlbumPhoto).
	MediaGroupID string `json:"media_group_id,omitempty"`
	// ChatID is the chat the command came from; InGroup says it is a group
	// chat, whose bound branch then applies.
	ChatID    int64  `json:"chat_id,omitempty"`
	InGroup   bool   `json:"in_group,omitempty"`
	MessageID int64  `json:"message_id,omitempty"`
	Source    string `json:"source,omitempty"`
	// MakeUp is a period the meeting was held late for, as typed (补开11月);
	// Period a period key chosen from the buttons, or PeriodAsDated to
	// file it by its date without asking.
	MakeUp *health.MakeUp `json:"make_up,omitempty"`
	Period string         `json:"period,omitempty"`
}

// PeriodAsDated in Request.Period files a check-in by its date: the
// sender chose 本期 rather than a 补开.
const PeriodAsDated = "dated"

// Line is one obligation (and party group) a check-in was filed for.
type Line struct {
	Obligation health.Obligation
	Period     health.Period
	Unit       domain.Unit // the branch, or the party group
	Due        time.Time
	Late       bool
	Extra      bool
	// BelowQuorum: recorded, but with no more than half present it does
	// not count (health.Obligation.Quorum).
	BelowQuorum bool

	// candidates are the owed periods whose window contains the date,
	// oldest first (health.CheckinCandidates); the line is filed for the
	// first not yet done.
	candidates []health.Period
	// makeUp: the sender named the period (补开); it must not be done yet.
	makeUp bool
}

// Result is an accepted check-in: what was stored, for which
// obligations, and the branch's lights afterwards.
type Result struct {
	Checkin storage.Checkin
	Branch  domain.Unit
	Lines   []Line
	Lights  LightsView
}

// ErrChoosePeriod means the meeting may have been held late for a red
// period (补开) or for the current one: the sender chooses (SPEC §7.1).
type ErrChoosePeriod struct {
	Obligation health.Obligation
	Red        []health.Period // newest first
	Current    health.Period   // the period its date files it for
	// Request is the check-in as asked (its branch resolved when it was
	// chosen from a keyboard), to keep while the sender chooses.
	Request Request
}

func (e *ErrChoosePeriod) Error() string { return "a red period is open: choose the period" }

// AsksToChoose marks the error as an app.Choice.
func (e *ErrChoosePeriod) AsksToChoose() {}

// Refusals shared by several doors.
var (
	errNotLinked    = domain.Refuse(domain.ErrForbidden, "%s", ck.T("refuse.not_linked"))
	errNotSecretary = domain.Refuse(domain.ErrForbidden, "%s", ck.T("refuse.not_secretary"))
)

// checkinGate is the first rule: whether the actor may check in anywhere at
// all (a secretary, or an admin). The free-text reader uses it to stay
// silent when someone who is not a secretary happens to type "打卡…" in a
// group.
func checkinGate(actor domain.Actor) error {
	if actor.PersonID == 0 && len(actor.Roles) == 0 {
		return errNotLinked
	}
	if len(actor.UnitsWith(domain.RoleSecretary)) == 0 && len(actor.UnitsWith(domain.RoleAdmin)) == 0 {
		return errNotSecretary
	}
	return nil
}

// ParseCheckinArgs reads the arguments of /checkin (command.ParseCheckin)
// into a request, with one addition: an obligation written with a party
// group, "党小组会@第一党小组" (also "党小组会 @第一党小组", full-width ＠ too),
// names the group. allowBranch lets a branch code come first (private chats).
// Errors are refusals (domain.ErrInvalid) whose text says what to correct.
// The gate comes first: someone who may check in nowhere is told so (and
// the refusal audited, as RecordCheckin would) before the arguments are read.
func (a Service) ParseCheckinArgs(ctx context.Context, actor domain.Actor, args []string, allowBranch bool) (Request, error) {
	if err := checkinGate(actor); err != nil {
		return Request{}, a.Refused(ctx, actor, "checkin.record", "", err)
	}
	m := healthcheck.Of(a.App).ObligationMatcher()
	args, group := splitGroup(args, m)
	args, makeUp := takeMakeUp(args)
	pc, err := command.ParseCheckin(args, a.Now(), a.Loc, m, allowBranch)
	if err != nil {
		var pe *command.ParseError
		if errors.As(err, &pe) {
			return Request{}, domain.Refuse(domain.ErrInvalid, "%s", app.Say(pe.Text))
		}
		return Request{}, err
	}
	return Request{BranchCode: pc.BranchCode, Obligations: pc.Obligations, Group: group, Date: pc.Date,
		Present: pc.Present, Total: pc.Total, Topic: pc.Topic, MakeUp: makeUp}, nil
}

// takeMakeUp takes the first 补开 word (补开11月, 补第三季度) out of the
// arguments.
func takeMakeUp(args []string) ([]string, *health.MakeUp) {
	for i, arg := range args {
		if mu, ok := health.ParseMakeUp(arg); ok {
			return append(append([]string(nil), args[:i]...), args[i+1:]...), &mu
		}
	}
	return args, nil
}

// splitGroup takes "<obligation>@<group>" apart: the first argument whose
// part before '@' ends with a known obligation loses the suffix, which is
// returned as the group. A separate "@<group>" right after an obligation
// counts too.
func splitGroup(args []string, m command.ObligationMatcher) ([]string, string) {
	endsWithObligation := func(s string) bool {
		words := strings.FieldsFunc(s, isJoiner)
		if len(words) == 0 {
			return false
		}
		_, ok := m.Match(words[len(words)-1])
		return ok
	}
	for i, arg := range args {
		at, width := indexAt(arg)
		if at < 0 {
			continue
		}
		left, right := arg[:at], strings.TrimSpace(arg[at+width:])
		if right == "" {
			continue
		}
		if at > 0 && endsWithObligation(left) {
			out := append([]string(nil), args...)
			out[i] = left
			return out, right
		}
		if at == 0 && i > 0 && endsWithObligation(args[i-1]) {
			out := append(append([]string(nil), args[:i]...), args[i+1:]...)
			return out, right
		}
	}
	return args, ""
}

func indexAt(s string) (int, int) {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		return i, 1
	}
	if i := strings.Index(s, "＠"); i >= 0 {
		return i, len("＠")
	}
	return -1, 0
}

func isJoiner(r rune) bool { return r == '+' || r == '＋' || r == '、' }

// RecordCheckin applies the check-in rules (see the top of this file) and
// stores the check-in. It returns *ErrChooseBranch when the sender must name
// a branch, and a *domain.UserError for every refusal.
func (a Service) RecordCheckin(ctx context.Context, actor domain.Actor, req Request) (Result, error) {
	var res Result
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		var err error
		res, err = Of(a).recordCheckin(ctx, actor, req)
		return err
	})
	return res, err
}

func (a Service) recordCheckin(ctx context.Context, actor domain.Actor, req Request) (Result, error) {
	const action = "checkin.record"
	refuse := func(subject string, err error) (Result, error) {
		return Result{}, a.Refused(ctx, actor, action, subject, err)
	}
	if err := checkinGate(actor); err != nil {
		return refuse("", err)
	}
	obs, err := a.requestObligations(req.Obligations)
	if err != nil {
		return refuse("", err)
	}
	branch, err := a.checkinBranch(ctx, actor, req)
	if err != nil {
		var ue *domain.UserError
		if errors.As(err, &ue) {
			return refuse("", err)
		}
		return Result{}, err
	}
	subject := "unit:" + branch.Code
	ok, err := a.Can(ctx, actor, access.CheckIn, branch.ID)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return refuse(subject, domain.Refuse(domain.ErrForbidden, "%s", ck.T("refuse.not_branch_secretary", "branch", branch.Name)))
	}

	// The date and the periods.
	now := a.Now()
	if req.Date.IsZero() {
		return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.no_date")))
	}
	date := civilIn(req.Date, a.Loc)
	if command.IsFuture(date, now, a.Loc) {
		return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.future", "day", date.Format(time.DateOnly))))
	}
	if req.Total < 0 || req.Present < 0 || req.Present > req.Total {
		return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.attendance", "present", itoa(req.Present), "total", itoa(req.Total))))
	}
	if n := utf8.RuneCountInString(req.Topic); n > command.MaxTopicRunes {
		return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.topic_long", "count", itoa(n), "max", itoa(command.MaxTopicRunes))))
	}
	start := startOf(branch, a.Loc)
	themeDay := app.UnitTheme(branch)

	// Party groups for per-group obligations.
	groups, err := a.db().GroupsOf(ctx, branch.ID)
	if err != nil {
		return Result{}, err
	}
	// An obligation the branch does not owe (no committee, no party
	// groups, another type of branch) is not checked in.
	for _, ob := range obs {
		why, err := a.NotOwedReason(ctx, branch, len(groups) > 0, ob)
		if err != nil {
			return Result{}, err
		}
		if why != "" {
			return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", why))
		}
	}
	topic := req.Topic
	perGroup := false
	for _, ob := range obs {
		perGroup = perGroup || ob.PerGroup
	}
	var group *domain.Unit
	switch {
	case req.Group != "" && !perGroup:
		return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.group_not_needed", "group", req.Group)))
	case !perGroup || len(groups) == 0 && req.Group == "":
	case req.Group != "":
		g, ok := matchGroup(groups, req.Group, true)
		if !ok {
			return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.group_unknown", "branch", branch.Name, "group", req.Group, "choices", groupChoices(groups))))
		}
		group = &g
	case len(groups) == 1:
		group = &groups[0]
	default:
		first, rest, _ := strings.Cut(topic, " ")
		if g, ok := matchGroup(groups, first, false); ok {
			group, topic = &g, rest
			break
		}
		return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.group_which", "branch", branch.Name, "count", itoa(len(groups)),
			"obligation", shortName(obs, true), "group", groups[0].Name, "choices", groupChoices(groups))))
	}

	cal, err := healthcheck.Of(a.App).Calendar(ctx)
	if err != nil {
		return Result{}, err
	}
	var lines []Line
	for _, ob := range obs {
		p := health.CheckinPeriod(ob, date, a.Loc)
		if date.Before(p.Start(a.Loc)) {
			return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.before_period", "day", date.Format(time.DateOnly), "obligation", ob.Name, "period", p.Label())))
		}
		if !health.IsOwed(p, start, a.Loc) {
			return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.before_start", "branch", branch.Name, "start", start.Format(time.DateOnly),
				"obligation", ob.Name, "day", date.Format(time.DateOnly), "period", p.Label())))
		}
		unit := branch
		if ob.PerGroup && group != nil {
			unit = *group
		}
		_, due := health.Deadline(ob, p, themeDay, a.Loc, cal)
		var cands []health.Period
		for _, c := range health.CheckinCandidates(ob, date, themeDay, a.Loc, cal) {
			if health.IsOwed(c, start, a.Loc) {
				cands = append(cands, c)
			}
		}
		forced, err := a.namedPeriod(ob, req, now)
		if err != nil {
			return refuse(subject, err)
		}
		if forced != nil {
			switch {
			case date.Before(forced.Start(a.Loc)):
				return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.makeup_before_period", "day", date.Format(time.DateOnly), "period", forced.Label(), "obligation", ob.Name)))
			case !health.IsOwed(*forced, start, a.Loc):
				return refuse(subject, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.makeup_before_start", "branch", branch.Name,
					"start", start.Format(time.DateOnly), "period", forced.Label(), "obligation", ob.Name)))
			}
			cands = []health.Period{*forced}
		}
		if forced != nil {
			p = *forced
			_, due = health.Deadline(ob, p, themeDay, a.Loc, cal)
		}
		lines = append(lines, Line{Obligation: ob, Period: p, Unit: unit, Due: due, Late: !now.Before(due), candidates: cands, makeUp: forced != nil,
			BelowQuorum: ob.Quorum && health.BelowQuorum(req.Present, req.Total)})
	}

	// Everything is allowed: record. The branch lock makes "first or extra"
	// exact under concurrent check-ins; the album lock pairs with
	// AttachAlbumPhoto for photos processed while we record.
	if err := a.db().LockCheckinBranch(ctx, branch.ID); err != nil {
		return Result{}, err
	}
	evidence := append([]string(nil), req.Evidence...)
	if req.MediaGroupID != "" && req.ChatID != 0 {
		if err := a.db().LockAlbum(ctx, req.ChatID, req.MediaGroupID); err != nil {
			return Result{}, err
		}
		album, err := a.db().AlbumPhotos(ctx, req.ChatID, req.MediaGroupID)
		if err != nil {
			return Result{}, err
		}
		evidence = mergeIDs(album, evidence)
	}
	// Under the branch lock: each line goes to the oldest open period whose
	// window contains the date, else it is an extra record of the period
	// that contains the date.
	for i := range lines {
		l := &lines[i]
		l.Extra = true
		for _, c := range l.candidates {
			done, err := a.db().CheckinDone(ctx, l.Unit.ID, l.Obligation.Code, c.Key())
			if err != nil {
				return Result{}, err
			}
			if !done {
				l.Period, l.Extra = c, false
				_, l.Due = health.Deadline(l.Obligation, c, themeDay, a.Loc, cal)
				l.Late = !now.Before(l.Due)
				break
			}
		}
		if l.makeUp && l.Extra {
			return refuse(subject, domain.Refuse(domain.ErrConflict, "%s", ck.T("refuse.makeup_done", "period", l.Period.Label(), "obligation", l.Obligation.Name)))
		}
	}
	// A meeting filed on time while a red period of the same activity is
	// open may have been held late for it: ask (the bot shows a button per
	// red period and one for the current period).
	if req.Source == SourceTelegram && req.Period == "" && req.MakeUp == nil && len(lines) == 1 && !lines[0].Late && !lines[0].Extra {
		red, err := a.redPeriods(ctx, branch, lines[0])
		if err != nil {
			return Result{}, err
		}
		if len(red) > 0 {
			return Result{}, &ErrChoosePeriod{Obligation: lines[0].Obligation, Red: red, Current: lines[0].Period, Request: req}
		}
	}
	source := req.Source
	if source == "" {
		source = SourceTelegram
	}
	id, err := a.db().InsertCheckin(ctx, storage.NewCheckin{
		BranchID: branch.ID, HeldOn: date.Format(time.DateOnly), Present: req.Present, Total: req.Total,
		Topic: topic, Evidence: evidence, MediaGroupID: req.MediaGroupID, Source: source,
		ChatID: req.ChatID, MessageID: req.MessageID, RecordedBy: actor.PersonID, RecordedAt: now,
	})
	if err != nil {
		return Result{}, err
	}
	for i, l := range lines {
		if err := a.db().InsertCheckinItem(ctx, storage.CheckinItem{CheckinID: id, Obligation: l.Obligation.Code,
			Period: l.Period.Key(), UnitID: l.Unit.ID, Late: l.Late, Extra: l.Extra, BelowQuorum: l.BelowQuorum, Pos: i}); err != nil {
			return Result{}, err
		}
	}
	c, err := a.db().CheckinByID(ctx, id)
	if err != nil {
		return Result{}, err
	}
	details := checkinPayload(c)
	if err := a.Audit(ctx, actor, action, "checkin:"+strconv.FormatInt(id, 10), true, details); err != nil {
		return Result{}, err
	}
	if err := a.db().AppendEvent(ctx, "checkin.recorded", branch.ID, details); err != nil {
		return Result{}, err
	}
	lights, err := a.lightsView(ctx, branch)
	if err != nil {
		return Result{}, err
	}
	res := Result{Checkin: c, Branch: branch, Lines: lines, Lights: lights}
	if err := a.enqueueCheckinCopies(ctx, actor, res); err != nil {
		return Result{}, err
	}
	return res, nil
}

// namedPeriod is the period the request names for ob: a button's choice
// or a typed 补开; nil when it names none (or chose the dated period).
func (a Service) namedPeriod(ob health.Obligation, req Request, now time.Time) (*health.Period, error) {
	switch {
	case req.Period != "" && req.Period != PeriodAsDated:
		p, err := health.ParsePeriod(req.Period)
		if err != nil || p.Rec != ob.Recurs {
			// Named as people read a period (2026年11月), never by its key;
			// a key that does not parse came from no button of ours.
			label := ck.T("period.chosen")
			if err == nil {
				label = p.Label()
			}
			return nil, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.makeup_wrong_period", "period", label, "obligation", ob.Name))
		}
		return &p, nil
	case req.MakeUp != nil:
		p, ok := req.MakeUp.PeriodFor(ob.Recurs, now, a.Loc)
		if !ok {
			return nil, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.makeup_unclear", "obligation", ob.Name, "recurs", ob.Recurs.Label()))
		}
		return &p, nil
	}
	return nil, nil
}

// maxMakeUpChoices bounds the 补开 buttons: the newest red periods.
const maxMakeUpChoices = 6

// redPeriods lists, newest first, the red periods of l's activity for l's
// unit before l's period: the periods a meeting might have been held late
// for.
func (a Service) redPeriods(ctx context.Context, branch domain.Unit, l Line) ([]health.Period, error) {
	st, err := healthcheck.Of(a.App).BranchStatusOf(ctx, branch.ID)
	if err != nil {
		return nil, err
	}
	var out []health.Period
	for _, it := range st.Items {
		unit := it.BranchID
		if it.GroupID != 0 {
			unit = it.GroupID
		}
		if it.Obligation == l.Obligation.Code && it.Light == health.Red && unit == l.Unit.ID && it.Period.Before(l.Period) {
			out = append(out, it.Period)
		}
	}
	slices.SortFunc(out, func(x, y health.Period) int { return y.Compare(x) })
	if len(out) > maxMakeUpChoices {
		out = out[:maxMakeUpChoices]
	}
	return out, nil
}

// requestObligations looks up the obligation codes of a request (the API
// may send names or aliases too).
func (a Service) requestObligations(words []string) ([]health.Obligation, error) {
	if len(words) == 0 {
		return nil, domain.Refuse(domain.ErrInvalid, "%s", app.Say(command.NoObligation(healthcheck.Of(a.App).ObligationMatcher().Known())))
	}
	m := healthcheck.Of(a.App).ObligationMatcher()
	var out []health.Obligation
	seen := map[string]bool{}
	for _, w := range words {
		code, ok := m.Match(w)
		if !ok {
			return nil, domain.Refuse(domain.ErrInvalid, "%s", app.Say(command.UnknownObligation(w, m.Known())))
		}
		if seen[code] {
			continue
		}
		seen[code] = true
		ob, _ := healthcheck.Of(a.App).Obligation(code)
		out = append(out, ob)
	}
	return out, nil
}

// checkinBranch resolves the branch of a request (rule 2). Refusals are
// *domain.UserError; several candidate branches give *ErrChooseBranch.
func (a Service) checkinBranch(ctx context.Context, actor domain.Actor, req Request) (domain.Unit, error) {
	noSuch := func(code string) error {
		return domain.Refuse(domain.ErrNotFound, "%s", ck.T("refuse.no_such_branch", "code", code))
	}
	switch {
	case req.BranchID != 0:
		u, err := a.db().UnitByID(ctx, req.BranchID)
		if errors.Is(err, domain.ErrNotFound) || err == nil && !u.IsBranch() {
			return domain.Unit{}, noSuch(strconv.FormatInt(req.BranchID, 10))
		}
		return u, err
	case req.InGroup:
		g, err := a.db().GroupByChat(ctx, req.ChatID)
		if errors.Is(err, domain.ErrNotFound) {
			return domain.Unit{}, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.group_chat_unbound"))
		}
		if err != nil {
			return domain.Unit{}, err
		}
		u, err := a.db().UnitByID(ctx, g.UnitID)
		if err != nil {
			return domain.Unit{}, err
		}
		if !u.IsBranch() {
			return domain.Unit{}, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.group_chat_not_branch", "unit", u.Name))
		}
		return u, nil
	case req.BranchCode != "":
		u, err := a.db().UnitByCode(ctx, req.BranchCode)
		if errors.Is(err, domain.ErrNotFound) || err == nil && !u.IsBranch() {
			return domain.Unit{}, noSuch(req.BranchCode)
		}
		return u, err
	}
	var mine []domain.Role
	for _, r := range actor.UnitsWith(domain.RoleSecretary) {
		if r.UnitKind == domain.KindBranch {
			mine = append(mine, r)
		}
	}
	switch len(mine) {
	case 0:
		if len(actor.UnitsWith(domain.RoleAdmin)) > 0 {
			return domain.Unit{}, domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.branch_code_needed"))
		}
		return domain.Unit{}, errNotSecretary
	case 1:
		return a.db().UnitByID(ctx, mine[0].UnitID)
	}
	return domain.Unit{}, &app.ErrChooseBranch{Branches: mine}
}

// matchGroup finds a party group by code (any case) or name; loose also
// accepts a word that is part of exactly one group's name ("第一").
func matchGroup(groups []domain.Unit, word string, loose bool) (domain.Unit, bool) {
	word = strings.TrimSpace(word)
	if word == "" {
		return domain.Unit{}, false
	}
	for _, g := range groups {
		if strings.EqualFold(g.Code, word) || g.Name == word {
			return g, true
		}
	}
	if !loose {
		return domain.Unit{}, false
	}
	var found []domain.Unit
	for _, g := range groups {
		if strings.Contains(g.Name, word) {
			found = append(found, g)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return domain.Unit{}, false
}

func groupChoices(groups []domain.Unit) string {
	if len(groups) == 0 {
		return ""
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Name
	}
	return ck.T("group.choices", "names", strings.Join(names, "、"))
}

// shortName is the short name of the first (per-group) obligation.
func shortName(obs []health.Obligation, perGroup bool) string {
	for _, ob := range obs {
		if ob.PerGroup == perGroup {
			return ob.Word()
		}
	}
	return obs[0].Word()
}

// mergeIDs appends the ids of b missing from a, keeping order.
func mergeIDs(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// civilIn is 00:00 in loc of the calendar day t falls on in loc.
func civilIn(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// startOf is 00:00 in loc of the branch's start date (a DATE column, read
// as midnight UTC: its calendar day is taken as it is).
func startOf(u domain.Unit, loc *time.Location) time.Time {
	y, m, d := u.StartedOn.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// checkinPayload is the audit details and event payload of a check-in.
func checkinPayload(c storage.Checkin) map[string]any {
	obligations := make([]string, len(c.Items))
	periods := make([]string, len(c.Items))
	items := make([]map[string]any, len(c.Items))
	for i, it := range c.Items {
		obligations[i], periods[i] = it.Obligation, it.Period
		items[i] = map[string]any{"obligation": it.Obligation, "period": it.Period, "unit": it.UnitCode, "late": it.Late, "extra": it.Extra}
	}
	p := map[string]any{"id": c.ID, "branch": c.BranchCode, "obligations": obligations, "periods": periods,
		"items": items, "date": c.HeldOn, "evidence": len(c.Evidence), "source": c.Source}
	if c.Total != nil {
		p["present"], p["total"] = *c.Present, *c.Total
	}
	return p
}

// SavePendingCheckin keeps a request while the sender chooses a branch and
// returns its id for the buttons ("ci:<id>:<branch id>").
func (a Service) SavePendingCheckin(ctx context.Context, actor domain.Actor, req Request) (id int64, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { id, err = Of(tx).savePendingCheckin(ctx, actor, req); return err })
	return id, err
}

// savePendingCheckin is SavePendingCheckin in the transaction SavePendingCheckin opens.
func (a Service) savePendingCheckin(ctx context.Context, actor domain.Actor, req Request) (int64, error) {
	return a.db().CreatePendingCheckin(ctx, actor.PersonID, req.ChatID, req, a.Now())
}

// pendingTTL is how long a branch keyboard stays usable.
const pendingTTL = 24 * time.Hour

// RecordPendingCheckin records a pending check-in for the branch its author
// tapped. Only the author may tap, once; a refusal leaves it pending so that
// another branch may be tapped.
func (a Service) RecordPendingCheckin(ctx context.Context, actor domain.Actor, pendingID, branchID int64) (Result, error) {
	return a.recordPending(ctx, actor, pendingID, func(req *Request) {
		req.BranchID, req.BranchCode, req.InGroup = branchID, "", false
	})
}

// RecordPendingCheckinFor records a pending check-in for the period its
// author tapped: a red period's key (补开) or PeriodAsDated.
func (a Service) RecordPendingCheckinFor(ctx context.Context, actor domain.Actor, pendingID int64, period string) (Result, error) {
	return a.recordPending(ctx, actor, pendingID, func(req *Request) { req.Period = period })
}

func (a Service) recordPending(ctx context.Context, actor domain.Actor, pendingID int64, choose func(*Request)) (Result, error) {
	var res Result
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		p, err := Of(a).db().LockPendingCheckin(ctx, pendingID)
		if errors.Is(err, domain.ErrNotFound) {
			return domain.Refuse(domain.ErrNotFound, "%s", ck.T("refuse.pending_gone"))
		}
		if err != nil {
			return err
		}
		switch {
		case p.PersonID != actor.PersonID:
			// Someone else's button (forwarded or forged): audited.
			return a.Refused(ctx, actor, "checkin.record", "pending:"+strconv.FormatInt(pendingID, 10),
				domain.Refuse(domain.ErrForbidden, "%s", ck.T("refuse.pending_not_yours")))
		case p.UsedAt != nil:
			return domain.Refuse(domain.ErrConflict, "%s", ck.T("refuse.pending_used"))
		case a.Now().Sub(p.CreatedAt) > pendingTTL:
			return domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.pending_expired"))
		}
		var req Request
		if err := json.Unmarshal(p.Request, &req); err != nil {
			return fmt.Errorf("app: pending check-in %d: %w", pendingID, err)
		}
		choose(&req)
		res, err = Of(a).recordCheckin(ctx, actor, req)
		if err != nil {
			return err
		}
		_, err = Of(a).db().UsePendingCheckin(ctx, pendingID, a.Now())
		return err
	})
	return res, err
}

// AttachAlbumPhoto remembers a photo of a Telegram album and adds it to the
// album's check-in when that exists; a check-in recorded later collects the
// photos remembered before it. Album photos are not check-ins themselves,
// so a photo from anyone in the chat is kept only as the album's evidence.
func (a Service) AttachAlbumPhoto(ctx context.Context, chatID int64, mediaGroupID, fileID string, updateID int64) error {
	return a.InTxRefusable(ctx, func(tx *app.App) error { return Of(tx).attachAlbumPhoto(ctx, chatID, mediaGroupID, fileID, updateID) })
}

// attachAlbumPhoto is AttachAlbumPhoto in the transaction AttachAlbumPhoto opens.
func (a Service) attachAlbumPhoto(ctx context.Context, chatID int64, mediaGroupID, fileID string, updateID int64) error {
	if fileID == "" {
		return nil
	}
	if err := a.db().LockAlbum(ctx, chatID, mediaGroupID); err != nil {
		return err
	}
	return a.db().AddAlbumPhoto(ctx, chatID, mediaGroupID, fileID, updateID)
}
