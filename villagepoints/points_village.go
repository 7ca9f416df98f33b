package villagepoints

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/storage"
)

// Points as villages run them (SPEC §7.4): the reviewers' quorum, villagers'
// objections during 公示 decided by the reviewers, the veto's window and
// the daily 公示 list in the villagers' group.

var vetoScopeWords = map[points.VetoScope]string{points.VetoMonth: pt.T("veto_scope.month"), points.VetoQuarter: pt.T("veto_scope.quarter"),
	points.VetoYear: pt.T("veto_scope.year")}

// VetoLabel names the window a veto excludes its household for: 2026年度,
// 2026年第四季度 or 2026年11月 ("" for an older veto without a window).
func (a Service) VetoLabel(c storage.Claim) string {
	if c.VetoFrom == nil || c.VetoUntil == nil {
		return ""
	}
	from := c.VetoFrom.In(a.Loc)
	kind := points.Monthly
	switch {
	case !from.AddDate(1, 0, 0).After(*c.VetoUntil):
		kind = points.Yearly
	case !from.AddDate(0, 3, 0).After(*c.VetoUntil):
		kind = points.Quarterly
	}
	return points.SettlementPeriod{Kind: kind, Start: from}.Label()
}

// approverKey names an approver for the quorum: the person, else the token.
func approverKey(actor domain.Actor) string {
	if actor.PersonID != 0 {
		return "p:" + strconv.FormatInt(actor.PersonID, 10)
	}
	return "t:" + actor.Label
}

// approveTowardQuorum records the actor's approval of pending claim c in
// its review round (the caller holds the household lock, so approvals of
// one claim are counted one at a time). It returns who approved so far and
// whether the quorum is reached; short of it, the cards are edited to show
// the approvals with the buttons kept. A second approval by the same
// reviewer is refused.
func (a Service) approveTowardQuorum(ctx context.Context, actor domain.Actor, c storage.Claim, name string, now time.Time) ([]string, bool, error) {
	subject := claimSubject(c.ID)
	added, err := a.db().AddApproval(ctx, c.ID, c.CardVersion, storage.Approval{Approver: approverKey(actor), Name: name, At: now})
	if err != nil {
		return nil, false, err
	}
	as, err := a.db().Approvals(ctx, c.ID, c.CardVersion)
	if err != nil {
		return nil, false, err
	}
	names := make([]string, len(as))
	for i, x := range as {
		names[i] = x.Name
	}
	done, missing := points.ApprovalsNeeded(len(as), a.Cfg.Points.ReviewQuorum)
	if !added {
		return names, false, a.Refused(ctx, actor, "claim.decide", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("decide.refuse.approved_already", "id", strconv.FormatInt(c.ID, 10), "missing", strconv.Itoa(missing))))
	}
	if done {
		return names, true, nil
	}
	hh, err := a.db().HouseholdByID(ctx, c.HouseholdID)
	if err != nil {
		return names, false, err
	}
	footer := pt.T("decide.quorum_footer", "names", esc(strings.Join(names, "、")), "count", strconv.Itoa(len(names)),
		"quorum", strconv.Itoa(a.Cfg.Points.ReviewQuorum), "missing", strconv.Itoa(missing))
	if err := a.editCardsWith(ctx, c, c.CardKeys, hh, footer, "ok"+strconv.Itoa(len(names)), reviewKeyboard(c.ID)); err != nil {
		return names, false, err
	}
	return names, false, a.Audit(ctx, actor, "claim.approve", subject, true, map[string]any{"approvals": len(names), "quorum": a.Cfg.Points.ReviewQuorum})
}

// editCardsWith rewrites a claim's cards with footer and the given inline
// keyboard (nil = none).
func (a Service) editCardsWith(ctx context.Context, c storage.Claim, keys []string, hh storage.Household, footer, tag string, markup any) error {
	text := a.cardText(c, hh)
	if footer != "" {
		text += "\n\n" + footer
	}
	for _, key := range keys {
		m := storage.OutMessage{DedupeKey: key + ":" + tag, ChatID: cardChat(key), Priority: storage.PriorityDefault, Kind: "claim_card_edit"}
		payload := map[string]any{"edit_of": key, "parse_mode": "HTML"}
		if c.HasPhoto() {
			m.Method = "editMessageCaption"
			payload["caption"] = text
		} else {
			m.Method = "editMessageText"
			payload["text"] = text
			payload["link_preview_options"] = map[string]any{"is_disabled": true}
		}
		if markup != nil {
			payload["reply_markup"] = markup
		}
		m.Payload = payload
		if err := a.db().Enqueue(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// reviewerChats are the chats a village's review cards go to: its
// reviewers' group, else each reachable reviewer's private chat.
func (a Service) reviewerChats(ctx context.Context, villageID int64) ([]int64, error) {
	g, err := a.db().GroupOfUnit(ctx, villageID)
	switch {
	case err == nil:
		return []int64{g.ChatID}, nil
	case !errors.Is(err, domain.ErrNotFound):
		return nil, err
	}
	hs, err := a.db().HoldersInSubtree(ctx, villageID, domain.RoleReviewer, false)
	if err != nil {
		return nil, err
	}
	var chats []int64
	for _, h := range hs {
		if h.UnitID == villageID && h.ChatID != nil && !h.Unreachable {
			chats = append(chats, *h.ChatID)
		}
	}
	return chats, nil
}

// objectionKey is the outbox key of an objection's card in one chat.
func objectionKey(id, chatID int64) string { return fmt.Sprintf("objection:%d:card:%d", id, chatID) }

// villagerObjection is "异议 <申报号> 理由" by a villager of the claim's
// village during 公示: the claim's points are held back (a reversing entry,
// effective when the award would have been) and a card with 维持异议 /
// 驳回异议 goes to the reviewers; the claim waits for them.
func (a Service) villagerObjection(ctx context.Context, actor domain.Actor, c storage.Claim, reason string) (storage.Claim, error) {
	subject := claimSubject(c.ID)
	id := strconv.FormatInt(c.ID, 10)
	if reason == "" {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrInvalid,
			"%s", pt.T("objection.refuse.no_reason", "id", id)))
	}
	c, err := a.lockClaim(ctx, c)
	if err != nil {
		return c, err
	}
	if p, err := a.db().PersonByID(ctx, actor.PersonID); err != nil {
		return c, err
	} else if p.HouseholdID != nil && *p.HouseholdID == c.HouseholdID {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrForbidden,
			"%s", pt.T("objection.refuse.own", "id", id)))
	}
	if c.Kind != storage.ClaimKindClaim {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrForbidden,
			"%s", pt.T("objection.refuse.not_claim", "id", id)))
	}
	if c.Status != storage.ClaimApproved {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("object.refuse.not_approved", "id", id, "status", statusWords[c.Status])))
	}
	if _, err := a.db().OpenObjection(ctx, c.ID); err == nil {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("objection.refuse.open", "id", id)))
	} else if !errors.Is(err, domain.ErrNotFound) {
		return c, err
	}
	e, now, err := a.publicityEntry(ctx, actor, c, "objection.refuse.publicity_over")
	if err != nil {
		return c, err
	}
	reason = cut(reason, 500)
	oid, ok, err := a.db().InsertObjection(ctx, storage.Objection{ClaimID: c.ID, PersonID: &actor.PersonID, Reason: reason, CreatedAt: now})
	if err != nil {
		return c, err
	}
	if !ok {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("objection.refuse.open", "id", id)))
	}
	if _, err := a.reverseAward(ctx, actor, c, e, pt.T("objection.note", "reason", cut(reason, 200)), now); err != nil {
		return c, err
	}
	hh, name, err := a.householdAndDecider(ctx, actor, c.HouseholdID)
	if err != nil {
		return c, err
	}
	o := storage.Objection{ID: oid, ClaimID: c.ID, PersonName: name, Reason: reason, Status: storage.ObjectionOpen, CreatedAt: now}
	chats, err := a.reviewerChats(ctx, c.VillageID)
	if err != nil {
		return c, err
	}
	var keys []string
	for _, chat := range chats {
		key := objectionKey(oid, chat)
		if err := a.db().Enqueue(ctx, storage.OutMessage{DedupeKey: key, ChatID: chat, Priority: storage.PriorityDefault, Kind: "objection_card",
			Payload: map[string]any{"text": a.objectionCardText(c, hh, o, e.EffectiveAt), "parse_mode": "HTML",
				"reply_markup": objectionKeyboard(oid)}}); err != nil {
			return c, err
		}
		keys = append(keys, key)
	}
	if err := a.db().SetObjectionCards(ctx, oid, keys); err != nil {
		return c, err
	}
	if err := a.tellHousehold(ctx, c.HouseholdID, fmt.Sprintf("objection:%d:told", oid),
		pt.T("objection.told_household", "id", id, "item", esc(PointsText(c)))); err != nil {
		return c, err
	}
	return c, a.Audit(ctx, actor, "claim.object", subject, true, map[string]any{"reason": reason, "objection": oid, "by": "villager"})
}

// objectionCardText is the reviewers' card of a villager's objection.
func (a Service) objectionCardText(c storage.Claim, hh storage.Household, o storage.Objection, effective time.Time) string {
	var b strings.Builder
	b.WriteString(pt.T("objection.card_head", "id", strconv.FormatInt(c.ID, 10)))
	b.WriteString(pt.T("card.village", "village", esc(c.VillageName)))
	b.WriteString(pt.T("card.household", "household", esc(hh.Label())))
	b.WriteString(pt.T("objection.card_item", "item", esc(PointsText(c))))
	b.WriteString(pt.T("objection.card_objector", "name", esc(o.PersonName), "time", a.clock(o.CreatedAt)))
	b.WriteString(pt.T("objection.card_reason", "reason", esc(cut(o.Reason, 200))))
	b.WriteString(pt.T("objection.card_held", "day", a.day(effective)))
	return b.String()
}

// objectionKeyboard carries 维持异议 / 驳回异议.
func objectionKeyboard(objectionID int64) map[string]any {
	return map[string]any{"inline_keyboard": [][]map[string]string{{
		{"text": pt.T("objection.button_uphold"), "callback_data": callback.Objection(objectionID, true)},
		{"text": pt.T("objection.button_dismiss"), "callback_data": callback.Objection(objectionID, false)},
	}}}
}

// ObjectionResult is a decided objection and its claim.
type ObjectionResult struct {
	Objection storage.Objection
	Claim     storage.Claim
	Entry     *storage.PointEntry // the award booked again when dismissed
}

// DecideObjection upholds or dismisses a villager's objection, by a
// reviewer of the claim's village (not of the claim's household), exactly
// once under concurrent taps. Upheld: the claim is rejected (its points
// stay reversed). Dismissed: its points are booked again, effective when
// its 公示 would have ended (or now, when that has passed).
func (a Service) DecideObjection(ctx context.Context, actor domain.Actor, objectionID int64, uphold bool) (res ObjectionResult, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error {
		res, err = Of(tx).decideObjection(ctx, actor, objectionID, uphold)
		return err
	})
	return res, err
}

// decideObjection is DecideObjection in the transaction DecideObjection opens.
func (a Service) decideObjection(ctx context.Context, actor domain.Actor, objectionID int64, uphold bool) (ObjectionResult, error) {
	subject := "objection:" + strconv.FormatInt(objectionID, 10)
	o, err := a.db().ObjectionByID(ctx, objectionID)
	if errors.Is(err, domain.ErrNotFound) {
		return ObjectionResult{}, a.Refused(ctx, actor, "objection.decide", subject, domain.Refuse(domain.ErrNotFound, "%s", pt.T("objection.refuse.no_such")))
	}
	if err != nil {
		return ObjectionResult{}, err
	}
	c, err := a.db().ClaimByID(ctx, o.ClaimID)
	if err != nil {
		return ObjectionResult{}, err
	}
	if err := a.reviewerOf(ctx, actor, c, "objection.decide", subject,
		pt.T("objection.refuse.not_reviewer", "village", c.VillageName),
		pt.T("objection.refuse.own_household", "id", strconv.FormatInt(c.ID, 10), "village", c.VillageName)); err != nil {
		return ObjectionResult{}, err
	}
	name, err := a.decider(ctx, actor)
	if err != nil {
		return ObjectionResult{}, err
	}
	now := a.Now()
	status := storage.ObjectionDismissed
	if uphold {
		status = storage.ObjectionUpheld
	}
	taken, err := a.db().DecideObjection(ctx, objectionID, status, now, name)
	if err != nil {
		return ObjectionResult{}, err
	}
	if !taken {
		cur, err := a.db().ObjectionByID(ctx, objectionID)
		if err != nil {
			return ObjectionResult{}, err
		}
		return ObjectionResult{}, a.Refused(ctx, actor, "objection.decide", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("objection.refuse.taken", "decider", cur.Decider, "status", objectionWords[cur.Status])))
	}
	if o, err = a.db().ObjectionByID(ctx, objectionID); err != nil {
		return ObjectionResult{}, err
	}
	hh, err := a.db().HouseholdByID(ctx, c.HouseholdID)
	if err != nil {
		return ObjectionResult{}, err
	}
	res := ObjectionResult{Objection: o}
	last, err := a.db().LastClaimEntry(ctx, c.ID)
	if err != nil {
		return res, err
	}
	if uphold {
		d := storage.ClaimDecision{Status: storage.ClaimRejected, At: now, By: actor.PersonID, Decider: name,
			Reason: cut(pt.T("objection.upheld_reason", "reason", o.Reason), 500), FromState: storage.ClaimApproved}
		if _, err := a.db().DecideClaim(ctx, c.ID, d); err != nil {
			return res, err
		}
	} else {
		e := last
		e.ID, e.Kind, e.Reverses = 0, last.Kind, nil
		e.RecordedAt, e.Note, e.Actor = now, pt.T("objection.dismissed_note"), actor.Label
		if last.EffectiveAt.Before(now) {
			e.EffectiveAt = now
		}
		if actor.PersonID != 0 {
			e.RecordedBy = &actor.PersonID
		}
		if e.ID, err = a.db().AppendPointEntry(ctx, e); err != nil {
			return res, err
		}
		res.Entry = &e
	}
	if c, err = a.db().ClaimByID(ctx, c.ID); err != nil {
		return res, err
	}
	res.Claim = c
	id := strconv.FormatInt(c.ID, 10)
	footer := pt.T("objection.footer_upheld", "name", esc(name), "time", a.clock(now), "id", id)
	if !uphold {
		footer = pt.T("objection.footer_dismissed", "name", esc(name), "time", a.clock(now), "id", id, "effective", a.clock(res.Entry.EffectiveAt))
	}
	for _, key := range o.CardKeys {
		if err := a.db().Enqueue(ctx, storage.OutMessage{DedupeKey: key + ":decided", ChatID: cardChat(key), Priority: storage.PriorityDefault,
			Kind: "objection_card_edit", Method: "editMessageText", Payload: map[string]any{"edit_of": key, "parse_mode": "HTML",
				"text": a.objectionCardText(c, hh, o, last.EffectiveAt) + "\n\n" + footer}}); err != nil {
			return res, err
		}
	}
	item := esc(PointsText(c))
	told := pt.T("objection.told_upheld", "id", id, "item", item)
	household := pt.T("objection.household_upheld", "id", id, "item", item)
	if !uphold {
		told = pt.T("objection.told_dismissed", "id", id, "item", item)
		household = pt.T("objection.household_dismissed", "id", id, "item", item, "effective", a.clock(res.Entry.EffectiveAt))
	}
	if err := a.tellPerson(ctx, derefID(o.PersonID), fmt.Sprintf("objection:%d:objector", o.ID), told); err != nil {
		return res, err
	}
	if err := a.tellHousehold(ctx, c.HouseholdID, fmt.Sprintf("objection:%d:decided", o.ID), household); err != nil {
		return res, err
	}
	if err := a.db().AppendEvent(ctx, "claim.decided", c.VillageID, claimEvent(c, hh, res.Entry)); err != nil {
		return res, err
	}
	return res, a.Audit(ctx, actor, "objection.decide", subject, true, map[string]any{"claim": c.ID, "status": status})
}

var objectionWords = map[string]string{storage.ObjectionOpen: pt.T("objection_status.open"), storage.ObjectionUpheld: pt.T("objection_status.upheld"),
	storage.ObjectionDismissed: pt.T("objection_status.dismissed")}

// PublicityCron is when the daily 公示 list job runs: hourly from 09:00 to
// 20:00; the first run of a working day outside quiet hours posts the day's
// list (once a day per village: its dedupe key), a day off posts none.
const PublicityCron = "0 9-20 * * *"

// PublicityResult says what one run of the daily 公示 list did.
type PublicityResult struct {
	Posted int // villages whose list was posted
	Held   string
}

// PostPublicity posts the daily 公示 list to every village's villagers'
// group (its bound group when it has no villagers' group): the villagers'
// claims approved and still in 公示, with how to object. Deductions and
// vetoes are a household's matter and not listed. A day off posts nothing
// (the claims are still listed the next working day), nor do quiet hours;
// once per village and day (the dedupe key). The system's job, or the
// operator's.
func (a Service) PostPublicity(ctx context.Context, actor domain.Actor, now time.Time) (res PublicityResult, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { res, err = Of(tx).postPublicity(ctx, actor, now); return err })
	return res, err
}

// postPublicity is PostPublicity in the transaction PostPublicity opens.
func (a Service) postPublicity(ctx context.Context, actor domain.Actor, now time.Time) (PublicityResult, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.RunJobs, "points.publicity"); err != nil {
		return PublicityResult{}, err
	}
	rules, err := a.sendRules(ctx)
	if err != nil {
		return PublicityResult{}, err
	}
	if held := rules.Hold(now, a.Loc); held != "" {
		return PublicityResult{Held: held}, nil
	}
	gs, err := a.db().PublicGroups(ctx)
	if err != nil {
		return PublicityResult{}, err
	}
	var res PublicityResult
	day := now.In(a.Loc)
	for _, g := range gs {
		if g.Unreachable {
			continue
		}
		cs, err := a.db().InPublicity(ctx, g.UnitID, now)
		if err != nil {
			return res, err
		}
		if len(cs) == 0 {
			continue
		}
		v, err := a.db().UnitByID(ctx, g.UnitID)
		if err != nil {
			return res, err
		}
		var b strings.Builder
		b.WriteString(pt.T("publicity.head", "village", esc(v.Name), "month", strconv.Itoa(int(day.Month())), "day", strconv.Itoa(day.Day())))
		labels := map[int64]string{}
		for _, c := range cs {
			label, ok := labels[c.HouseholdID]
			if !ok {
				hh, err := a.db().HouseholdByID(ctx, c.HouseholdID)
				if err != nil {
					return res, err
				}
				label = hh.Label()
				labels[c.HouseholdID] = label
			}
			until := ""
			if c.EffectiveAt != nil {
				until = pt.T("publicity.until", "day", a.day(*c.EffectiveAt))
			}
			b.WriteString(pt.T("publicity.line", "id", strconv.FormatInt(c.ID, 10), "household", esc(label), "item", esc(PointsText(c)), "until", until))
		}
		b.WriteString(pt.T("publicity.how"))
		err = a.db().Enqueue(ctx, storage.OutMessage{DedupeKey: fmt.Sprintf("publicity:%d:%s", g.UnitID, day.Format(time.DateOnly)),
			ChatID: g.ChatID, Priority: storage.PriorityRanking, Kind: "publicity",
			Payload: map[string]any{"text": b.String(), "parse_mode": "HTML"}})
		if err != nil {
			return res, err
		}
		res.Posted++
	}
	return res, nil
}

// sendRules are the health check's quiet hours and calendar (SPEC §7.2),
// which the points' group posts keep too.
func (a Service) sendRules(ctx context.Context) (health.Rules, error) {
	rules, err := healthcheck.Of(a.App).HealthRules()
	if err != nil {
		return rules, err
	}
	rules.Calendar, err = healthcheck.Of(a.App).Calendar(ctx)
	return rules, err
}
