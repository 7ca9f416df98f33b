package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/storage"
)

// Telegram sends outbox rows through the Bot API with go-telegram/bot. It
// supports sendMessage, sendPhoto, editMessageText, editMessageReplyMarkup
// and answerCallbackQuery; any other method fails the row as permanent.
type Telegram struct {
	b *bot.Bot
}

// NewTelegram returns the Telegram channel over b (built with
// bot.WithSkipGetMe and, in tests, bot.WithServerURL).
func NewTelegram(b *bot.Bot) *Telegram { return &Telegram{b: b} }

// Name is "telegram", the outbox channel column's default.
func (t *Telegram) Name() string { return "telegram" }

// BotWideLimits: Telegram's flood control is per bot, so a 429 pauses every
// send of the dispatcher, and repeated 5xx, timeouts or refused connections
// back off bot-wide (the pacer).
func (t *Telegram) BotWideLimits() bool { return true }

// Probe calls getMe: it shows whether the Bot API answers in time and
// sends nothing.
func (t *Telegram) Probe(ctx context.Context) (Result, error) {
	if _, err := t.b.GetMe(ctx); err != nil {
		return Classify(err), err
	}
	return Result{Outcome: Delivered}, nil
}

// Bot API methods the channel knows.
const (
	MethodSendMessage            = "sendMessage"
	MethodSendPhoto              = "sendPhoto"
	MethodEditMessageText        = "editMessageText"
	MethodEditMessageReplyMarkup = "editMessageReplyMarkup"
	MethodEditMessageCaption     = "editMessageCaption"
	MethodAnswerCallbackQuery    = storage.MethodAnswerCallback
)

// Split cuts a sendMessage text over MaxTextUnits into several messages at
// line boundaries (SplitHTML for parse_mode HTML, plain cutting when there
// is no parse mode; MarkdownV2 texts are sent whole). The reply goes on the
// first part, the buttons on the last, everything else on each.
func (t *Telegram) Split(m Message) ([]Message, error) {
	if m.Method != MethodSendMessage {
		return []Message{m}, nil
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var text, mode string
	if raw, ok := p["text"]; ok {
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("payload text: %w", err)
		}
	}
	if raw, ok := p["parse_mode"]; ok {
		_ = json.Unmarshal(raw, &mode)
	}
	var texts []string
	switch {
	case strings.EqualFold(mode, "HTML"):
		texts = SplitHTML(text, MaxTextUnits)
	case mode == "":
		texts = splitPlain(text, MaxTextUnits)
	default:
		texts = []string{text}
	}
	if len(texts) <= 1 {
		return []Message{m}, nil
	}
	return parts(m, texts, func(i int, tx string) ([]byte, error) {
		q := make(map[string]json.RawMessage, len(p))
		for k, v := range p {
			q[k] = v
		}
		q["text"], _ = json.Marshal(tx)
		if i > 0 {
			delete(q, "reply_parameters")
		}
		if i < len(texts)-1 {
			delete(q, "reply_markup")
		}
		return json.Marshal(q)
	})
}

// splitPlain cuts a text without markup: SplitHTML on the escaped text,
// unescaped again, so that '<' and '&' count as the characters they are.
func splitPlain(text string, limit int) []string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	parts := SplitHTML(esc, limit)
	if len(parts) == 1 {
		return []string{text}
	}
	un := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
	for i := range parts {
		parts[i] = un.Replace(parts[i])
	}
	return parts
}

// markup passes reply_markup on as the enqueuer wrote it (the library's
// keyboard types would add an empty copy_text to every button).
func markup(raw json.RawMessage) models.ReplyMarkup {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	return raw
}

// Send makes the Bot API call for m and classifies the answer.
func (t *Telegram) Send(ctx context.Context, m Message) (Result, error) {
	switch m.Method {
	case MethodSendMessage:
		var p bot.SendMessageParams
		if err := decode(m, &p, &p.ChatID, &p.ReplyMarkup); err != nil {
			return badPayload(err)
		}
		p.AllowPaidBroadcast = p.AllowPaidBroadcast || m.PaidBroadcast
		return sentOrClassify(t.b.SendMessage(ctx, &p))
	case MethodSendPhoto:
		var p struct {
			bot.SendPhotoParams
			Photo string `json:"photo"` // shadows the library's InputFile when decoding
		}
		if err := decode(m, &p, &p.ChatID, &p.ReplyMarkup); err != nil {
			return badPayload(err)
		}
		if p.Photo == "" {
			return badPayload(errors.New("photo (a file_id or URL) is required"))
		}
		p.SendPhotoParams.Photo = &models.InputFileString{Data: p.Photo}
		p.AllowPaidBroadcast = p.AllowPaidBroadcast || m.PaidBroadcast
		return sentOrClassify(t.b.SendPhoto(ctx, &p.SendPhotoParams))
	case MethodEditMessageText:
		var p bot.EditMessageTextParams
		return edit(ctx, m, &p, &p.ChatID, &p.MessageID, &p.ReplyMarkup, t.b.EditMessageText)
	case MethodEditMessageCaption:
		var p bot.EditMessageCaptionParams
		return edit(ctx, m, &p, &p.ChatID, &p.MessageID, &p.ReplyMarkup, t.b.EditMessageCaption)
	case MethodEditMessageReplyMarkup:
		var p bot.EditMessageReplyMarkupParams
		return edit(ctx, m, &p, &p.ChatID, &p.MessageID, &p.ReplyMarkup, t.b.EditMessageReplyMarkup)
	case MethodAnswerCallbackQuery:
		var p bot.AnswerCallbackQueryParams
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return badPayload(err)
		}
		_, err := t.b.AnswerCallbackQuery(ctx, &p)
		if err != nil {
			return Classify(err), err
		}
		return Result{Outcome: Delivered}, nil
	default:
		err := fmt.Errorf("outbox: telegram: unsupported method %q", m.Method)
		return Result{Outcome: Permanent, Reason: err.Error()}, err
	}
}

// decode reads m's payload into the method's params p, whose chat_id and
// reply_markup fields chatID and replyMarkup are, and aims them at m's
// chat. reply_markup is kept as written (see markup): while decoding,
// replyMarkup holds a *json.RawMessage, into which json decodes the bytes
// rather than building a map in the interface.
func decode(m Message, p any, chatID *any, replyMarkup *models.ReplyMarkup) error {
	var raw json.RawMessage
	*replyMarkup = &raw
	if err := json.Unmarshal(m.Payload, p); err != nil {
		return err
	}
	*chatID = m.ChatID
	*replyMarkup = markup(raw)
	return nil
}

// edit makes an edit call: its params P decoded from m's payload (see
// decode) and aimed at the message m names, when it names one.
func edit[P any](ctx context.Context, m Message, p *P, chatID *any, messageID *int, replyMarkup *models.ReplyMarkup,
	call func(context.Context, *P) (*models.Message, error)) (Result, error) {
	if err := decode(m, p, chatID, replyMarkup); err != nil {
		return badPayload(err)
	}
	if m.EditMessageID != 0 {
		*messageID = int(m.EditMessageID)
	}
	_, err := call(ctx, p)
	return editResult(int64(*messageID), err)
}

func badPayload(err error) (Result, error) {
	err = fmt.Errorf("outbox: bad payload: %w", err)
	return Result{Outcome: Permanent, Reason: err.Error()}, err
}

func sentOrClassify(msg *models.Message, err error) (Result, error) {
	if err != nil {
		return Classify(err), err
	}
	var id int64
	if msg != nil {
		id = int64(msg.ID)
	}
	return Result{Outcome: Delivered, MessageID: id}, nil
}

// editResult treats "message is not modified" as success: the message
// already shows what the edit wanted.
func editResult(messageID int64, err error) (Result, error) {
	if err != nil && !(errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), "message is not modified")) {
		return Classify(err), err
	}
	return Result{Outcome: Delivered, MessageID: messageID}, nil
}

// Classify maps a go-telegram/bot error to what the dispatcher does:
//   - 429 (*bot.TooManyRequestsError) → RateLimited for retry_after seconds;
//   - 400 with migrate_to_chat_id (*bot.MigrateError) → Migrated;
//   - 403 (bot.ErrorForbidden: blocked, kicked, deactivated) → Unreachable;
//   - other 400 (bot.ErrorBadRequest) → Permanent with Telegram's description;
//   - everything else (5xx, 401/404 from a wrong token or server URL,
//     timeouts, refused connections, undecodable answers) → Retry: the
//     message is fine, the way to Telegram is not. NotDelivered when the
//     Bot API itself answered with an error or no connection was made.
func Classify(err error) Result {
	if err == nil {
		return Result{Outcome: Delivered}
	}
	var tmr *bot.TooManyRequestsError
	if errors.As(err, &tmr) {
		return Result{Outcome: RateLimited, RetryAfter: time.Duration(max(tmr.RetryAfter, 1)) * time.Second, Reason: tmr.Message}
	}
	var mig *bot.MigrateError
	if errors.As(err, &mig) {
		return Result{Outcome: Migrated, NewChatID: int64(mig.MigrateToChatID), Reason: mig.Message}
	}
	switch {
	case errors.Is(err, bot.ErrorForbidden):
		return Result{Outcome: Unreachable, Reason: description(err, bot.ErrorForbidden)}
	case errors.Is(err, bot.ErrorBadRequest):
		return Result{Outcome: Permanent, Reason: description(err, bot.ErrorBadRequest)}
	}
	return Result{Outcome: Retry, Reason: err.Error(), NotDelivered: botAPIRefused(err) || dialFailed(err)}
}

// botAPIRefused reports an error that is the Bot API's own answer
// ("ok": false with an error code: 401, 404, 409, 5xx): the method was not
// carried out. A timeout, a reset connection or an answer that is not the
// Bot API's (a proxy's HTML page) proves nothing.
func botAPIRefused(err error) bool {
	return errors.Is(err, bot.ErrorUnauthorized) || errors.Is(err, bot.ErrorNotFound) || errors.Is(err, bot.ErrorConflict) ||
		strings.HasPrefix(err.Error(), "error response from telegram for method ")
}

// description drops the library's "<sentinel>, " prefix, leaving
// Telegram's own text ("Forbidden: bot was blocked by the user").
func description(err, sentinel error) string {
	return strings.TrimPrefix(err.Error(), sentinel.Error()+", ")
}

// NewHTTPClient returns an HTTP client for the bot that sends for a
// dispatcher with opts: it keeps one idle connection per worker (the
// default transport keeps two, so concurrent sends would open and close a
// TLS connection each) and times a call out a little after SendTimeout.
// Pass it with bot.WithHTTPClient.
func NewHTTPClient(opts Options) *http.Client {
	opts = opts.withDefaults()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = opts.Workers
	tr.MaxIdleConns = max(tr.MaxIdleConns, opts.Workers)
	return &http.Client{Transport: tr, Timeout: opts.SendTimeout + 5*time.Second}
}
