package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/storage"
)

// Free text (SPEC §7.3). A message that is no command but names an activity
// (from a secretary: in a group bound to their branch, or in private) or a
// catalogue item (from a villager: in their village's group, or in private)
// is answered with what the bot understood and the buttons ✅ 确认 / ✏️ 修改 /
// ✖ 取消 ("ft:<pending>:ok|ed|x"); it is recorded only on its sender's 确认.
// A field the reader is unsure of is asked (no buttons, the command to
// correct and send); a claim that may be several items offers them as
// buttons (as /claim does). Anything else is left alone: chatter gets no
// answer.

// textKey is the dedupe key of the confirmation of pending free text: the
// key its edits refer to.
func textKey(id int64) string { return "freetext:" + strconv.FormatInt(id, 10) }

func textMessage(c *Ctx) (app.TextMessage, bool) {
	m := c.Msg
	if m == nil || c.Actor.PersonID == 0 {
		return app.TextMessage{}, false
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if strings.TrimSpace(text) == "" {
		return app.TextMessage{}, false
	}
	return app.TextMessage{ChatID: m.Chat.ID, MessageID: int64(m.ID), InGroup: !c.Private(), Text: text,
		Photo: largestPhoto(m.Photo), MediaGroupID: m.MediaGroupID}, true
}

// textButtons are the three buttons under a reading.
func textButtons(id int64) map[string]any {
	return map[string]any{"inline_keyboard": [][]map[string]string{{
		{"text": "✅ 确认", "callback_data": callback.Text(id, callback.TextConfirm)},
		{"text": "✏️ 修改", "callback_data": callback.Text(id, callback.TextEdit)},
		{"text": "✖ 取消", "callback_data": callback.Text(id, callback.TextCancel)},
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
	return c.App.Store.Enqueue(c, storage.OutMessage{DedupeKey: key, ChatID: c.ChatID(), Priority: storage.PriorityReply,
		Kind: "reply", Payload: payload})
}

// editKeyed replaces the text (and drops the buttons) of a message sent by replyKeyed.
func editKeyed(c *Ctx, key, text string) error {
	c.n++
	return c.App.Store.Enqueue(c, storage.OutMessage{DedupeKey: fmt.Sprintf("upd:%d:%d", c.Update.ID, c.n), ChatID: c.ChatID(),
		Priority: storage.PriorityReply, Kind: "edit", Method: "editMessageText",
		Payload: map[string]any{"edit_of": key, "text": text, "parse_mode": "HTML"}})
}

// checkinTextHook answers a secretary's free-text check-in with its reading.
func checkinTextHook(c *Ctx) (bool, error) {
	msg, ok := textMessage(c)
	if !ok {
		return false, nil
	}
	v, ok, err := c.App.ReadCheckinText(c, c.Actor, msg)
	if err != nil || !ok {
		return false, err
	}
	var b strings.Builder
	if v.PendingID == 0 {
		b.WriteString("我没有完全看懂这条打卡：\n")
		for _, u := range v.Reading.Unsure {
			b.WriteString("❓ " + E(u.Question) + "\n")
		}
		b.WriteString("\n请改好后发送：\n<code>" + E(v.Command) + "</code>")
		return true, c.Reply(b.String(), nil)
	}
	b.WriteString("我理解的是：\n")
	writeCheckinReading(&b, v)
	b.WriteString("\n请点“✅ 确认”记录；有误请点“✏️ 修改”。")
	return true, replyKeyed(c, textKey(v.PendingID), b.String(), textButtons(v.PendingID))
}

func writeCheckinReading(b *strings.Builder, v app.CheckinReadingView) {
	r := v.Reading
	for i, name := range v.Activities {
		fmt.Fprintf(b, "活动：%s（%s）\n", E(name), E(v.Periods[i]))
	}
	day := v.Day
	if !r.DateWritten {
		day += "（未写日期，按今天）"
	}
	fmt.Fprintf(b, "日期：%s\n", E(day))
	if r.Total > 0 {
		fmt.Fprintf(b, "出席：实到%d人，应到%d人\n", r.Present, r.Total)
	} else {
		b.WriteString("出席：未写\n")
	}
	if r.Topic != "" {
		fmt.Fprintf(b, "主题：%s\n", E(r.Topic))
	} else {
		b.WriteString("主题：未写\n")
	}
	if v.MakeUp != "" {
		fmt.Fprintf(b, "补开：%s\n", E(v.MakeUp))
	}
	switch {
	case v.Album:
		b.WriteString("照片：这组照片一并保存\n")
	case v.HasEvidence:
		b.WriteString("照片：1张\n")
	}
}

// claimTextHook answers a villager's free-text claim with its reading.
func claimTextHook(c *Ctx) (bool, error) {
	msg, ok := textMessage(c)
	if !ok {
		return false, nil
	}
	v, ok, err := c.App.ReadClaimText(c, c.Actor, msg)
	if err != nil || !ok {
		return false, err
	}
	if v.Choice != nil {
		var rows [][]map[string]string
		for i, it := range v.Choice.Items {
			label := cutRunes(it.Name, 28) + " " + signed(it.Points)
			rows = append(rows, []map[string]string{{"text": label, "callback_data": callback.Pick(v.Choice.DraftID, i)}})
		}
		rows = append(rows, []map[string]string{{"text": "✖ 取消", "callback_data": callback.Pick(v.Choice.DraftID, -1)}})
		text := "“" + E(cutRunes(v.Note, 30)) + "”要申报积分吗？可能是以下项目，请选择（点击即提交申报）："
		return true, replyKeyed(c, draftKey(v.Choice.DraftID), text, map[string]any{"inline_keyboard": rows})
	}
	if v.NeedsPhoto != "" {
		return true, c.Reply(fmt.Sprintf("要申报积分吗？我理解的项目是：%s（%s分）。\n%s", E(v.Item.Name), signed(v.Item.Points), E(v.NeedsPhoto)), nil)
	}
	text := fmt.Sprintf("要申报积分吗？我理解的是：\n项目：%s（%s分）\n说明：%s\n\n请点“✅ 确认”提交申报，等待评议员审核。",
		E(v.Item.Name), signed(v.Item.Points), E(cutRunes(v.Note, 100)))
	return true, replyKeyed(c, textKey(v.PendingID), text, textButtons(v.PendingID))
}

// textCallback applies 确认, 修改 or 取消 under a reading.
func textCallback(c *Ctx) error {
	id, action, ok := callback.ParseText(c.Data)
	if !ok {
		return c.Answer("该按钮已失效。", false)
	}
	out, err := c.App.ActOnText(c, c.Actor, id, action)
	if err != nil {
		return err
	}
	key := textKey(id)
	switch action {
	case callback.TextCancel:
		if err := editKeyed(c, key, "已取消，没有记录。"); err != nil {
			return err
		}
		return c.Answer("已取消", false)
	case callback.TextEdit:
		if err := editKeyed(c, key, "请复制下面的内容，改好后发送：\n<code>"+E(out.Command)+"</code>"); err != nil {
			return err
		}
		return c.Answer("请修改后发送", false)
	}
	switch {
	case out.Checkin != nil:
		if err := editKeyed(c, key, "✅ 已确认"); err != nil {
			return err
		}
		if err := c.Answer("已记录", false); err != nil {
			return err
		}
		return c.Reply(c.App.CheckinConfirmation(*out.Checkin), nil)
	case out.Choose != nil:
		if err := editKeyed(c, key, "✅ 已确认，请选择支部。"); err != nil {
			return err
		}
		return askBranch(c, out.Request, out.Choose.Branches)
	case out.ChoosePeriod != nil:
		if err := editKeyed(c, key, "✅ 已确认，请选择期次。"); err != nil {
			return err
		}
		return askPeriod(c, out.ChoosePeriod)
	case out.Claim != nil:
		if err := editKeyed(c, key, submittedText(*out.Claim)); err != nil {
			return err
		}
		return c.Answer(fmt.Sprintf("已提交申报 #%d", out.Claim.ID), false)
	}
	return c.Answer("", false)
}
