package tgfake

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/go-telegram/bot/models"
)

// A resumed server continues the ids of a conversation kept elsewhere and
// lets the bot edit, and users tap, the messages restored into it.
func TestResume(t *testing.T) {
	s, _ := start(t, Options{Limits: noLimits})
	kb := `{"inline_keyboard":[[{"text":"通过","callback_data":"cl:1:ok"}]]}`
	err := s.Resume(41, map[int64]int{-100: 7, 5: 3}, []Message{
		{ChatID: -100, MessageID: 6, Text: "<b>申报</b> 拾金不昧", ParseMode: "HTML", ReplyMarkup: json.RawMessage(kb)},
		{ChatID: -100, MessageID: 5, Text: "<b>坏", ParseMode: "HTML"},
	})
	if err == nil {
		t.Fatal("a message that does not parse must be reported")
	}
	m, ok := s.Message(-100, 6)
	if !ok || m.Plain != "申报 拾金不昧" || len(m.Buttons()) != 1 {
		t.Fatalf("restored message: %+v %v", m, ok)
	}
	if _, ok := s.Message(-100, 5); ok {
		t.Fatal("a refused message must not be restored")
	}
	u := s.TextMessage(s.PrivateChat(models.User{ID: 5, FirstName: "王"}), models.User{ID: 5, FirstName: "王"}, "/help")
	if u.Message.ID != 4 {
		t.Fatalf("message id after resume: %d", u.Message.ID)
	}
	id, err := s.SendUpdate(u)
	if err != nil || id != 42 {
		t.Fatalf("update id after resume: %d %v", id, err)
	}
	q := s.CallbackQuery(models.User{ID: 9}, m, "cl:1:ok")
	if q.CallbackQuery.Message.Message.Text != "申报 拾金不昧" {
		t.Fatalf("tap on a restored message: %+v", q.CallbackQuery.Message.Message)
	}
	code, r := form(t, s, "editMessageText", url.Values{"chat_id": {"-100"}, "message_id": {"6"}, "text": {"已通过"}})
	if code != 200 || !r.OK {
		t.Fatalf("edit a restored message: %d %s", code, r.Description)
	}
	code, r = form(t, s, "sendMessage", url.Values{"chat_id": {"-100"}, "text": {"新消息"}})
	var sent models.Message
	_ = json.Unmarshal(r.Result, &sent)
	if code != 200 || sent.ID != 8 {
		t.Fatalf("send after resume: %d id %d", code, sent.ID)
	}
}
