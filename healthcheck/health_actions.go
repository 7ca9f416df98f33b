package healthcheck

import (
	"context"
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
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
)

// ht is the health-check catalogue (internal/texts/health.yaml).
var ht = texts.Health

// Limits on what organisers and secretaries may ask for.
const (
	maxReasonRunes = 200
	maxAckAhead    = 90 // days a promised date may lie ahead
	maxSilence     = 366 * 24 * time.Hour
)

// AckRequest acknowledges red items (收到). With UnitID set (a button) it
// names one item or, with Obligation "", every red item of that branch;
// otherwise it covers the red items of the actor's branches (BranchID
// narrows to one; so does a group chat bound to a branch the actor is
// secretary of), optionally only one obligation.
type AckRequest struct {
	UnitID   int64
	BranchID int64
	// ChatID is the group chat the 收到 was said in; 0 in private.
	ChatID     int64
	Obligation string // code; "" = every red item
	Period     string // period key; "" = every red period
	// Planned is the promised completion date (00:00 in the zone); nil
	// pauses the repeats for healthcheck.ack_default.
	Planned *time.Time
}

// AckResult says what was acknowledged and until when repeats pause.
type AckResult struct {
	Branches []domain.Unit
	Items    []ItemStatus
	Until    time.Time
	Planned  *time.Time
}

// Ack records a secretary's acknowledgement of red items: their red
// notices stop repeating until the promised date (the end of that day), or
// for healthcheck.ack_default; first notices and escalations still go out,
// and organisers see who acknowledged and the promised date.
func (a Service) Ack(ctx context.Context, actor domain.Actor, req AckRequest) (res AckResult, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { res, err = Of(tx).ack(ctx, actor, req); return err })
	return res, err
}

// ack is Ack in the transaction Ack opens.
func (a Service) ack(ctx context.Context, actor domain.Actor, req AckRequest) (AckResult, error) {
	refuse := func(format string, args ...any) (AckResult, error) {
		return AckResult{}, a.Refused(ctx, actor, "health.ack", "", domain.Refuse(domain.ErrForbidden, format, args...))
	}
	if actor.PersonID == 0 {
		return refuse("%s", ht.T("refuse.not_linked"))
	}
	now := a.Now()
	res := AckResult{}
	if req.Planned != nil {
		y, m, d := req.Planned.In(a.Loc).Date()
		planned := time.Date(y, m, d, 0, 0, 0, 0, a.Loc)
		ty, tm, td := now.In(a.Loc).Date()
		today := time.Date(ty, tm, td, 0, 0, 0, 0, a.Loc)
		if planned.Before(today) {
			return AckResult{}, domain.Refuse(domain.ErrInvalid, "%s", ht.T("ack.refuse.planned_past", "day", planned.Format(time.DateOnly)))
		}
		if planned.After(today.AddDate(0, 0, maxAckAhead)) {
			return AckResult{}, domain.Refuse(domain.ErrInvalid, "%s", ht.T("ack.refuse.planned_far", "days", strconv.Itoa(maxAckAhead)))
		}
		res.Planned = &planned
		res.Until = planned.AddDate(0, 0, 1)
	} else {
		res.Until = now.Add(a.Cfg.Healthcheck.AckDefault.D())
	}
	if req.UnitID == 0 && req.BranchID == 0 && req.ChatID != 0 {
		// Said in its branch's group, 收到 is about that branch.
		u, bound, err := a.GroupUnit(ctx, req.ChatID)
		if err != nil {
			return AckResult{}, err
		}
		if bound && u.Kind == domain.KindBranch && actor.Has(domain.RoleSecretary, u.ID) {
			req.BranchID = u.ID
		}
	}
	// Which branches, and which unit within them.
	var branches []int64
	unitFilter := int64(0)
	switch {
	case req.UnitID != 0:
		u, err := a.db().UnitByID(ctx, req.UnitID)
		if errors.Is(err, domain.ErrNotFound) {
			return refuse("%s", ht.T("ack.refuse.gone"))
		}
		if err != nil {
			return AckResult{}, err
		}
		branch := u.ID
		if u.Kind == domain.KindGroup && u.ParentID != nil {
			branch = *u.ParentID
		}
		if u.Kind != domain.KindBranch && u.Kind != domain.KindGroup {
			return refuse("%s", ht.T("ack.refuse.gone"))
		}
		if req.Obligation != "" {
			unitFilter = u.ID // one item; "*" covers the whole branch
		}
		branches = []int64{branch}
	case req.BranchID != 0:
		branches = []int64{req.BranchID}
	default:
		for _, r := range actor.UnitsWith(domain.RoleSecretary) {
			if r.UnitKind == domain.KindBranch {
				branches = append(branches, r.UnitID)
			}
		}
		if len(branches) == 0 {
			return refuse("%s", ht.T("ack.refuse.not_secretary"))
		}
	}
	for _, b := range branches {
		if !actor.Has(domain.RoleSecretary, b) {
			return refuse("%s", ht.T("ack.refuse.not_branch_secretary"))
		}
	}
	for _, b := range branches {
		st, err := a.BranchStatusOf(ctx, b)
		if err != nil {
			return AckResult{}, err
		}
		unit, err := a.db().UnitByID(ctx, b)
		if err != nil {
			return AckResult{}, err
		}
		took := false
		for _, it := range st.Items {
			if it.Light != health.Red {
				continue
			}
			if req.Obligation != "" && it.Obligation != req.Obligation {
				continue
			}
			if req.Period != "" && it.Period.Key() != req.Period {
				continue
			}
			uid := it.BranchID
			if it.GroupID != 0 {
				uid = it.GroupID
			}
			if unitFilter != 0 && uid != unitFilter {
				continue
			}
			ack := storage.Ack{HealthItem: storage.HealthItem{UnitID: uid, Obligation: it.Obligation, Period: it.Period.Key()},
				PersonID: actor.PersonID, At: now, PlannedOn: res.Planned, Until: res.Until}
			if err := a.db().AddAck(ctx, ack); err != nil {
				return AckResult{}, err
			}
			res.Items = append(res.Items, it)
			took = true
		}
		if took {
			res.Branches = append(res.Branches, unit)
		}
	}
	if len(res.Items) == 0 {
		return AckResult{}, domain.Refuse(domain.ErrNotFound, "%s", ht.T("ack.refuse.nothing"))
	}
	details := map[string]any{"items": len(res.Items), "until": res.Until}
	if res.Planned != nil {
		details["planned"] = res.Planned.Format(time.DateOnly)
	}
	var subject []string
	for _, b := range res.Branches {
		subject = append(subject, "unit:"+b.Code)
	}
	return res, a.Audit(ctx, actor, "health.ack", strings.Join(subject, ","), true, details)
}

// hcMatchObligation finds an obligation by code, name or alias.
func (a Service) hcMatchObligation(word string) (health.Obligation, bool) {
	code, ok := a.ObligationMatcher().Match(word)
	if !ok {
		return health.Obligation{}, false
	}
	return a.Obligation(code)
}

func hcCheckReason(reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return domain.Refuse(domain.ErrInvalid, "%s", ht.T("reason.missing"))
	case utf8.RuneCountInString(reason) > maxReasonRunes:
		return domain.Refuse(domain.ErrInvalid, "%s", ht.T("reason.long", "max", strconv.Itoa(maxReasonRunes)))
	}
	return nil
}

// ExemptRequest exempts one period of an obligation for a branch (or party
// group): the item turns green and its red notices stop.
type ExemptRequest struct {
	UnitCode   string // branch, or party group
	Obligation string // code, name or alias
	Period     string // key: 2026-11, 2026-Q4, 2026
	Reason     string
}

// Exempt records an exemption, by an organiser or admin of a unit above the
// branch; audited. For a per-group obligation named on a branch with
// party groups every group is exempted.
func (a Service) Exempt(ctx context.Context, actor domain.Actor, req ExemptRequest) ([]storage.Exemption, error) {
	var xs []storage.Exemption
	err := a.InTxAudited(ctx, actor, "health.exempt", "unit:"+req.UnitCode, func(a *app.App) (err error) {
		xs, err = Of(a).exempt(ctx, actor, req)
		return err
	})
	return xs, err
}

func (a Service) exempt(ctx context.Context, actor domain.Actor, req ExemptRequest) ([]storage.Exemption, error) {
	subject := "unit:" + req.UnitCode
	refuse := func(kind error, format string, args ...any) ([]storage.Exemption, error) {
		return nil, a.Refused(ctx, actor, "health.exempt", subject, domain.Refuse(kind, format, args...))
	}
	u, err := a.db().UnitByCode(ctx, req.UnitCode)
	if errors.Is(err, domain.ErrNotFound) {
		return refuse(domain.ErrNotFound, "%s", ht.T("exempt.refuse.no_branch", "code", req.UnitCode))
	}
	if err != nil {
		return nil, err
	}
	branch := u
	if u.Kind == domain.KindGroup && u.ParentID != nil {
		if branch, err = a.db().UnitByID(ctx, *u.ParentID); err != nil {
			return nil, err
		}
	}
	if branch.Kind != domain.KindBranch {
		return refuse(domain.ErrInvalid, "%s", ht.T("exempt.refuse.not_branch", "code", req.UnitCode))
	}
	ok, err := a.Can(ctx, actor, access.ManageHealth, branch.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return refuse(domain.ErrForbidden, "%s", ht.T("exempt.refuse.forbidden", "branch", branch.Name))
	}
	ob, found := a.hcMatchObligation(req.Obligation)
	if !found {
		return refuse(domain.ErrInvalid, "%s", ht.T("refuse.unknown_activity", "word", req.Obligation, "known", strings.Join(a.ObligationMatcher().Known(), "、")))
	}
	p, err := health.ParsePeriod(req.Period)
	if err != nil {
		return refuse(domain.ErrInvalid, "%s", err.Error())
	}
	if p.Rec != ob.Recurs {
		return refuse(domain.ErrInvalid, "%s", ht.T("exempt.refuse.period_form", "obligation", ob.Name, "recurs", ob.Recurs.Label(),
			"example", health.PeriodAt(ob.Recurs, a.Now(), a.Loc).Label()))
	}
	if err := hcCheckReason(req.Reason); err != nil {
		return nil, a.Refused(ctx, actor, "health.exempt", subject, err)
	}
	now := a.Now()
	if p.After(health.PeriodAt(ob.Recurs, now, a.Loc).Next()) {
		return refuse(domain.ErrInvalid, "%s", ht.T("exempt.refuse.far_future", "period", p.Label()))
	}
	y, m, d := branch.StartedOn.Date()
	if !health.IsOwed(p, time.Date(y, m, d, 0, 0, 0, 0, a.Loc), a.Loc) {
		return refuse(domain.ErrInvalid, "%s", ht.T("exempt.refuse.before_start", "branch", branch.Name,
			"start", branch.StartedOn.Format(time.DateOnly), "period", p.Label()))
	}
	units := []domain.Unit{u}
	if ob.PerGroup && u.Kind == domain.KindBranch {
		groups, err := a.db().Subtree(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		var gs []domain.Unit
		for _, g := range groups {
			if g.Kind == domain.KindGroup {
				gs = append(gs, g)
			}
		}
		if len(gs) > 0 {
			units = gs
		}
	}
	var out []storage.Exemption
	for _, x := range units {
		e := storage.Exemption{UnitID: x.ID, UnitCode: x.Code, Obligation: ob.Code, Period: p.Key(), Reason: strings.TrimSpace(req.Reason),
			ByID: actor.PersonID, Actor: actor.Label, At: now}
		id, created, err := a.db().CreateExemption(ctx, e)
		if err != nil {
			return nil, err
		}
		if !created {
			if len(units) == 1 {
				return refuse(domain.ErrConflict, "%s", ht.T("exempt.refuse.done", "unit", x.Name, "obligation", ob.Name, "period", p.Label()))
			}
			continue
		}
		e.ID = id
		out = append(out, e)
		if err := a.Audit(ctx, actor, "health.exempt", "unit:"+x.Code, true, map[string]any{
			"exemption": id, "obligation": ob.Code, "period": p.Key(), "reason": e.Reason}); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return refuse(domain.ErrConflict, "%s", ht.T("exempt.refuse.done", "unit", u.Name, "obligation", ob.Name, "period", p.Label()))
	}
	return out, nil
}

// SilenceRequest mutes notices about a unit subtree (one obligation or all)
// until a time, with a reason.
type SilenceRequest struct {
	UnitCode   string
	Obligation string    // code, name or alias; "" = every obligation
	From       time.Time // zero = now
	Until      time.Time
	Reason     string
}

// Silence records a silence, by an organiser or admin of the unit or a unit
// above it; audited. Silenced items are still shown (status, API, CLI) but
// not sent.
func (a Service) Silence(ctx context.Context, actor domain.Actor, req SilenceRequest) (storage.Silence, error) {
	var x storage.Silence
	err := a.InTxAudited(ctx, actor, "health.silence", "unit:"+req.UnitCode, func(a *app.App) (err error) {
		x, err = Of(a).silence(ctx, actor, req)
		return err
	})
	return x, err
}

func (a Service) silence(ctx context.Context, actor domain.Actor, req SilenceRequest) (storage.Silence, error) {
	subject := "unit:" + req.UnitCode
	refuse := func(kind error, format string, args ...any) (storage.Silence, error) {
		return storage.Silence{}, a.Refused(ctx, actor, "health.silence", subject, domain.Refuse(kind, format, args...))
	}
	u, err := a.db().UnitByCode(ctx, req.UnitCode)
	if errors.Is(err, domain.ErrNotFound) {
		return refuse(domain.ErrNotFound, "%s", ht.T("silence.refuse.no_unit", "code", req.UnitCode))
	}
	if err != nil {
		return storage.Silence{}, err
	}
	ok, err := a.Can(ctx, actor, access.SilenceHealth, u.ID)
	if err != nil {
		return storage.Silence{}, err
	}
	if !ok {
		return refuse(domain.ErrForbidden, "%s", ht.T("silence.refuse.forbidden", "code", u.Code))
	}
	x := storage.Silence{UnitID: u.ID, UnitCode: u.Code, From: req.From, Until: req.Until, Reason: strings.TrimSpace(req.Reason), Actor: actor.Label}
	if req.Obligation != "" {
		ob, found := a.hcMatchObligation(req.Obligation)
		if !found {
			return refuse(domain.ErrInvalid, "%s", ht.T("refuse.unknown_activity", "word", req.Obligation, "known", strings.Join(a.ObligationMatcher().Known(), "、")))
		}
		x.Obligation = ob.Code
	}
	now := a.Now()
	if x.From.IsZero() {
		x.From = now
	}
	switch {
	case !x.Until.After(now) || !x.Until.After(x.From):
		return refuse(domain.ErrInvalid, "%s", ht.T("silence.refuse.end"))
	case x.Until.Sub(x.From) > maxSilence:
		return refuse(domain.ErrInvalid, "%s", ht.T("silence.refuse.too_long"))
	}
	if err := hcCheckReason(req.Reason); err != nil {
		return storage.Silence{}, a.Refused(ctx, actor, "health.silence", subject, err)
	}
	if x.ID, err = a.db().CreateSilence(ctx, x, actor.PersonID); err != nil {
		return storage.Silence{}, err
	}
	return x, a.Audit(ctx, actor, "health.silence", subject, true, map[string]any{
		"silence": x.ID, "obligation": x.Obligation, "from": x.From, "until": x.Until, "reason": x.Reason})
}

// Escalation is a red item as organisers follow it up.
type Escalation struct {
	Branch         string       `json:"branch"`
	BranchName     string       `json:"branch_name"`
	Group          string       `json:"group,omitempty"`
	Obligation     string       `json:"obligation"`
	ObligationName string       `json:"obligation_name"`
	Period         string       `json:"period"`
	Due            time.Time    `json:"due"`
	DaysOverdue    int          `json:"days_overdue"`
	Escalated      bool         `json:"escalated"` // red for longer than escalate_after
	Ack            *app.AckView `json:"ack,omitempty"`
}

// escalated reports whether an item red since due is past escalate_after
// (working days) at now.
func escalated(r health.Rules, due, now time.Time, loc *time.Location) bool {
	at := r.EscalateAt(due, loc)
	return !at.IsZero() && !now.Before(at)
}

// Escalations lists the red items of the subtree of the unit code names
// ("" = the actor's own) at a.Now(), longest overdue first, with who
// acknowledged them and the promised date. It names people, so only roles
// that may list people may read it.
func (a Service) Escalations(ctx context.Context, actor domain.Actor, code string) (domain.Unit, []Escalation, error) {
	u, err := a.Scope(ctx, actor, access.ListPeople, "escalations.list", code)
	if err != nil {
		return domain.Unit{}, nil, err
	}
	es, err := a.EscalationsUnder(ctx, u.ID)
	return u, es, err
}

func (a Service) EscalationsUnder(ctx context.Context, unitID int64) ([]Escalation, error) {
	_, bs, err := a.UnitSummaryOf(ctx, unitID)
	if err != nil {
		return nil, err
	}
	now := a.Now()
	names := map[string]string{}
	for _, ob := range a.Obligations() {
		names[ob.Code] = ob.Name
	}
	rules, err := a.HealthRules()
	if err != nil {
		return nil, err
	}
	if rules.Calendar, err = a.Calendar(ctx); err != nil {
		return nil, err
	}
	var out []Escalation
	for _, b := range bs {
		for _, it := range b.Items {
			if it.Light != health.Red {
				continue
			}
			out = append(out, Escalation{Branch: b.Code, BranchName: b.Name, Group: it.GroupCode, Obligation: it.Obligation,
				ObligationName: names[it.Obligation], Period: it.Period.Key(), Due: it.Due.In(a.Loc),
				DaysOverdue: health.DaysOverdue(it.Due, now, a.Loc), Escalated: escalated(rules, it.Due, now, a.Loc), Ack: app.ViewAck(it.Ack)})
		}
	}
	slices.SortStableFunc(out, func(x, y Escalation) int {
		if c := x.Due.Compare(y.Due); c != 0 {
			return c
		}
		return strings.Compare(x.Branch, y.Branch)
	})
	return out, nil
}

// ParseAckData reads the data of a 收到 button (see AckData).
func ParseAckData(data string) (AckRequest, error) {
	id, ob, period, ok := callback.ParseAck(data)
	if !ok {
		return AckRequest{}, fmt.Errorf("bad ack button %q", data)
	}
	return AckRequest{UnitID: id, Obligation: ob, Period: period}, nil
}

// LightsOf lists the lights of the subtree of the unit code names ("" = the
// actor's own) at a.Now() (no planning, nothing written): what the API
// shows.
func (a Service) LightsOf(ctx context.Context, actor domain.Actor, code string) (domain.Unit, *Evaluation, error) {
	u, err := a.UnitForActor(ctx, actor, code)
	if err != nil {
		return domain.Unit{}, nil, err
	}
	ev, err := a.evaluate(ctx, a.Now(), u.Code, evalMode{keepLights: true})
	return u, ev, err
}

// RevokeExemption withdraws an exemption (the row is marked, not deleted),
// by an organiser or admin above the branch; audited. The item's light
// falls back to what its check-ins say.
func (a Service) RevokeExemption(ctx context.Context, actor domain.Actor, id int64, reason string) (storage.Exemption, error) {
	var x storage.Exemption
	err := a.InTxAudited(ctx, actor, "health.exempt.revoke", "exemption:"+strconv.FormatInt(id, 10), func(a *app.App) (err error) {
		x, err = Of(a).revokeExemption(ctx, actor, id, reason)
		return err
	})
	return x, err
}

func (a Service) revokeExemption(ctx context.Context, actor domain.Actor, id int64, reason string) (storage.Exemption, error) {
	subject := "exemption:" + strconv.FormatInt(id, 10)
	x, err := a.db().ExemptionByID(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return storage.Exemption{}, a.Refused(ctx, actor, "health.exempt.revoke", subject, domain.Refuse(domain.ErrNotFound, "%s", ht.T("exempt.refuse.revoke_no_such", "id", strconv.FormatInt(id, 10))))
	}
	if err != nil {
		return storage.Exemption{}, err
	}
	ok, err := a.Can(ctx, actor, access.ManageHealth, x.UnitID)
	if err != nil {
		return storage.Exemption{}, err
	}
	if !ok {
		return storage.Exemption{}, a.Refused(ctx, actor, "health.exempt.revoke", subject,
			domain.Refuse(domain.ErrForbidden, "%s", ht.T("exempt.refuse.revoke_forbidden")))
	}
	if err := hcCheckReason(reason); err != nil {
		return storage.Exemption{}, a.Refused(ctx, actor, "health.exempt.revoke", subject, err)
	}
	x, err = a.db().RevokeExemption(ctx, id, actor.PersonID, strings.TrimSpace(reason), a.Now())
	if errors.Is(err, domain.ErrNotFound) {
		return storage.Exemption{}, domain.Refuse(domain.ErrConflict, "%s", ht.T("exempt.refuse.revoked", "id", strconv.FormatInt(id, 10)))
	}
	if err != nil {
		return storage.Exemption{}, err
	}
	return x, a.Audit(ctx, actor, "health.exempt.revoke", subject, true, map[string]any{"unit": x.UnitCode, "obligation": x.Obligation,
		"period": x.Period, "reason": strings.TrimSpace(reason)})
}

// Misses lists the digests of the subtree of the unit code names ("" = the
// actor's own) since a time that did not reach their person directly (group
// fallback, no chat at all, or refused by Telegram), newest first. It names
// people, so only roles that may list people may read it.
func (a Service) Misses(ctx context.Context, actor domain.Actor, code string, since time.Time, limit int) (domain.Unit, []storage.Miss, error) {
	u, err := a.Scope(ctx, actor, access.ListPeople, "misses.list", code)
	if err != nil {
		return domain.Unit{}, nil, err
	}
	ms, err := a.db().HealthMisses(ctx, u.ID, since, limit)
	return u, ms, err
}
