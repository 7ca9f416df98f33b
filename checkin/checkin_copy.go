package checkin

// Organiser copies of check-ins (SPEC §3): when checkins.organiser_copies is
// on, every accepted check-in (extra records too) is copied, in the
// transaction that records it, to the organisers of the nearest unit above
// the branch that has organisers, the same level the health notices go to
// first. Organisers without a linked, reachable private chat are skipped.
// The copy carries a 驳回 button ("cir:<check-in id>"); tapping it asks for
// the reason as /reject <id> <理由>, which RejectCheckin then applies.

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/storage"
)

// copyOrganisers returns the organisers of the nearest unit above the
// branch that has any (linked or not), nearest first in the unit's order.
func (a Service) copyOrganisers(ctx context.Context, branch domain.Unit) ([]storage.Holder, error) {
	anc, err := a.db().Ancestors(ctx, branch.ID)
	if err != nil || len(anc) == 0 {
		return nil, err
	}
	// One query for the organisers of the whole tree under the top ancestor;
	// organisers are few.
	hs, err := a.db().HoldersInSubtree(ctx, anc[0].ID, domain.RoleOrganiser, false)
	if err != nil {
		return nil, err
	}
	for _, u := range slices.Backward(anc) {
		var out []storage.Holder
		for _, h := range hs {
			if h.UnitID == u.ID {
				out = append(out, h)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, nil
}

// enqueueCheckinCopies sends the organiser copies of an accepted check-in
// when the configuration turns them on. The recorder gets none (they have
// the confirmation), nor does anyone twice.
func (a Service) enqueueCheckinCopies(ctx context.Context, actor domain.Actor, r Result) error {
	if !a.Cfg.Checkins.OrganiserCopies {
		return nil
	}
	orgs, err := a.copyOrganisers(ctx, r.Branch)
	if err != nil {
		return err
	}
	var text string
	seen := map[int64]bool{}
	for _, h := range orgs {
		if h.ChatID == nil || h.Unreachable || seen[h.PersonID] || h.PersonID == actor.PersonID {
			continue
		}
		seen[h.PersonID] = true
		if text == "" {
			text = a.CheckinCopy(r)
		}
		err := a.db().Enqueue(ctx, storage.OutMessage{
			DedupeKey: fmt.Sprintf("cicopy:%d:%d", r.Checkin.ID, h.PersonID),
			ChatID:    *h.ChatID, PersonID: h.PersonID, Priority: storage.PriorityDefault, Kind: "checkin_copy",
			Payload: map[string]any{"text": text, "parse_mode": "HTML",
				"link_preview_options": map[string]any{"is_disabled": true},
				"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{
					{"text": ck.T("copy.button_reject"), "callback_data": callback.Reject(r.Checkin.ID)},
				}}}},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckinCopy is the text of an organiser's copy of a check-in.
func (a Service) CheckinCopy(r Result) string {
	var b strings.Builder
	c := r.Checkin
	writeCheckinHead(&b, r, "copy")
	if c.Total == nil {
		b.WriteString(ck.T("copy.attendance_none"))
	}
	if c.Topic != "" {
		b.WriteString(ck.T("copy.topic", "topic", html.EscapeString(c.Topic)))
	} else {
		b.WriteString(ck.T("copy.topic_none"))
	}
	if n := len(c.Evidence); n > 0 {
		b.WriteString(ck.T("copy.photos", "count", itoa(n)))
	} else {
		b.WriteString(ck.T("copy.photos_none"))
	}
	by := ck.T("copy.by_interface")
	if c.RecordedByName != nil && *c.RecordedByName != "" {
		by = *c.RecordedByName
	}
	b.WriteString(ck.T("copy.by", "name", html.EscapeString(by)))
	b.WriteString(ck.T("copy.tail", "id", id64(c.ID)))
	return b.String()
}

// RejectPrompt checks that the actor may reject check-in id from the
// button on a copy, and returns the check-in. Refusals (audited) say why:
// not an organiser or admin above the branch, no such check-in, already
// withdrawn or rejected. Nothing changes.
func (a Service) RejectPrompt(ctx context.Context, actor domain.Actor, id int64) (storage.Checkin, error) {
	const action = "checkin.reject_prompt"
	subject := "checkin:" + strconv.FormatInt(id, 10)
	refuse := func(err error) (storage.Checkin, error) {
		return storage.Checkin{}, a.Refused(ctx, actor, action, subject, err)
	}
	if actor.PersonID == 0 && len(actor.Roles) == 0 {
		return refuse(errNotLinked)
	}
	forbidden := domain.Refuse(domain.ErrForbidden, "%s", ck.T("refuse.reject_forbidden"))
	if !access.MayAnywhere(actor, access.RejectCheckin) {
		return refuse(forbidden)
	}
	c, _, err := a.rejectable(ctx, actor, id)
	var ue *domain.UserError
	if errors.As(err, &ue) {
		return refuse(err)
	}
	return c, err
}

// rejectable reads check-in id and its branch for a rejection by actor.
// The error is a *domain.UserError, saying why, when there is no such
// check-in, the actor is not an organiser or admin above its branch, or it
// is withdrawn or rejected already.
func (a Service) rejectable(ctx context.Context, actor domain.Actor, id int64) (storage.Checkin, domain.Unit, error) {
	c, err := a.db().CheckinByID(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return c, domain.Unit{}, domain.Refuse(domain.ErrNotFound, "%s", ck.T("refuse.reject_no_such", "id", id64(id)))
	}
	if err != nil {
		return c, domain.Unit{}, err
	}
	branch, err := a.db().UnitByID(ctx, c.BranchID)
	if err != nil {
		return c, branch, err
	}
	ok, err := a.Can(ctx, actor, access.RejectCheckin, branch.ID)
	switch {
	case err != nil:
		return c, branch, err
	case !ok:
		return c, branch, domain.Refuse(domain.ErrForbidden, "%s", ck.T("refuse.reject_not_above", "branch", branch.Name))
	case c.WithdrawnAt != nil:
		return c, branch, domain.Refuse(domain.ErrConflict, "%s", ck.T("refuse.reject_withdrawn", "id", id64(id)))
	case c.RejectedAt != nil:
		return c, branch, domain.Refuse(domain.ErrConflict, "%s", ck.T("refuse.reject_rejected", "id", id64(id), "at", c.RejectedAt.In(a.Loc).Format("2006-01-02 15:04")))
	}
	return c, branch, nil
}

// RejectPromptText asks for the reason of a rejection.
func (a Service) RejectPromptText(c storage.Checkin) string {
	return ck.T("reject.prompt", "branch", html.EscapeString(c.BranchName), "id", id64(c.ID),
		"items", html.EscapeString(itemNames(a, c)), "day", c.HeldOn)
}
