package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
)

// acct is what the accounts use cases say (internal/texts/accounts.yaml).
var acct = texts.Accounts

// codeAlphabet leaves out look-alike characters so a code can be read aloud.
const codeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func randomCode(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("app: random code: %w", err)
	}
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b), nil
}

// Hash is how codes and tokens are stored: never in clear.
func Hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// ActorByTelegram resolves a Telegram user to an Actor; an unlinked user is
// an Actor with PersonID 0 and no roles.
func (a Service) ActorByTelegram(ctx context.Context, tgUserID int64) (domain.Actor, error) {
	actor := domain.Actor{Label: "tg:" + strconv.FormatInt(tgUserID, 10)}
	pid, err := a.db().PersonByTelegram(ctx, tgUserID)
	if errors.Is(err, domain.ErrNotFound) {
		return actor, nil
	}
	if err != nil {
		return actor, err
	}
	roles, err := a.db().RolesOf(ctx, pid)
	if err != nil {
		return actor, err
	}
	actor.PersonID, actor.Roles = pid, roles
	return actor, nil
}

// NewBindCode creates a fresh single-use bind code for a person: the
// bootstrap of a first account, the operator's like Invite. An admin's door
// is IssueBindCode, which checks the person's roles.
func (a Service) NewBindCode(ctx context.Context, actor domain.Actor, personID int64) (code string, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error {
		if err := tx.AuthoriseGlobal(ctx, actor, access.ImportData, "bind.code"); err != nil {
			return err
		}
		code, err = Of(tx).newBindCode(ctx, personID)
		return err
	})
	return code, err
}

// newBindCode is the step of the use cases that issue codes, once they
// have authorised the actor.
func (a Service) newBindCode(ctx context.Context, personID int64) (string, error) {
	code, err := randomCode(12)
	if err != nil {
		return "", err
	}
	if err := a.db().CreateBindCode(ctx, personID, Hash(code), a.Now().Add(a.Cfg.Bind.CodeTTL.D())); err != nil {
		return "", err
	}
	return code, nil
}

// ErrBadBindCode is the one refusal for wrong, used and expired codes.
var ErrBadBindCode = domain.Refuse(domain.ErrNotFound, "%s", acct.T("start.refuse.bad_code"))

// Failed /start attempts are limited per Telegram account (SPEC §7.5):
// after BindFailureLimit failures within BindFailureWindow the account is
// refused until the oldest of them leaves the window.
const (
	BindFailureLimit  = 5
	BindFailureWindow = 15 * time.Minute
	// RelinkTTL is how long the question "move the link here?" may be answered.
	RelinkTTL = time.Hour
)

// ErrConfirmRelink says that the code's person is linked to another
// Telegram account: the new account must confirm the move (RequestID is
// what its buttons carry). The code is used up either way.
type ErrConfirmRelink struct {
	RequestID int64
	Person    domain.Person
}

func (e *ErrConfirmRelink) Error() string {
	return "person linked to another account: confirm the re-link"
}

// RedeemBindCode links the Telegram user to the code's person. When the
// person is linked to another account it links nothing and returns
// *ErrConfirmRelink; ConfirmRelink finishes it. Wrong codes are counted and,
// past BindFailureLimit, refused without being looked at.
func (a Service) RedeemBindCode(ctx context.Context, code string, tgUserID, chatID int64, username string) (p domain.Person, err error) {
	// *ErrConfirmRelink is no refusal: the request it stored commits, for
	// ConfirmRelink to find.
	var relink *ErrConfirmRelink
	err = a.InTxRefusable(ctx, func(tx *app.App) error {
		if p, err = Of(tx).redeemBindCode(ctx, code, tgUserID, chatID, username); errors.As(err, &relink) {
			return nil
		}
		return err
	})
	if err == nil && relink != nil {
		return p, relink
	}
	return p, err
}

// redeemBindCode is RedeemBindCode in the transaction RedeemBindCode opens.
func (a Service) redeemBindCode(ctx context.Context, code string, tgUserID, chatID int64, username string) (domain.Person, error) {
	actor := domain.Actor{Label: "tg:" + strconv.FormatInt(tgUserID, 10)}
	now := a.Now()
	n, oldest, err := a.db().BindFailuresSince(ctx, tgUserID, now.Add(-BindFailureWindow))
	if err != nil {
		return domain.Person{}, err
	}
	if n >= BindFailureLimit {
		retry := oldest.Add(BindFailureWindow).In(a.Loc)
		when := retry.Format("15:04")
		if y, m, d := retry.Date(); y != now.In(a.Loc).Year() || m != now.In(a.Loc).Month() || d != now.In(a.Loc).Day() {
			when = acct.T("start.refuse.when_other_day", "month", strconv.Itoa(int(m)), "day", strconv.Itoa(d), "time", when)
		}
		return domain.Person{}, a.Refused(ctx, actor, "bind.person", "", domain.Refuse(domain.ErrForbidden, "%s",
			acct.T("start.refuse.too_many", "minutes", strconv.Itoa(int(BindFailureWindow/time.Minute)),
				"count", strconv.Itoa(BindFailureLimit), "when", when)))
	}
	pid, err := a.db().ConsumeBindCode(ctx, Hash(code), now)
	if errors.Is(err, domain.ErrNotFound) {
		if err := a.db().RecordBindFailure(ctx, tgUserID, now); err != nil {
			return domain.Person{}, err
		}
		return domain.Person{}, a.Refused(ctx, actor, "bind.person", "", ErrBadBindCode)
	}
	if err != nil {
		return domain.Person{}, err
	}
	p, err := a.db().PersonByID(ctx, pid)
	if err != nil {
		return domain.Person{}, err
	}
	subject := "person:" + strconv.FormatInt(pid, 10)
	cur, err := a.db().ChatOf(ctx, pid)
	switch {
	case errors.Is(err, domain.ErrNotFound):
	case err != nil:
		return domain.Person{}, err
	case cur.TGUserID != tgUserID:
		id, err := a.db().CreateRelinkRequest(ctx, storage.RelinkRequest{PersonID: pid, TGUserID: tgUserID, ChatID: chatID,
			Username: username, CreatedAt: now, ExpiresAt: now.Add(RelinkTTL)})
		if err != nil {
			return domain.Person{}, err
		}
		if err := a.Audit(ctx, actor, "bind.relink_requested", subject, true, map[string]any{"tg_user_id": tgUserID, "request": id}); err != nil {
			return domain.Person{}, err
		}
		return p, &ErrConfirmRelink{RequestID: id, Person: p}
	}
	if err := a.db().LinkChat(ctx, pid, tgUserID, chatID, username); err != nil {
		return domain.Person{}, err
	}
	actor.PersonID = pid
	return p, a.Audit(ctx, actor, "bind.person", subject, true, map[string]any{"tg_user_id": tgUserID})
}

// Relinked is the outcome of a confirmed re-link: the person, and the chat
// of the account the link was taken from (0 if none), to be told.
type Relinked struct {
	Person    domain.Person
	OldChatID int64
}

var errRelinkGone = domain.Refuse(domain.ErrNotFound, "%s", acct.T("relink.refuse.gone"))

// ConfirmRelink answers the re-link question of request id for the Telegram
// user who tapped: confirm moves the person's link to that account, cancel
// leaves the old link as it was. Only the account that redeemed the code
// may answer, once, within RelinkTTL.
func (a Service) ConfirmRelink(ctx context.Context, tgUserID, requestID int64, confirm bool) (res Relinked, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error {
		res, err = Of(tx).confirmRelink(ctx, tgUserID, requestID, confirm)
		return err
	})
	return res, err
}

// confirmRelink is ConfirmRelink in the transaction ConfirmRelink opens.
func (a Service) confirmRelink(ctx context.Context, tgUserID, requestID int64, confirm bool) (Relinked, error) {
	actor := domain.Actor{Label: "tg:" + strconv.FormatInt(tgUserID, 10)}
	subject := "relink:" + strconv.FormatInt(requestID, 10)
	req, err := a.db().LockRelinkRequest(ctx, requestID)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && req.TGUserID != tgUserID) {
		return Relinked{}, a.Refused(ctx, actor, "bind.relink", subject, errRelinkGone)
	}
	if err != nil {
		return Relinked{}, err
	}
	if req.Status != "pending" {
		return Relinked{}, domain.Refuse(domain.ErrConflict, "%s", acct.T("relink.refuse.done"))
	}
	if !a.Now().Before(req.ExpiresAt) {
		return Relinked{}, a.Refused(ctx, actor, "bind.relink", subject, errRelinkGone)
	}
	p, err := a.db().PersonByID(ctx, req.PersonID)
	if err != nil {
		return Relinked{}, err
	}
	if !confirm {
		if err := a.db().FinishRelinkRequest(ctx, req.ID, "cancelled"); err != nil {
			return Relinked{}, err
		}
		return Relinked{Person: p}, a.Audit(ctx, actor, "bind.relink_cancelled", subject, true, map[string]any{"person": req.PersonID})
	}
	var out Relinked
	out.Person = p
	old, err := a.db().ChatOf(ctx, req.PersonID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
	case err != nil:
		return Relinked{}, err
	case old.TGUserID != tgUserID:
		out.OldChatID = old.ChatID
	}
	if err := a.db().LinkChat(ctx, req.PersonID, req.TGUserID, req.ChatID, req.Username); err != nil {
		return Relinked{}, err
	}
	if err := a.db().FinishRelinkRequest(ctx, req.ID, "confirmed"); err != nil {
		return Relinked{}, err
	}
	actor.PersonID = req.PersonID
	details := map[string]any{"tg_user_id": tgUserID, "relinked": true}
	if out.OldChatID != 0 {
		details["old_tg_user_id"] = old.TGUserID
	}
	return out, a.Audit(ctx, actor, "bind.person", "person:"+strconv.FormatInt(req.PersonID, 10), true, details)
}

// groupRoles says which role may bind a group to which kind of unit.
var groupRoles = map[string][]string{
	domain.RoleSecretary: {domain.KindBranch},
	domain.RoleReviewer:  {domain.KindVillage, domain.KindCommunity},
}

// BindableUnits lists the units whose group the actor may bind.
func BindableUnits(actor domain.Actor) []domain.Role {
	var out []domain.Role
	seen := map[int64]bool{}
	for _, r := range actor.Roles {
		for _, k := range groupRoles[r.Role] {
			if r.UnitKind == k && !seen[r.UnitID] {
				seen[r.UnitID] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// ErrChooseUnit asks the sender to name the unit; Units lists the choices.
type ErrChooseUnit struct{ Units []domain.Role }

func (e *ErrChooseUnit) Error() string { return "several units: name one" }

// GroupPurpose is what a group is bound for (SPEC §7.4).
type GroupPurpose string

const (
	// GroupDefault is plain /bind: a branch's group, or a village's
	// reviewers' group.
	GroupDefault GroupPurpose = ""
	// GroupReview is /bind 评议: a village's reviewers' group (claim cards).
	GroupReview GroupPurpose = "review"
	// GroupPublic is /bind 公示: a village's villagers' group (the daily
	// 公示 list, settlements and rankings).
	GroupPublic GroupPurpose = "public"
)

// BindGroup binds a group chat to the sender's branch (secretary) or village
// (reviewer); unitCode picks one when the sender has several. When the group
// was bound to another unit, that unit is returned as replaced.
func (a Service) BindGroup(ctx context.Context, actor domain.Actor, chatID int64, title, unitCode string) (domain.Unit, *domain.Unit, error) {
	return a.BindGroupAs(ctx, actor, chatID, title, unitCode, GroupDefault)
}

// BindGroupAs is BindGroup for a purpose: 评议 and 公示 bind a village's
// reviewers' or villagers' group, by a reviewer of the village. A chat has
// one binding: binding it for one purpose drops the other.
func (a Service) BindGroupAs(ctx context.Context, actor domain.Actor, chatID int64, title, unitCode string, purpose GroupPurpose) (u domain.Unit, replaced *domain.Unit, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error {
		u, replaced, err = Of(tx).bindGroupAs(ctx, actor, chatID, title, unitCode, purpose)
		return err
	})
	return u, replaced, err
}

// bindGroupAs is BindGroupAs in the transaction BindGroupAs opens.
func (a Service) bindGroupAs(ctx context.Context, actor domain.Actor, chatID int64, title, unitCode string, purpose GroupPurpose) (domain.Unit, *domain.Unit, error) {
	subject := "chat:" + strconv.FormatInt(chatID, 10)
	if actor.PersonID == 0 {
		return domain.Unit{}, nil, a.Refused(ctx, actor, "bind.group", subject,
			domain.Refuse(domain.ErrForbidden, "%s", acct.T("refuse.not_linked")))
	}
	units := BindableUnits(actor)
	if purpose != GroupDefault {
		var vs []domain.Role
		for _, r := range units {
			if r.Role == domain.RoleReviewer {
				vs = append(vs, r)
			}
		}
		if len(vs) == 0 {
			return domain.Unit{}, nil, a.Refused(ctx, actor, "bind.group", subject,
				domain.Refuse(domain.ErrForbidden, "%s", acct.T("bind.refuse.not_reviewer")))
		}
		units = vs
	}
	var pick *domain.Role
	switch {
	case unitCode != "":
		for i := range units {
			if units[i].UnitCode == unitCode {
				pick = &units[i]
			}
		}
		if pick == nil {
			return domain.Unit{}, nil, a.Refused(ctx, actor, "bind.group", subject,
				domain.Refuse(domain.ErrForbidden, "%s", acct.T("bind.refuse.not_of_unit", "code", unitCode)))
		}
	case len(units) == 1:
		pick = &units[0]
	case len(units) == 0:
		return domain.Unit{}, nil, a.Refused(ctx, actor, "bind.group", subject,
			domain.Refuse(domain.ErrForbidden, "%s", acct.T("bind.refuse.no_role")))
	default:
		return domain.Unit{}, nil, &ErrChooseUnit{Units: units}
	}
	// A group bound to another unit is re-bound only by someone holding a
	// role at or above that unit (SPEC §7.5); the reply names what it replaced.
	var replaced *domain.Unit
	cur, err := a.db().GroupByChat(ctx, chatID)
	if errors.Is(err, domain.ErrNotFound) {
		cur, err = a.db().PublicGroupByChat(ctx, chatID)
	}
	switch {
	case errors.Is(err, domain.ErrNotFound):
	case err != nil:
		return domain.Unit{}, nil, err
	case cur.UnitID != pick.UnitID:
		old, err := a.db().UnitByID(ctx, cur.UnitID)
		if err != nil {
			return domain.Unit{}, nil, err
		}
		above := false
		for _, r := range actor.Roles {
			ok, err := a.db().InSubtree(ctx, r.UnitID, old.ID)
			if err != nil {
				return domain.Unit{}, nil, err
			}
			if ok {
				above = true
				break
			}
		}
		if !above {
			return domain.Unit{}, nil, a.Refused(ctx, actor, "bind.group", subject, domain.Refuse(domain.ErrForbidden, "%s",
				acct.T("bind.refuse.bound_elsewhere", "unit", old.Name)))
		}
		replaced = &old
	}
	if purpose == GroupPublic {
		if err := a.db().BindPublicGroup(ctx, chatID, pick.UnitID, title, actor.PersonID); err != nil {
			return domain.Unit{}, nil, err
		}
	} else {
		if err := a.db().UnbindPublicChat(ctx, chatID); err != nil {
			return domain.Unit{}, nil, err
		}
		if err := a.db().BindGroup(ctx, chatID, pick.UnitID, title, actor.PersonID); err != nil {
			return domain.Unit{}, nil, err
		}
	}
	u, err := a.db().UnitByID(ctx, pick.UnitID)
	if err != nil {
		return domain.Unit{}, nil, err
	}
	details := map[string]any{"unit": u.Code, "title": title}
	if purpose != GroupDefault {
		details["purpose"] = string(purpose)
	}
	if replaced != nil {
		details["replaced"] = replaced.Code
	}
	return u, replaced, a.Audit(ctx, actor, "bind.group", subject, true, details)
}

// InviteRow is one line of `zhibu invite`.
type InviteRow struct {
	Name, Phone, Role, UnitCode, Code, Link string
}

// Invite issues a fresh bind code to every unlinked person in the subtree of
// unitCode ("" = everyone), one row per role held.
func (a Service) Invite(ctx context.Context, actor domain.Actor, unitCode, botUsername string) ([]InviteRow, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "invite"); err != nil {
		return nil, err
	}
	// One transaction: every code of the listing is issued, or none.
	var rows []InviteRow
	err := a.InTx(ctx, func(a *app.App) (err error) {
		rows, err = Of(a).invite(ctx, unitCode, botUsername)
		return err
	})
	return rows, err
}

func (a Service) invite(ctx context.Context, unitCode, botUsername string) ([]InviteRow, error) {
	var root int64 // 0 = everyone
	if unitCode != "" {
		u, err := a.db().UnitByCode(ctx, unitCode)
		if err != nil {
			return nil, err
		}
		root = u.ID
	}
	holders, err := a.db().HoldersInSubtree(ctx, root, "", true)
	if err != nil {
		return nil, err
	}
	codes := map[int64]string{}
	var rows []InviteRow
	for _, h := range holders {
		code, ok := codes[h.PersonID]
		if !ok {
			if code, err = a.newBindCode(ctx, h.PersonID); err != nil {
				return nil, err
			}
			codes[h.PersonID] = code
		}
		phone := ""
		if h.Phone != nil {
			phone = *h.Phone
		}
		rows = append(rows, InviteRow{Name: h.Name, Phone: phone, Role: h.Role, UnitCode: h.UnitCode, Code: code,
			Link: "https://t.me/" + url.PathEscape(botUsername) + "?start=" + code})
	}
	return rows, nil
}
