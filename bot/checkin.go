package bot

import (
	"errors"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/internal/texts"
)

// ck is the check-in catalogue (internal/texts/checkin.yaml).
var ck = texts.Checkin

// Check-in commands (SPEC §3):
//
//	/checkin [branch] <obligation>[+<obligation>…] [date] [present/total] [topic…]
//	打卡 … / 签到 …      the same, as plain text
//	/undo               withdraw my last check-in (within 24 hours)
//	/reject <id> <理由>  reject a check-in (organisers above the branch, admins)
//
// A photo whose caption is the command keeps the photo (largest size) as
// evidence; the other photos of the same album (captionless, so no command)
// join it through a message hook. A party group for 党小组会 is named "党小组会@第一党小组".
// A secretary of several branches who checks in privately gets one button
// per branch; the request waits server-side and the buttons carry
// "ci:<pending id>:<branch id>" (well under Telegram's 64 bytes).
//
// A check-in word (打卡, 签到, 纪实) is a command only when followed by the end,
// white space or punctuation (domain/command), so "打卡机坏了" is chatter; a
// message that is a command always gets an answer, in groups too, saying
// what is missing (SPEC §7.3).

// albumPhotoHook keeps a photo of an album with the album's check-in (or
// until the captioned photo creates it). A captionless photo is handled
// here; a captioned one that is no command goes on to the free-text hooks,
// which read it once per album (SPEC §7.3).
func albumPhotoHook(c *Ctx) (bool, error) {
	m := c.Msg
	if m == nil || m.MediaGroupID == "" || len(m.Photo) == 0 {
		return false, nil
	}
	if err := checkin.Of(c.App).AttachAlbumPhoto(c, m.Chat.ID, m.MediaGroupID, largestPhoto(m.Photo), c.Update.ID); err != nil {
		return false, err
	}
	return strings.TrimSpace(m.Caption) == "", nil
}

func checkinHandler(c *Ctx) error {
	req, err := checkin.Of(c.App).ParseCheckinArgs(c, c.Actor, c.Cmd.Args, c.Private())
	if err != nil {
		return err
	}
	req.ChatID, req.InGroup, req.MessageID, req.Source = c.Msg.Chat.ID, !c.Private(), int64(c.Msg.ID), checkin.SourceTelegram
	if id := largestPhoto(c.Msg.Photo); id != "" {
		req.Evidence = []string{id}
	}
	req.MediaGroupID = c.Msg.MediaGroupID
	res, err := checkin.Of(c.App).RecordCheckin(c, c.Actor, req)
	return replyCheckin(c, req, res, err)
}

// replyCheckin answers a check-in: the confirmation, or the question the
// use case asked (which branch, which period).
func replyCheckin(c *Ctx, req checkin.Request, res checkin.Result, err error) error {
	var choose *app.ErrChooseBranch
	if errors.As(err, &choose) {
		return askBranch(c, req, choose.Branches)
	}
	var period *checkin.ErrChoosePeriod
	if errors.As(err, &period) {
		return askPeriod(c, period)
	}
	if err != nil {
		return err
	}
	return c.Reply(checkin.Of(c.App).CheckinConfirmation(res), nil)
}

// askPeriod keeps the request and asks which period the meeting was for:
// one button per red period (补开) and one for the period of its date.
func askPeriod(c *Ctx, q *checkin.ErrChoosePeriod) error {
	id, err := checkin.Of(c.App).SavePendingCheckin(c, c.Actor, q.Request)
	if err != nil {
		return err
	}
	rows := make([][]map[string]string, 0, len(q.Red)+1)
	for _, p := range q.Red {
		rows = append(rows, []map[string]string{{"text": ck.T("ask.period.makeup", "period", p.Label()), "callback_data": callback.Period(id, p.Key())}})
	}
	rows = append(rows, []map[string]string{{"text": ck.T("ask.period.current", "period", q.Current.Label()), "callback_data": callback.Period(id, callback.AsDated)}})
	text := ck.T("ask.period", "obligation", E(q.Obligation.Name))
	return c.Reply(text, map[string]any{"inline_keyboard": rows})
}

// checkinPeriodCallback records a pending check-in for the tapped period.
func checkinPeriodCallback(c *Ctx) error {
	id, key, ok := callback.ParsePeriod(c.Data)
	if !ok {
		return c.Answer(ck.T("tap.stale_button"), false)
	}
	if key == callback.AsDated {
		key = checkin.PeriodAsDated
	}
	res, err := checkin.Of(c.App).RecordPendingCheckinFor(c, c.Actor, id, key)
	if err != nil {
		return err
	}
	if err := c.Answer(ck.T("tap.recorded_answer"), false); err != nil {
		return err
	}
	if c.Msg != nil {
		if err := editMessage(c, c.Msg.ID, ck.T("ask.chosen", "choice", periodChoice(res.Lines[0]))); err != nil {
			return err
		}
	}
	return c.Reply(checkin.Of(c.App).CheckinConfirmation(res), nil)
}

// periodChoice is the tapped period in the edited question, marked 补开
// or 本期 as its button was.
func periodChoice(l checkin.Line) string {
	if l.Late {
		return ck.T("ask.period.makeup", "period", l.Period.Label())
	}
	return ck.T("ask.period.current", "period", l.Period.Label())
}

// askBranch keeps the request and offers one button per branch.
func askBranch(c *Ctx, req checkin.Request, branches []domain.Role) error {
	id, err := checkin.Of(c.App).SavePendingCheckin(c, c.Actor, req)
	if err != nil {
		return err
	}
	rows := make([][]map[string]string, 0, len(branches))
	for _, b := range branches {
		rows = append(rows, []map[string]string{{
			"text":          b.UnitName,
			"callback_data": callback.Branch(id, b.UnitID),
		}})
	}
	return c.Reply(ck.T("ask.branch"), map[string]any{"inline_keyboard": rows})
}

// checkinBranchCallback records a pending check-in for the tapped branch.
func checkinBranchCallback(c *Ctx) error {
	id, branchID, ok := callback.ParseBranch(c.Data)
	if !ok {
		return c.Answer(ck.T("tap.stale_button"), false)
	}
	res, err := checkin.Of(c.App).RecordPendingCheckin(c, c.Actor, id, branchID)
	var period *checkin.ErrChoosePeriod
	if errors.As(err, &period) {
		return askPeriod(c, period)
	}
	if err != nil {
		return err
	}
	if err := c.Answer(ck.T("tap.recorded_answer"), false); err != nil {
		return err
	}
	if c.Msg != nil {
		if err := editMessage(c, c.Msg.ID, ck.T("ask.chosen", "choice", E(res.Branch.Name))); err != nil {
			return err
		}
	}
	return c.Reply(checkin.Of(c.App).CheckinConfirmation(res), nil)
}

// editMessage replaces the text of a message the bot sent in this chat
// (and drops its keyboard).
func editMessage(c *Ctx, messageID int, text string) error {
	return c.App.SendReply(c, app.Reply{Key: c.nextKey(), ChatID: c.ChatID(), Kind: "edit", Method: "editMessageText",
		Payload: map[string]any{"message_id": messageID, "text": text, "parse_mode": "HTML"}})
}

func undoHandler(c *Ctx) error {
	ch, err := checkin.Of(c.App).UndoCheckin(c, c.Actor)
	if err != nil {
		return err
	}
	return c.Reply(checkin.Of(c.App).WithdrawnReply(ch), nil)
}

func rejectHandler(c *Ctx) error {
	usage := domain.Refuse(domain.ErrInvalid, "%s", ck.T("reject.usage"))
	if len(c.Cmd.Args) == 0 {
		return c.App.Refused(c, c.Actor, "checkin.reject", "", usage)
	}
	id, err := strconv.ParseInt(strings.TrimLeft(c.Cmd.Args[0], "#＃"), 10, 64)
	if err != nil || id <= 0 {
		return c.App.Refused(c, c.Actor, "checkin.reject", "", usage)
	}
	reason := strings.TrimSpace(strings.TrimPrefix(c.Cmd.Rest, c.Cmd.Args[0]))
	ch, err := checkin.Of(c.App).RejectCheckin(c, c.Actor, id, reason)
	if err != nil {
		return err
	}
	return c.Reply(checkin.Of(c.App).RejectedReply(ch), nil)
}

// largestPhoto is the file id of the largest size of a photo ("" if none).
func largestPhoto(sizes []models.PhotoSize) string {
	best, area, bytes := "", -1, -1
	for _, p := range sizes {
		a := p.Width * p.Height
		if a > area || a == area && p.FileSize >= bytes {
			best, area, bytes = p.FileID, a, p.FileSize
		}
	}
	return best
}
