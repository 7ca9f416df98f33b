package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/zhibu/zhibu/demo"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/tgfake"
)

// sandboxMsg is one line of a chat on the sandbox page.
type sandboxMsg struct {
	Who, Text string
	At        time.Time
	Mine      bool // said by the person looking
	Bot       bool
	Photo     bool
	Tap       bool   // a button tap, not a message
	Note      string // e.g. the message is still on its way
	MessageID int
	Buttons   []sandboxButton
}

type sandboxButton struct {
	Text, Data string
	MessageID  int
}

// botMsg is a message the bot sent, as the outbox recorded it, with the
// later edits applied: what the chat shows now.
type botMsg struct {
	ChatID                          int64
	ID                              int // Telegram message id (the last part of a split text); 0 until sent
	Text, Caption, Photo, ParseMode string
	Markup                          json.RawMessage
	Status                          string
	At                              time.Time
	Edited                          bool
	key                             string
}

type outPayload struct {
	Text        string          `json:"text"`
	Caption     string          `json:"caption"`
	Photo       string          `json:"photo"`
	ParseMode   string          `json:"parse_mode"`
	ReplyMarkup json.RawMessage `json:"reply_markup"`
	MessageID   int             `json:"message_id"`
	EditOf      string          `json:"edit_of"`
}

// botMessages replays the outbox rows of some chats (oldest first): each
// send is a message, each edit that went out changes the message it names
// (by edit_of or message_id), like Telegram does.
func botMessages(sends []demo.ChatSend) []*botMsg {
	var out []*botMsg
	byKey := map[string]*botMsg{}
	type chatMsg struct {
		chat int64
		id   int
	}
	byID := map[chatMsg]*botMsg{}
	for _, r := range sends {
		var p outPayload
		if json.Unmarshal(r.Payload, &p) != nil {
			continue
		}
		switch r.Method {
		case "sendMessage", "sendPhoto":
			m := &botMsg{ChatID: r.ChatID, Text: p.Text, Caption: p.Caption, Photo: p.Photo, ParseMode: p.ParseMode,
				Markup: p.ReplyMarkup, Status: r.Status, At: r.CreatedAt, key: r.DedupeKey}
			if r.SentAt.Valid {
				m.At = r.SentAt.Time
			}
			if n := len(r.MessageIDs); n > 0 {
				m.ID = int(r.MessageIDs[n-1])
			}
			if r.Method == "sendMessage" {
				m.Photo = ""
			}
			out = append(out, m)
			byKey[r.DedupeKey] = m
			for _, id := range r.MessageIDs {
				byID[chatMsg{r.ChatID, int(id)}] = m
			}
		case "editMessageText", "editMessageCaption", "editMessageReplyMarkup":
			if r.Status != "sent" {
				continue
			}
			m := byKey[p.EditOf]
			if p.EditOf == "" {
				m = byID[chatMsg{r.ChatID, p.MessageID}]
			}
			if m == nil {
				continue
			}
			switch r.Method {
			case "editMessageText":
				m.Text, m.ParseMode = p.Text, p.ParseMode
			case "editMessageCaption":
				m.Caption, m.ParseMode = p.Caption, p.ParseMode
			}
			// Like Telegram, an edit without a keyboard removes it.
			m.Markup, m.Edited = p.ReplyMarkup, true
		}
	}
	return out
}

// fake is the message as the fake Bot API keeps it.
func (m *botMsg) fake() tgfake.Message {
	fm := tgfake.Message{MessageID: m.ID, ChatID: m.ChatID, Text: m.Text, Caption: m.Caption, Photo: m.Photo,
		ParseMode: m.ParseMode, At: m.At, Edited: m.Edited}
	if len(m.Markup) > 0 && string(m.Markup) != "null" {
		fm.ReplyMarkup = m.Markup
	}
	return fm
}

// plain is what the chat shows of the message.
func (m *botMsg) plain() string {
	if m.Photo != "" {
		return tgfake.Render(m.Caption, m.ParseMode)
	}
	return tgfake.Render(m.Text, m.ParseMode)
}

func (m *botMsg) buttons() []sandboxButton {
	var kb struct {
		Rows [][]struct {
			Text string `json:"text"`
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if m.ID == 0 || json.Unmarshal(m.Markup, &kb) != nil {
		return nil
	}
	var bs []sandboxButton
	for _, row := range kb.Rows {
		for _, b := range row {
			if b.Data != "" {
				bs = append(bs, sandboxButton{Text: b.Text, Data: b.Data, MessageID: m.ID})
			}
		}
	}
	return bs
}

// inbound is the part of a stored update the sandbox shows.
type inbound struct {
	Message *struct {
		From *struct {
			ID        int64  `json:"id"`
			FirstName string `json:"first_name"`
		} `json:"from"`
		Text    string            `json:"text"`
		Caption string            `json:"caption"`
		Photo   []json.RawMessage `json:"photo"`
	} `json:"message"`
	Callback *struct {
		From struct {
			ID        int64  `json:"id"`
			FirstName string `json:"first_name"`
		} `json:"from"`
		Data    string `json:"data"`
		Message *struct {
			ReplyMarkup *struct {
				Rows [][]struct {
					Text string `json:"text"`
					Data string `json:"callback_data"`
				} `json:"inline_keyboard"`
			} `json:"reply_markup"`
		} `json:"message"`
	} `json:"callback_query"`
}

// sandboxConversation reads chat's conversation from the database: what
// people said and tapped (the updates table) and what the bot sent (the
// outbox), in the order it happened. me is the person looking.
func (s *Server) sandboxConversation(ctx context.Context, chat, me int64) ([]sandboxMsg, error) {
	ups, err := demo.Of(s.App).ChatUpdates(ctx, []int64{chat}, sandboxHistory)
	if err != nil {
		return nil, err
	}
	sends, err := demo.Of(s.App).ChatSends(ctx, []int64{chat}, sandboxHistory)
	if err != nil {
		return nil, err
	}
	var msgs []sandboxMsg
	for _, u := range ups {
		var in inbound
		if json.Unmarshal(u.Raw, &in) != nil {
			continue
		}
		switch {
		case in.Message != nil && in.Message.From != nil:
			m := sandboxMsg{Who: in.Message.From.FirstName, Text: in.Message.Text, At: u.ReceivedAt,
				Mine: in.Message.From.ID == me, Photo: len(in.Message.Photo) > 0}
			if m.Photo {
				m.Text = in.Message.Caption
			}
			msgs = append(msgs, m)
		case in.Callback != nil:
			label := sbx.T("chat.tapped_unknown")
			if cm := in.Callback.Message; cm != nil && cm.ReplyMarkup != nil {
				for _, row := range cm.ReplyMarkup.Rows {
					for _, b := range row {
						if b.Data == in.Callback.Data {
							label = sbx.T("chat.tapped_button", "button", b.Text)
						}
					}
				}
			}
			msgs = append(msgs, sandboxMsg{Who: in.Callback.From.FirstName, Text: sbx.T("chat.tapped", "button", label), At: u.ReceivedAt,
				Mine: in.Callback.From.ID == me, Tap: true})
		}
	}
	for _, b := range botMessages(sends) {
		m := sandboxMsg{Who: sbx.T("chat.bot"), Bot: true, Text: b.plain(), At: b.At, Photo: b.Photo != "",
			MessageID: b.ID, Buttons: b.buttons()}
		switch b.Status {
		case "pending", "sending":
			m.Note = sbx.T("note.sending")
		case "failed":
			m.Note = sbx.T("note.failed")
		case demo.OutboxUncertain: // sent at most once; its call was not answered
			m.Note = sbx.T("note.uncertain")
		}
		if b.Edited {
			m.Note = sbx.T("note.edited")
		}
		msgs = append(msgs, m)
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].At.Before(msgs[j].At) })
	return msgs, nil
}

// sandboxHint is a message the page suggests, with what it shows.
type sandboxHint struct {
	Text  string
	Photo bool // sent with the sample photo
	Why   string
}

// sandboxHints are the suggestions for u in a chat: commands that work for
// their role with the demo data (the e2e tests send each one), and a
// sentence on what the chat is for.
func (s *Server) sandboxHints(u demo.User, chatID int64) ([]sandboxHint, string) {
	if chatID != 0 {
		switch u.Role {
		case domain.RoleReviewer:
			return nil, sbx.T("group.reviewer")
		case domain.RoleVillager, domain.RoleShopkeeper:
			return nil, sbx.T("group.village")
		case domain.RoleSecretary:
			return nil, sbx.T("group.secretary")
		default:
			return nil, sbx.T("group.other")
		}
	}
	now := s.Clock.Now().In(s.Config.Location())
	last := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, now.Location()).AddDate(0, -1, 9)
	switch u.Role {
	case domain.RoleSecretary:
		return []sandboxHint{
			{Text: "/status", Why: sbx.T("hint.secretary.status")},
			{Text: fmt.Sprintf("/checkin 支委会 %s 7/9 补开%d月支委会", last.Format(time.DateOnly), int(last.Month())),
				Why: sbx.T("hint.secretary.makeup")},
			{Text: "/checkin 主题党日 今天 8/9 重温入党誓词", Photo: true, Why: sbx.T("hint.secretary.photo")},
		}, ""
	case domain.RoleVillager:
		return []sandboxHint{
			{Text: "/claim 拾金不昧 捡到钱包已交还失主", Why: sbx.T("hint.villager.claim")},
			{Text: "/claim 巡逻 参加晚间治安巡逻", Photo: true, Why: sbx.T("hint.villager.claim_photo")},
			{Text: "/points", Why: sbx.T("hint.villager.points")},
		}, ""
	case domain.RoleReviewer:
		return []sandboxHint{
			{Text: "/pending", Why: sbx.T("hint.reviewer.pending")},
		}, ""
	case domain.RoleShopkeeper:
		return []sandboxHint{
			{Text: "/rank", Why: sbx.T("hint.shopkeeper.rank")},
			{Text: "/items", Why: sbx.T("hint.shopkeeper.items")},
		}, ""
	default: // organisers and admins
		return []sandboxHint{
			{Text: "/status", Why: sbx.T("hint.manager.status")},
			{Text: "/help", Why: sbx.T("hint.manager.help")},
		}, ""
	}
}
