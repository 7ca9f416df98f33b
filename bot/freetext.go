package bot

import (
	"context"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/internal/texts"
)

// ft is what the bot says about free text (internal/texts/freetext.yaml).
var ft = texts.FreeText

// Free text (SPEC §7.3). A message that is no command but names an activity
// (from a secretary: in a group bound to their branch, or in private) or a
// catalogue item (from a villager: in their village's group, or in private)
// is answered with what the bot understood and the buttons ✅ 确认 / ✏️ 修改 /
// ✖ 取消 ("ft:<pending>:ok|ed|x"); it is recorded only on its sender's 确认.
// A field the reader is unsure of is asked (no buttons, the command to
// correct and send); a claim that may be several items offers them as
// buttons (as /claim does). The sender's reply to a check-in's card corrects
// it: the card shows the corrected reading, buttons and all. Anything else is left alone: chatter gets no
// answer.

// textKey is the dedupe key of the confirmation of pending free text: the
// key its edits refer to.
func textKey(id int64) string { return app.PendingTextKey(id) }

func textMessage(c *Ctx) (checkin.TextMessage, bool) {
	m := c.Msg
	if m == nil || c.Actor.PersonID == 0 {
		return checkin.TextMessage{}, false
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if strings.TrimSpace(text) == "" {
		return checkin.TextMessage{}, false
	}
	return checkin.TextMessage{ChatID: m.Chat.ID, MessageID: int64(m.ID), InGroup: !c.Private(), Text: text,
		Photo: largestPhoto(m.Photo), MediaGroupID: m.MediaGroupID}, true
}

// readText reads the update's free text with a use case's reader; ok is
// false when there is no text or the reader passes it over (chatter).
func readText[V any](c *Ctx, read func(context.Context, domain.Actor, checkin.TextMessage) (V, bool, error)) (v V, ok bool, err error) {
	msg, ok := textMessage(c)
	if !ok {
		return v, false, nil
	}
	return read(c, c.Actor, msg)
}

// textButtons are the three buttons under a reading.
func textButtons(id int64) map[string]any {
	return map[string]any{"inline_keyboard": [][]map[string]string{{
		{"text": ft.T("button.confirm"), "callback_data": callback.Text(id, callback.TextConfirm)},
		{"text": ft.T("button.edit"), "callback_data": callback.Text(id, callback.TextEdit)},
		{"text": ft.T("button.cancel"), "callback_data": callback.Text(id, callback.TextCancel)},
	}}}
}

// replyKeyed sends a reply to the message under a dedupe key of its own, so
// that later taps can edit it (edit_of).
func replyKeyed(c *Ctx, key, text string, markup any) error {
	payload := map[string]any{"text": text, "parse_mode": "HTML", "link_preview_options": map[string]any{"is_disabled": true}}
	if markup != nil {
		payload["reply_markup"] = markup
	}
	if c.Msg != nil {
		payload["reply_parameters"] = map[string]any{"message_id": c.Msg.ID, "allow_sending_without_reply": true}
		if c.Msg.IsTopicMessage {
			payload["message_thread_id"] = c.Msg.MessageThreadID
		}
	}
	return c.App.SendReply(c, app.Reply{Key: key, ChatID: c.ChatID(), Kind: "reply", Payload: payload})
}

// editKeyed replaces the text (and drops the buttons) of a message sent by replyKeyed.
func editKeyed(c *Ctx, key, text string) error { return editCard(c, key, text, nil) }

// editCard replaces the text and the buttons (none when markup is nil) of a
// message sent by replyKeyed.
func editCard(c *Ctx, key, text string, markup any) error {
	payload := map[string]any{"edit_of": key, "text": text, "parse_mode": "HTML"}
	if markup != nil {
		payload["reply_markup"] = markup
	}
	return c.App.SendReply(c, app.Reply{Key: c.nextKey(), ChatID: c.ChatID(), Kind: "edit", Method: "editMessageText", Payload: payload})
}

// checkinTextHook answers a secretary's free-text check-in with its reading.
func checkinTextHook(c *Ctx) (bool, error) {
	v, ok, err := readText(c, checkin.Of(c.App).ReadCheckinText)
	if err != nil || !ok {
		return false, err
	}
	var b strings.Builder
	if v.PendingID == 0 {
		b.WriteString(ft.T("checkin.unsure.head") + "\n")
		for _, u := range v.Reading.Unsure {
			b.WriteString(ft.T("checkin.unsure.question", "question", E(app.Say(u.Question))) + "\n")
		}
		b.WriteString("\n" + ft.T("checkin.unsure.tail", "command", E(v.Command)))
		return true, c.Reply(b.String(), nil)
	}
	return true, replyKeyed(c, textKey(v.PendingID), checkinCard(v), textButtons(v.PendingID))
}

// checkinCard is the card that shows a reading for 确认.
func checkinCard(v checkin.ReadingView) string {
	var b strings.Builder
	b.WriteString(ft.T("checkin.reading.head") + "\n")
	writeCheckinReading(&b, v)
	b.WriteString("\n" + ft.T("checkin.reading.tail"))
	return b.String()
}

// textReplyHook applies a reply to a reading's card: the sender's correction
// (SPEC §7.3) is shown on the card again, still to be confirmed, and the
// reply is answered.
func textReplyHook(c *Ctx) (bool, error) {
	msg, ok := textMessage(c)
	if !ok || c.Msg.ReplyToMessage == nil || c.Msg.ReplyToMessage.From == nil || !c.Msg.ReplyToMessage.From.IsBot {
		return false, nil
	}
	card := checkin.TextCard{MessageID: int64(c.Msg.ReplyToMessage.ID)}
	if kb := c.Msg.ReplyToMessage.ReplyMarkup; kb != nil && len(kb.InlineKeyboard) > 0 && len(kb.InlineKeyboard[0]) > 0 {
		// The buttons name the reading: no need to wait until the card's delivery is recorded.
		card.PendingID, _, _ = callback.ParseText(kb.InlineKeyboard[0][0].CallbackData)
	}
	v, ok, err := checkin.Of(c.App).CorrectCheckinText(c, c.Actor, msg, card)
	if err != nil || !ok {
		return false, err
	}
	if err := editCard(c, textKey(v.PendingID), checkinCard(v), textButtons(v.PendingID)); err != nil {
		return true, err
	}
	return true, c.Reply(ft.T("correct.done"), nil)
}

func writeCheckinReading(b *strings.Builder, v checkin.ReadingView) {
	r := v.Reading
	line := func(key string, pairs ...string) { b.WriteString(ft.T(key, pairs...) + "\n") }
	for i, name := range v.Activities {
		line("checkin.reading.activity", "name", E(name), "period", E(v.Periods[i]))
	}
	if r.DateWritten {
		line("checkin.reading.date", "day", E(v.Day))
	} else {
		line("checkin.reading.date_unwritten", "day", E(v.Day))
	}
	if r.Total > 0 {
		line("checkin.reading.attendance", "present", strconv.Itoa(r.Present), "total", strconv.Itoa(r.Total))
	} else {
		line("checkin.reading.attendance_none")
	}
	switch {
	case r.Topic != "" && r.TopicToConfirm:
		line("checkin.reading.topic_confirm", "topic", E(r.Topic))
	case r.Topic != "":
		line("checkin.reading.topic", "topic", E(r.Topic))
	default:
		line("checkin.reading.topic_none")
	}
	if v.MakeUp != "" {
		line("checkin.reading.makeup", "period", E(v.MakeUp))
	}
	switch {
	case v.Album:
		line("checkin.reading.photo_album")
	case v.HasEvidence:
		line("checkin.reading.photo_one")
	}
}

// claimTextHook answers a villager's free-text claim with its reading.
func claimTextHook(c *Ctx) (bool, error) {
	v, ok, err := readText(c, checkin.Of(c.App).ReadClaimText)
	if err != nil || !ok {
		return false, err
	}
	if v.Choice != nil {
		var rows [][]map[string]string
		for i, it := range v.Choice.Items {
			label := cutRunes(it.Name, 28) + " " + points.Signed(it.Points)
			rows = append(rows, []map[string]string{{"text": label, "callback_data": callback.Pick(v.Choice.DraftID, i)}})
		}
		rows = append(rows, []map[string]string{{"text": ft.T("button.cancel"), "callback_data": callback.Pick(v.Choice.DraftID, -1)}})
		text := ft.T("claim.choose", "note", E(cutRunes(v.Note, 30)))
		return true, replyKeyed(c, draftKey(v.Choice.DraftID), text, map[string]any{"inline_keyboard": rows})
	}
	if v.NeedsPhoto != "" {
		return true, c.Reply(ft.T("claim.needs_photo", "item", E(v.Item.Name), "points", points.Signed(v.Item.Points), "why", E(v.NeedsPhoto)), nil)
	}
	text := ft.T("claim.reading", "item", E(v.Item.Name), "points", points.Signed(v.Item.Points), "note", E(cutRunes(v.Note, 100)))
	return true, replyKeyed(c, textKey(v.PendingID), text, textButtons(v.PendingID))
}

// textCallback applies 确认, 修改 or 取消 under a reading.
func textCallback(c *Ctx) error {
	id, action, ok := callback.ParseText(c.Data)
	if !ok {
		return c.Answer(ft.T("tap.stale_button"), false)
	}
	out, err := checkin.Of(c.App).ActOnText(c, c.Actor, id, action)
	if err != nil {
		return err
	}
	key := textKey(id)
	switch action {
	case callback.TextCancel:
		if err := editKeyed(c, key, ft.T("tap.cancelled")); err != nil {
			return err
		}
		return c.Answer(ft.T("tap.cancelled_answer"), false)
	case callback.TextEdit:
		if err := editKeyed(c, key, ft.T("tap.edit", "command", E(out.Command))); err != nil {
			return err
		}
		return c.Answer(ft.T("tap.edit_answer"), false)
	}
	switch {
	case out.Checkin != nil:
		if err := editKeyed(c, key, ft.T("tap.confirmed")); err != nil {
			return err
		}
		if err := c.Answer(ft.T("tap.recorded_answer"), false); err != nil {
			return err
		}
		return c.Reply(checkin.Of(c.App).CheckinConfirmation(*out.Checkin), nil)
	case out.Choose != nil:
		if err := editKeyed(c, key, ft.T("tap.confirmed_branch")); err != nil {
			return err
		}
		return askBranch(c, out.Request, out.Choose.Branches)
	case out.ChoosePeriod != nil:
		if err := editKeyed(c, key, ft.T("tap.confirmed_period")); err != nil {
			return err
		}
		return askPeriod(c, out.ChoosePeriod)
	case out.Claim != nil:
		if err := editKeyed(c, key, submittedText(*out.Claim)); err != nil {
			return err
		}
		return c.Answer(ft.T("tap.claimed_answer", "id", strconv.FormatInt(out.Claim.ID, 10)), false)
	}
	return c.Answer("", false)
}
