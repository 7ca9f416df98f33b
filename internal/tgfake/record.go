package tgfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// Call is one API request as received, whatever its outcome.
type Call struct {
	Method      string            // canonical name for known methods, else as requested
	Params      map[string]string // form fields; nested objects are JSON strings
	Uploads     map[string]string // uploaded file fields → file names
	At          time.Time
	Status      int    // HTTP status answered; 0 when the connection was dropped
	Description string // error description when Status != 200
}

// Message is a message the bot sent, with its current content.
type Message struct {
	MessageID int
	ChatID    int64
	ThreadID  int
	ReplyTo   int // message_id replied to, 0 if none

	Text      string // as sent, markup included (sendMessage, editMessageText)
	Caption   string // as sent (sendPhoto)
	ParseMode string
	// Plain is what the user sees: Text or Caption with the HTML rendered.
	Plain    string
	Entities []models.MessageEntity

	ReplyMarkup json.RawMessage                 // as sent; nil when none
	Keyboard    [][]models.InlineKeyboardButton // the inline keyboard, if any
	Photo       string                          // file_id of the photo (sendPhoto)

	DisableNotification bool
	LinkPreviewDisabled bool

	Edited   bool
	EditedAt time.Time
	Deleted  bool
	At       time.Time
}

// Buttons lists the inline keyboard's buttons row by row.
func (m Message) Buttons() []models.InlineKeyboardButton {
	var bs []models.InlineKeyboardButton
	for _, row := range m.Keyboard {
		bs = append(bs, row...)
	}
	return bs
}

// Button finds an inline button by its text.
func (m Message) Button(text string) (models.InlineKeyboardButton, bool) {
	for _, b := range m.Buttons() {
		if b.Text == text {
			return b, true
		}
	}
	return models.InlineKeyboardButton{}, false
}

func (m *Message) clone() Message {
	c := *m
	c.Entities = slices.Clone(m.Entities)
	c.ReplyMarkup = slices.Clone(m.ReplyMarkup)
	if m.Keyboard != nil {
		c.Keyboard = make([][]models.InlineKeyboardButton, len(m.Keyboard))
		for i, row := range m.Keyboard {
			c.Keyboard[i] = slices.Clone(row)
		}
	}
	return c
}

// CallbackAnswer is one accepted answerCallbackQuery.
type CallbackAnswer struct {
	QueryID   string
	Data      string // callback_data of the answered query
	UserID    int64
	Text      string
	ShowAlert bool
	URL       string
	CacheTime int
	At        time.Time
}

// WebhookDelivery is one attempt to POST an update to the webhook.
type WebhookDelivery struct {
	UpdateID int64
	URL      string
	Attempt  int    // 1 for the first delivery of the update
	Status   int    // HTTP status, 0 on a network error
	Err      string // network error, if any
	Response string // start of the response body (Telegram would run a method call found there; zhibu must not send one)
	At       time.Time
	Duration time.Duration
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = trim(append(s.calls, c), s.opts.MaxRecords)
	s.notify()
}

// Calls returns every call received, in order of completion.
func (s *Server) Calls() []Call {
	return s.CallsTo("")
}

// CallsTo returns the calls of one method ("" for all).
func (s *Server) CallsTo(method string) []Call {
	if m, ok := methodTable[strings.ToLower(method)]; ok {
		method = m.name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			c.Params = cloneMap(c.Params)
			c.Uploads = cloneMap(c.Uploads)
			out = append(out, c)
		}
	}
	return out
}

// Messages returns the messages the bot sent successfully, in order of
// acceptance, each with its current content (after edits and deletion).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.sent))
	for _, k := range s.sent {
		out = append(out, s.msgs[k].clone())
	}
	return out
}

// MessagesTo returns the messages sent to one chat.
func (s *Server) MessagesTo(chatID int64) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// Message returns the current content of a message the bot sent. It also
// finds messages sent before Reset.
func (s *Server) Message(chatID int64, messageID int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[msgKey{chatID, messageID}]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// Commands returns the commands of the last successful setMyCommands,
// whatever its scope.
func (s *Server) Commands() []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lastCmds)
}

// CallbackAnswers returns the accepted answerCallbackQuery calls.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.answers)
}

// WebhookDeliveries returns every webhook delivery attempt.
func (s *Server) WebhookDeliveries() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Reset clears the recordings (calls, sent-message list, callback answers,
// webhook deliveries, the 429 count). State stays: sent messages can still be
// edited and looked up with Message, ids keep increasing, commands, webhook,
// pending updates, failures and rate-limit buckets are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.sent = nil
	s.answers = nil
	s.deliveries = nil
	s.tooMany = 0
	s.notify()
}

// WaitFor blocks until cond(s) is true or ctx ends. cond runs without the
// server lock, so it may call any accessor; it is re-evaluated after every
// change of the server's state.
func (s *Server) WaitFor(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("tgfake: condition not met: %w", context.Cause(ctx))
		}
	}
}

// WaitMessages waits until at least n messages were sent and returns them;
// on timeout it returns what was sent so far and an error.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	var got []Message
	err := s.WaitFor(ctx, func(s *Server) bool {
		got = s.Messages()
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("tgfake: %d of %d messages: %w", len(got), n, err)
	}
	return got, nil
}

// WaitCalls waits until at least n calls of method were answered.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	var got []Call
	err := s.WaitFor(ctx, func(s *Server) bool {
		got = s.CallsTo(method)
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("tgfake: %d of %d %s calls: %w", len(got), n, method, err)
	}
	return got, nil
}

// Render is what a user sees of text sent with parse mode mode: the HTML
// rendered, other modes as they are. Text that does not parse is returned
// unchanged.
func Render(text, mode string) string {
	if !strings.EqualFold(mode, "HTML") {
		return text
	}
	plain, _, _, err := parseHTML(text)
	if err != nil {
		return text
	}
	return plain
}

// Resume continues a conversation that the server did not see begin, e.g.
// one the sandbox keeps in its database across restarts: update ids continue
// after lastUpdateID, each chat's message ids after lastMessageIDs[chat] (so
// that a new message is never taken for one seen before), and msgs, the
// bot's messages as last edited, can be edited and their buttons tapped
// again. Of each msg it reads MessageID, ChatID, Text or Photo and Caption,
// ParseMode, ReplyMarkup and At; the rest is derived. Ids never go back. A
// message whose text or keyboard Telegram would refuse is skipped and
// reported in the error; the others are kept.
func (s *Server) Resume(lastUpdateID int64, lastMessageIDs map[int64]int, msgs []Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpdateID = max(s.nextUpdateID, lastUpdateID+1)
	for chat, id := range lastMessageIDs {
		s.lastMsgID[chat] = max(s.lastMsgID[chat], id)
	}
	var errs []error
	for _, in := range msgs {
		m := in.clone()
		text, caption := m.Text, m.Photo != ""
		if caption {
			text = m.Caption
		}
		plain, ents, f := renderText(text, m.ParseMode, "", caption)
		if f == nil {
			m.ReplyMarkup, m.Keyboard, f = parseMarkup(string(in.ReplyMarkup))
		}
		if f != nil {
			errs = append(errs, fmt.Errorf("tgfake: resume message %d of chat %d: %s", m.MessageID, m.ChatID, f.Description))
			continue
		}
		m.Plain, m.Entities = plain, ents
		if m.Photo != "" && s.files[m.Photo] == nil {
			s.addFileLocked(m.Photo, "photos", ".jpg", nil)
		}
		s.lastMsgID[m.ChatID] = max(s.lastMsgID[m.ChatID], m.MessageID)
		s.msgs[msgKey{m.ChatID, m.MessageID}] = &m
	}
	s.notify()
	return errors.Join(errs...)
}
