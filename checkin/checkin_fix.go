package checkin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/storage"
)

// Change is a withdrawn or rejected check-in and the branch's lights
// afterwards.
type Change struct {
	Checkin storage.Checkin
	Branch  domain.Unit
	Lights  LightsView
	// NotifiedChat is where the secretary was told of a rejection (the
	// branch group, else the recorder's private chat); 0 when nowhere.
	NotifiedChat int64
}

// UndoCheckin withdraws the actor's most recent active check-in if it was
// recorded less than UndoWindow ago (/undo). The check-in is kept, marked
// withdrawn; its obligations count as not done again.
func (a Service) UndoCheckin(ctx context.Context, actor domain.Actor) (Change, error) {
	var res Change
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		const action = "checkin.withdraw"
		if actor.PersonID == 0 {
			return a.Refused(ctx, actor, action, "", errNotLinked)
		}
		c, err := Of(a).db().LastCheckinBy(ctx, actor.PersonID)
		if errors.Is(err, domain.ErrNotFound) {
			return a.Refused(ctx, actor, action, "", domain.Refuse(domain.ErrNotFound, "%s", ck.T("refuse.undo_none")))
		}
		if err != nil {
			return err
		}
		subject := "checkin:" + strconv.FormatInt(c.ID, 10)
		now := a.Now()
		if now.Sub(c.RecordedAt) > UndoWindow {
			return a.Refused(ctx, actor, action, subject, domain.Refuse(domain.ErrForbidden, "%s",
				ck.T("refuse.undo_late", "id", id64(c.ID), "at", c.RecordedAt.In(a.Loc).Format("2006-01-02 15:04"))))
		}
		ok, err := Of(a).db().WithdrawCheckin(ctx, c.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return a.Refused(ctx, actor, action, subject, domain.Refuse(domain.ErrConflict, "%s", ck.T("refuse.undo_gone", "id", id64(c.ID))))
		}
		if c, err = Of(a).db().CheckinByID(ctx, c.ID); err != nil {
			return err
		}
		details := checkinPayload(c)
		if err := a.Audit(ctx, actor, action, subject, true, details); err != nil {
			return err
		}
		if err := Of(a).db().AppendEvent(ctx, "checkin.withdrawn", c.BranchID, details); err != nil {
			return err
		}
		branch, err := Of(a).db().UnitByID(ctx, c.BranchID)
		if err != nil {
			return err
		}
		lights, err := Of(a).lightsView(ctx, branch)
		if err != nil {
			return err
		}
		res = Change{Checkin: c, Branch: branch, Lights: lights}
		return nil
	})
	return res, err
}

// RejectCheckin rejects (驳回) an active check-in with a reason. Only an
// organiser of a unit above the branch, or an admin of the branch or a unit
// above, may. The secretary is told why, in the branch's group when one is
// bound, else privately (the recorder); the obligation's light goes back.
func (a Service) RejectCheckin(ctx context.Context, actor domain.Actor, id int64, reason string) (Change, error) {
	var res Change
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		const action = "checkin.reject"
		subject := "checkin:" + strconv.FormatInt(id, 10)
		refuse := func(err error) error { return a.Refused(ctx, actor, action, subject, err) }
		if actor.PersonID == 0 && len(actor.Roles) == 0 {
			return refuse(errNotLinked)
		}
		if !access.MayAnywhere(actor, access.RejectCheckin) {
			return refuse(domain.Refuse(domain.ErrForbidden, "%s", ck.T("refuse.reject_forbidden")))
		}
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return refuse(domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.reject_no_reason", "id", id64(id))))
		}
		if n := utf8.RuneCountInString(reason); n > maxRejectReason {
			return refuse(domain.Refuse(domain.ErrInvalid, "%s", ck.T("refuse.reject_reason_long", "count", itoa(n), "max", itoa(maxRejectReason))))
		}
		_, branch, err := Of(a).rejectable(ctx, actor, id)
		var ue *domain.UserError
		if errors.As(err, &ue) {
			return refuse(err)
		}
		if err != nil {
			return err
		}
		now := a.Now()
		done, err := Of(a).db().RejectCheckin(ctx, id, actor.PersonID, reason, now)
		if err != nil {
			return err
		}
		if !done {
			return refuse(domain.Refuse(domain.ErrConflict, "%s", ck.T("refuse.reject_raced", "id", id64(id))))
		}
		c, err := Of(a).db().CheckinByID(ctx, id)
		if err != nil {
			return err
		}
		details := checkinPayload(c)
		details["reason"] = reason
		if err := a.Audit(ctx, actor, action, subject, true, details); err != nil {
			return err
		}
		if err := Of(a).db().AppendEvent(ctx, "checkin.rejected", c.BranchID, details); err != nil {
			return err
		}
		lights, err := Of(a).lightsView(ctx, branch)
		if err != nil {
			return err
		}
		res = Change{Checkin: c, Branch: branch, Lights: lights}
		by := actor.Label
		if actor.PersonID != 0 {
			if p, err := Of(a).db().PersonByID(ctx, actor.PersonID); err == nil {
				by = p.Name
			}
		}
		res.NotifiedChat, err = Of(a).notifyRejected(ctx, res, by, reason)
		return err
	})
	return res, err
}

// notifyRejected tells the secretary why a check-in was rejected: in the
// branch's bound group, else in the recorder's private chat. It returns the
// chat (0 when there is none to tell).
func (a Service) notifyRejected(ctx context.Context, ch Change, by, reason string) (int64, error) {
	var chatID, personID int64
	g, err := a.db().GroupOfUnit(ctx, ch.Branch.ID)
	switch {
	case err == nil:
		chatID = g.ChatID
	case !errors.Is(err, domain.ErrNotFound):
		return 0, err
	case ch.Checkin.RecordedBy != nil:
		link, err := a.db().ChatOf(ctx, *ch.Checkin.RecordedBy)
		if errors.Is(err, domain.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		chatID, personID = link.ChatID, link.PersonID
	default:
		return 0, nil
	}
	err = a.db().Enqueue(ctx, storage.OutMessage{
		DedupeKey: fmt.Sprintf("checkin:%d:rejected", ch.Checkin.ID),
		ChatID:    chatID, PersonID: personID, Priority: storage.PriorityRed, Kind: "checkin_rejected",
		Payload: map[string]any{"text": a.RejectedNotice(ch, by, reason), "parse_mode": "HTML",
			"link_preview_options": map[string]any{"is_disabled": true}},
	})
	if err != nil {
		return 0, err
	}
	return chatID, nil
}
