package checkin

// Free text (SPEC §7.3): a message that is not a command but names an
// activity (from a secretary) or a catalogue item (from a villager) is read
// (domain/command ReadCheckin, ReadClaim), kept as pending free text, and
// recorded only when its sender taps 确认. 修改 gives the command form to
// edit and send; 取消 drops it; the sender's reply to a check-in's card
// corrects the reading (CorrectCheckinText). A reading is kept 24 hours.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

// textTTL is how long a reading of free text waits for 确认.
const textTTL = 24 * time.Hour

// TextCheckin is a check-in read from free text, as kept until 确认.
type TextCheckin struct {
	Request Request `json:"request"`
	// MakeUp is the period a 补开11月 asks for (its label), "" when none;
	// it is shown, the check-in is filed by its date.
	MakeUp string `json:"makeup,omitempty"`
	// Command is the check-in command that records it (for 修改).
	Command string `json:"command"`
	// DateWritten and TopicToConfirm are the reading's (command.Reading), so
	// that a correction shows the card as it was read.
	DateWritten    bool `json:"date_written,omitempty"`
	TopicToConfirm bool `json:"topic_to_confirm,omitempty"`
}

// reading is the reading kept, as command.Correct reads a correction of it.
func (tc TextCheckin) reading() command.Reading {
	q := tc.Request
	r := command.Reading{Obligations: q.Obligations, Date: q.Date, DateWritten: tc.DateWritten, Present: q.Present, Total: q.Total,
		Topic: q.Topic, TopicToConfirm: tc.TopicToConfirm}
	switch mu := q.MakeUp; {
	case mu == nil:
	case mu.Month != 0:
		r.MakeUp = health.Period{Rec: health.Monthly, Year: mu.Year, N: mu.Month}
	case mu.Quarter != 0:
		r.MakeUp = health.Period{Rec: health.Quarterly, Year: mu.Year, N: mu.Quarter}
	}
	return r
}

// TextClaim is a claim read from free text, as kept until 确认.
type TextClaim struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Points int    `json:"points"`
	Note   string `json:"note"`
	Photo  string `json:"photo,omitempty"`
	// MediaGroupID is the Telegram album the claim was written under, so
	// that the album is read once.
	MediaGroupID string `json:"media_group_id,omitempty"`
}

// TextMessage is where free text came from.
type TextMessage struct {
	ChatID, MessageID int64
	InGroup           bool
	Text              string
	Photo             string // the largest photo's file id, "" when none
	MediaGroupID      string
}

// ReadingView is a reading shown for confirmation.
type ReadingView struct {
	Reading     command.Reading
	Activities  []string // the obligations' names
	Periods     []string // per activity: the period it counts for, in Chinese
	Day         string   // 2026年11月20日
	MakeUp      string   // 2026年11月, "" when none
	Command     string   // 打卡 支委会 11月20日 7/9 学习全会精神
	PendingID   int64    // 0 when the reading is unsure and nothing was kept
	HasEvidence bool
	// Album is set when the text came as the caption of an album: its
	// photos are kept with the check-in.
	Album bool
}

// ReadCheckinText reads a secretary's free text for a check-in and, when
// every field is sure, keeps it for the sender's 确认. ok is false when the
// text is no check-in or the sender may not check in there: the bot then
// stays silent. In a group only a secretary of the branch the group is bound
// to (or an admin over it) is heard.
func (a Service) ReadCheckinText(ctx context.Context, actor domain.Actor, msg TextMessage) (ReadingView, bool, error) {
	return readInTx(ctx, a, func(tx Service) (ReadingView, bool, error) { return tx.readCheckinText(ctx, actor, msg) })
}

// readInTx runs read, a reading of free text, in the transaction it opens.
func readInTx[V any](ctx context.Context, a Service, read func(Service) (V, bool, error)) (v V, ok bool, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { v, ok, err = read(Of(tx)); return err })
	return v, ok, err
}

// readCheckinText is ReadCheckinText in the transaction ReadCheckinText opens.
func (a Service) readCheckinText(ctx context.Context, actor domain.Actor, msg TextMessage) (ReadingView, bool, error) {
	if actor.PersonID == 0 || checkinGate(actor) != nil {
		return ReadingView{}, false, nil
	}
	if msg.InGroup {
		unitID, bound, err := a.boundUnitID(ctx, msg.ChatID)
		if err != nil || !bound {
			return ReadingView{}, false, err
		}
		u, err := a.db().UnitByID(ctx, unitID)
		if err != nil || u.Kind != domain.KindBranch || !mayCheckinFor(actor, u) {
			return ReadingView{}, false, err
		}
	}
	m := healthcheck.Of(a.App).ObligationMatcher()
	now := a.Now()
	r, ok := command.ReadCheckin(msg.Text, now, a.Loc, m)
	if !ok {
		return ReadingView{}, false, nil
	}
	if read, err := a.albumRead(ctx, msg); read || err != nil {
		return ReadingView{}, false, err
	}
	v, err := a.checkinView(ctx, r, m, now, msg.Photo != "", msg.MediaGroupID != "")
	if err != nil {
		return ReadingView{}, false, err
	}
	if !r.Sure() {
		return v, true, nil // asked, not kept
	}
	req := Request{Obligations: r.Obligations, Date: r.Date, Present: r.Present, Total: r.Total, Topic: r.Topic,
		ChatID: msg.ChatID, InGroup: msg.InGroup, MessageID: msg.MessageID, Source: SourceTelegram, MediaGroupID: msg.MediaGroupID}
	if msg.Photo != "" {
		req.Evidence = []string{msg.Photo}
	}
	switch mp := r.MakeUp; mp.Rec {
	case health.Monthly:
		req.MakeUp = &health.MakeUp{Year: mp.Year, Month: mp.N}
	case health.Quarterly:
		req.MakeUp = &health.MakeUp{Year: mp.Year, Quarter: mp.N}
	}
	id, err := a.db().SavePendingText(ctx, storage.PendingText{ChatID: msg.ChatID, MessageID: msg.MessageID, PersonID: actor.PersonID,
		Kind: storage.PendingTextCheckin, CreatedAt: now}, TextCheckin{Request: req, MakeUp: v.MakeUp, Command: v.Command,
		DateWritten: r.DateWritten, TopicToConfirm: r.TopicToConfirm})
	if err != nil {
		return ReadingView{}, false, err
	}
	v.PendingID = id
	return v, true, nil
}

// checkinView is reading r shown for confirmation (not kept: PendingID 0);
// photo and album say what came with the text.
func (a Service) checkinView(ctx context.Context, r command.Reading, m *command.Matcher, now time.Time, photo, album bool) (ReadingView, error) {
	v := ReadingView{Reading: r, Day: texts.FreeText.T("checkin.day", "year", strconv.Itoa(r.Date.Year()),
		"month", strconv.Itoa(int(r.Date.Month())), "day", strconv.Itoa(r.Date.Day())),
		Command: command.CheckinCommand(r, now, a.Loc, m), HasEvidence: photo, Album: album}
	if r.MakeUp.Valid() {
		v.MakeUp = r.MakeUp.Label()
	}
	cal, err := healthcheck.Of(a.App).Calendar(ctx)
	if err != nil {
		return ReadingView{}, err
	}
	for _, code := range r.Obligations {
		ob, _ := healthcheck.Of(a.App).Obligation(code)
		v.Activities = append(v.Activities, ob.Name)
		if r.MakeUp.Valid() && r.MakeUp.Rec == ob.Recurs {
			v.Periods = append(v.Periods, texts.FreeText.T("checkin.period.makeup", "period", r.MakeUp.Label()))
			continue
		}
		v.Periods = append(v.Periods, periodsText(health.CheckinCandidates(ob, r.Date, 0, a.Loc, cal)))
	}
	return v, nil
}

// boundUnitID returns the unit the group chatID is bound to; bound is false
// when it is bound to none, and its free text then goes unread.
func (a Service) boundUnitID(ctx context.Context, chatID int64) (unitID int64, bound bool, err error) {
	g, err := a.db().GroupByChat(ctx, chatID)
	if errors.Is(err, domain.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return g.UnitID, true, nil
}

// albumRead reports whether msg is the caption of an album another caption
// of which was already read: an album is read once (SPEC §7.3), its photos
// join what that reading records.
func (a Service) albumRead(ctx context.Context, msg TextMessage) (bool, error) {
	if msg.MediaGroupID == "" {
		return false, nil
	}
	return a.db().AlbumHasPendingText(ctx, msg.ChatID, msg.MediaGroupID)
}

// mayCheckinFor reports whether actor is the secretary of branch u: in a
// group bound to a branch, only its secretaries' free text is read.
func mayCheckinFor(actor domain.Actor, u domain.Unit) bool {
	return actor.Has(domain.RoleSecretary, u.ID)
}

// periodsText names the periods a check-in may count for: one, or the
// oldest open one first ("2025年度，已完成则计入2026年度").
func periodsText(ps []health.Period) string {
	switch len(ps) {
	case 0:
		return ""
	case 1:
		return ps[0].Label()
	}
	return texts.FreeText.T("checkin.period.either", "first", ps[0].Label(), "last", ps[len(ps)-1].Label())
}

// ClaimReadingView is a villager's free-text claim shown for confirmation.
type ClaimReadingView struct {
	Item      *points.Item               // the item named; nil when candidates are offered
	Choice    *villagepoints.ClaimChoice // the candidates, kept as a draft for the item buttons
	Note      string
	PendingID int64
	// NeedsPhoto says why the item cannot be claimed without a photo ("" when
	// it can): nothing is kept, the villager is asked to send one.
	NeedsPhoto string
}

// ReadClaimText reads a villager's free text for a claim. One item named:
// it is kept for the sender's 确认. Several it may be: a draft claim offers
// them as buttons (as /claim does). ok is false when the text claims nothing
// or the sender is no villager of the village the group is bound to.
func (a Service) ReadClaimText(ctx context.Context, actor domain.Actor, msg TextMessage) (ClaimReadingView, bool, error) {
	return readInTx(ctx, a, func(tx Service) (ClaimReadingView, bool, error) { return tx.readClaimText(ctx, actor, msg) })
}

// readClaimText is ReadClaimText in the transaction ReadClaimText opens.
func (a Service) readClaimText(ctx context.Context, actor domain.Actor, msg TextMessage) (ClaimReadingView, bool, error) {
	if actor.PersonID == 0 || len(actor.UnitsWith(domain.RoleVillager)) == 0 {
		return ClaimReadingView{}, false, nil
	}
	hh, err := villagepoints.Of(a.App).VillagerHousehold(ctx, actor)
	var ue *domain.UserError
	if errors.As(err, &ue) {
		return ClaimReadingView{}, false, nil
	}
	if err != nil {
		return ClaimReadingView{}, false, err
	}
	if msg.InGroup {
		unitID, bound, err := a.boundUnitID(ctx, msg.ChatID)
		if err != nil || !bound || unitID != hh.VillageID {
			return ClaimReadingView{}, false, err
		}
	}
	items, err := villagepoints.Of(a.App).CatalogFor(ctx, hh.VillageID)
	if err != nil {
		return ClaimReadingView{}, false, err
	}
	cr, ok := command.ReadClaim(items, msg.Text)
	if !ok {
		return ClaimReadingView{}, false, nil
	}
	if read, err := a.albumRead(ctx, msg); read || err != nil {
		return ClaimReadingView{}, false, err
	}
	now := a.Now()
	v := ClaimReadingView{Item: cr.Item, Note: cr.Note}
	if cr.Item == nil {
		codes := make([]string, len(cr.Candidates))
		for i, it := range cr.Candidates {
			codes[i] = it.Code
		}
		var photo *string
		if msg.Photo != "" {
			photo = &msg.Photo
		}
		id, err := a.db().InsertDraft(ctx, storage.ClaimDraft{PersonID: actor.PersonID, ChatID: msg.ChatID,
			Query: cr.Note, Note: cr.Note, Photo: photo, Candidates: codes, CreatedAt: now})
		if err != nil {
			return ClaimReadingView{}, false, err
		}
		v.Choice = &villagepoints.ClaimChoice{DraftID: id, Items: cr.Candidates}
		return v, true, nil
	}
	if r := points.CheckEvidence(*cr.Item, msg.Photo != ""); r != nil {
		v.NeedsPhoto = strings.ReplaceAll(villagepoints.RuleText(r), "申报命令", texts.FreeText.T("claim.photo_command"))
		return v, true, nil
	}
	id, err := a.db().SavePendingText(ctx, storage.PendingText{ChatID: msg.ChatID, MessageID: msg.MessageID, PersonID: actor.PersonID,
		Kind: storage.PendingTextClaim, CreatedAt: now},
		TextClaim{Code: cr.Item.Code, Name: cr.Item.Name, Points: cr.Item.Points, Note: cr.Note, Photo: msg.Photo, MediaGroupID: msg.MediaGroupID})
	if err != nil {
		return ClaimReadingView{}, false, err
	}
	v.PendingID = id
	return v, true, nil
}

// TextOutcome is what a tap on a reading's button did.
type TextOutcome struct {
	Kind    string // storage.PendingTextCheckin or storage.PendingTextClaim
	Action  string // callback.TextConfirm, TextEdit or TextCancel
	Checkin *Result
	// Choose is set when a secretary of several branches confirmed in a
	// private chat: the request goes on to the branch keyboard.
	Choose *app.ErrChooseBranch
	// ChoosePeriod is set when a red period of the activity is open: the
	// request goes on to the period keyboard (补开 or this period).
	ChoosePeriod *ErrChoosePeriod
	Request      Request
	Claim        *storage.Claim
	Command      string // for 修改: the command to edit and send
}

// ActOnText applies a tap on a reading's button. Only its sender may tap,
// once; a refusal of the record itself (a date before the branch's start …)
// leaves the reading pending.
func (a Service) ActOnText(ctx context.Context, actor domain.Actor, pendingID int64, action string) (TextOutcome, error) {
	var out TextOutcome
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		p, err := Of(a).db().LockPendingText(ctx, pendingID)
		if errors.Is(err, domain.ErrNotFound) {
			return domain.Refuse(domain.ErrNotFound, "%s", texts.FreeText.T("refuse.gone"))
		}
		if err != nil {
			return err
		}
		now := a.Now()
		switch {
		case p.PersonID != actor.PersonID || actor.PersonID == 0:
			// Someone else's button (another member's tap, forwarded or forged): audited.
			action := "checkin.record"
			if p.Kind == storage.PendingTextClaim {
				action = "claim.submit"
			}
			return a.Refused(ctx, actor, action, "freetext:"+strconv.FormatInt(pendingID, 10),
				domain.Refuse(domain.ErrForbidden, "%s", texts.FreeText.T("refuse.not_sender")))
		case p.UsedAt != nil:
			return domain.Refuse(domain.ErrConflict, "%s", texts.FreeText.T("refuse.used"))
		case now.Sub(p.CreatedAt) > textTTL:
			return domain.Refuse(domain.ErrInvalid, "%s", texts.FreeText.T("refuse.expired"))
		}
		out.Kind, out.Action = p.Kind, action
		outcome := map[string]string{callback.TextConfirm: "confirmed", callback.TextEdit: "edit", callback.TextCancel: "cancelled"}[action]
		if outcome == "" {
			return fmt.Errorf("app: pending text %d: unknown action %q", pendingID, action)
		}
		switch p.Kind {
		case storage.PendingTextCheckin:
			var tc TextCheckin
			if err := json.Unmarshal(p.Reading, &tc); err != nil {
				return fmt.Errorf("app: pending text %d: %w", pendingID, err)
			}
			out.Command, out.Request = tc.Command, tc.Request
			if action == callback.TextConfirm {
				res, err := Of(a).recordCheckin(ctx, actor, tc.Request)
				var choose *app.ErrChooseBranch
				var period *ErrChoosePeriod
				switch {
				case errors.As(err, &choose):
					out.Choose = choose
				case errors.As(err, &period):
					out.ChoosePeriod = period
				case err != nil:
					return err
				default:
					out.Checkin = &res
				}
			}
		case storage.PendingTextClaim:
			var tc TextClaim
			if err := json.Unmarshal(p.Reading, &tc); err != nil {
				return fmt.Errorf("app: pending text %d: %w", pendingID, err)
			}
			out.Command = strings.TrimSpace("申报 " + tc.Code + " " + tc.Note)
			if action == callback.TextConfirm {
				res, err := villagepoints.Of(a).SubmitClaim(ctx, actor, villagepoints.ClaimRequest{Words: append([]string{tc.Code}, strings.Fields(tc.Note)...),
					Photo: tc.Photo, ChatID: p.ChatID})
				if err != nil {
					return err
				}
				if res.Claim == nil {
					return domain.Refuse(domain.ErrNotFound, "%s", texts.FreeText.T("refuse.item_gone"))
				}
				out.Claim = res.Claim
			}
		default:
			return fmt.Errorf("app: pending text %d: kind %q", pendingID, p.Kind)
		}
		_, err = Of(a).db().UsePendingText(ctx, pendingID, outcome, now)
		return err
	})
	return out, err
}

// TextCard is the bot's message a reply answers: its Telegram message id,
// and the pending free text its buttons name (0 when it has none: a card
// whose buttons are gone is found by its message id).
type TextCard struct {
	MessageID, PendingID int64
}

// CorrectCheckinText applies msg, a reply to card, when that is the card of
// a pending free-text check-in (SPEC §7.3): the reading corrected
// (command.Correct) is kept for 确认 again and returned to show on the card.
// Only its sender may correct it, while it waits; a reply to a card already
// confirmed, cancelled, edited or expired is refused with what to do. ok is
// false when card is no check-in card of the chat, or when someone else's
// reply corrects nothing (chatter under the card).
func (a Service) CorrectCheckinText(ctx context.Context, actor domain.Actor, msg TextMessage, card TextCard) (ReadingView, bool, error) {
	var v ReadingView
	var ok bool
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		id := card.PendingID
		if id == 0 {
			var err error
			if id, err = Of(a).db().PendingTextOfCard(ctx, msg.ChatID, card.MessageID); errors.Is(err, domain.ErrNotFound) {
				return nil
			} else if err != nil {
				return err
			}
		}
		p, err := Of(a).db().LockPendingText(ctx, id)
		if errors.Is(err, domain.ErrNotFound) || err == nil && (p.Kind != storage.PendingTextCheckin || p.ChatID != msg.ChatID) {
			return nil
		}
		if err != nil {
			return err
		}
		var tc TextCheckin
		if err := json.Unmarshal(p.Reading, &tc); err != nil {
			return fmt.Errorf("app: pending text %d: %w", id, err)
		}
		m, now := healthcheck.Of(a).ObligationMatcher(), a.Now()
		r, how := command.Correct(tc.reading(), msg.Text, now, a.Loc, m)
		if p.PersonID != actor.PersonID || actor.PersonID == 0 {
			if how != command.CorrectedFields {
				return nil // a remark under the card, not a correction
			}
			return a.Refused(ctx, actor, "checkin.record", storage.PendingTextKey(id),
				domain.Refuse(domain.ErrForbidden, "%s", texts.FreeText.T("correct.not_sender")))
		}
		switch {
		case p.UsedAt != nil:
			key := "correct.edited"
			if p.Outcome != nil && *p.Outcome != "edit" {
				key = "correct." + *p.Outcome // confirmed, cancelled
			}
			return domain.Refuse(domain.ErrConflict, "%s", texts.FreeText.T(key))
		case now.Sub(p.CreatedAt) > textTTL:
			return domain.Refuse(domain.ErrInvalid, "%s", texts.FreeText.T("refuse.expired"))
		case how == command.NoCorrection:
			return domain.Refuse(domain.ErrInvalid, "%s", texts.FreeText.T("correct.unread"))
		case !r.Sure():
			qs := make([]string, len(r.Unsure))
			for i, u := range r.Unsure {
				qs[i] = texts.FreeText.T("checkin.unsure.question", "question", app.Say(u.Question))
			}
			return domain.Refuse(domain.ErrInvalid, "%s", texts.FreeText.T("correct.unsure", "questions", strings.Join(qs, "\n")))
		}
		tc.Request.Date, tc.Request.Present, tc.Request.Total, tc.Request.Topic = r.Date, r.Present, r.Total, r.Topic
		tc.Command, tc.DateWritten, tc.TopicToConfirm = command.CheckinCommand(r, now, a.Loc, m), r.DateWritten, r.TopicToConfirm
		if _, err := Of(a).db().UpdatePendingText(ctx, id, tc); err != nil {
			return err
		}
		if v, err = Of(a).checkinView(ctx, r, m, now, len(tc.Request.Evidence) > 0, tc.Request.MediaGroupID != ""); err != nil {
			return err
		}
		v.PendingID, ok = id, true
		return nil
	})
	return v, ok && err == nil, err
}
