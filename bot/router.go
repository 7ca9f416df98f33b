// Package bot adapts Telegram updates to zhibu's use cases. Updates are
// stored before they are acknowledged (see Pool.Ingest); each is then
// processed in one database transaction that also records its outcome, so
// an update's effects and its replies commit together, exactly once. A
// handler's refusal (*domain.UserError) undoes what the handler wrote, keeps
// its audit entry and becomes the reply. Replies never go out from here:
// they are enqueued in the outbox.
//
// Commands are parsed by domain/command rather than go-telegram/bot's
// matchers, which miss "/cmd@botname" and slice UTF-8 text with UTF-16
// offsets; the library supplies the models and, in the outbox, the sending.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/command"
)

// Outcomes recorded on an update's row.
const (
	OutcomeOK       = "ok"
	OutcomeRefused  = "refused"
	OutcomeIgnored  = "ignored"
	OutcomeError    = "error"
	OutcomePanic    = "panic"
	OutcomeMalfomed = "malformed"
)

// maxAttempts bounds how often a failing update is retried before it is
// given up (with an apology to the user).
const maxAttempts = 3

// HandlerFunc handles one command or callback.
type HandlerFunc func(c *Ctx) error

// Command is a bot command and its help line.
type Command struct {
	Name        string
	Description string // Chinese, for setMyCommands
	Handler     HandlerFunc
	// Roles that see it in /help; empty = everyone.
	Roles []string
	// Words are the Chinese words that stand for the command without a
	// slash, in groups and private chats ("打卡", "积分"); /help shows them.
	// A word belongs to one command.
	Words []string
}

// Router routes updates to handlers.
type Router struct {
	app       *app.App
	username  string
	commands  map[string]Command
	order     []string
	words     command.Words
	callbacks map[string]HandlerFunc
	messages  []MessageHook
	log       *slog.Logger
}

// MessageHook sees messages that carry no command (e.g. the captionless
// photos of an album); it reports whether it handled the message.
type MessageHook func(c *Ctx) (handled bool, err error)

// NewRouter builds a router with every feature's commands registered.
func NewRouter(a *app.App, botUsername string, log *slog.Logger) *Router {
	r := &Router{app: a, username: botUsername, commands: map[string]Command{}, words: command.Words{}, callbacks: map[string]HandlerFunc{}, log: log}
	registerAll(r)
	return r
}

// botUsername is the username learnt since start (serve asks getMe in the
// background), else the one given to NewRouter.
func (r *Router) botUsername() string {
	if r.app != nil {
		if u := r.app.BotUsername(); u != "" {
			return u
		}
	}
	return r.username
}

// Handle registers a command; a later registration of a name replaces it.
// A word already taken by another command panics: the table is wrong.
func (r *Router) Handle(c Command) {
	if old, ok := r.commands[c.Name]; !ok {
		r.order = append(r.order, c.Name)
	} else {
		for _, w := range old.Words {
			delete(r.words, w)
		}
	}
	for _, w := range c.Words {
		if other, ok := r.words[w]; ok && other != c.Name {
			panic(fmt.Sprintf("bot: command word %q of /%s is already /%s's", w, c.Name, other))
		}
		r.words[w] = c.Name
	}
	r.commands[c.Name] = c
}

// HandleMessage registers a hook for messages without a command.
func (r *Router) HandleMessage(h MessageHook) { r.messages = append(r.messages, h) }

// HandleCallback registers a handler for callback data "<prefix>:...".
func (r *Router) HandleCallback(prefix string, h HandlerFunc) { r.callbacks[prefix] = h }

// Commands lists the published commands in registration order.
func (r *Router) Commands() []Command {
	out := make([]Command, 0, len(r.order))
	for _, n := range r.order {
		if c := r.commands[n]; c.Description != "" {
			out = append(out, c)
		}
	}
	return out
}

// Ctx is what a handler works with: the update, the sender as an Actor, the
// parsed command, and an App bound to the update's transaction.
type Ctx struct {
	context.Context
	App      *app.App
	Update   *models.Update
	Msg      *models.Message // the message or the callback's message
	Callback *models.CallbackQuery
	Actor    domain.Actor
	Cmd      command.Cmd
	Data     string // callback data
	From     *models.User
	router   *Router
	n        int
	answered bool
}

// ChatID is the chat the update came from.
func (c *Ctx) ChatID() int64 {
	if c.Msg != nil {
		return c.Msg.Chat.ID
	}
	if c.From != nil {
		return c.From.ID
	}
	return 0
}

// Private reports whether the update came from a private chat.
func (c *Ctx) Private() bool { return c.Msg == nil || c.Msg.Chat.Type == models.ChatTypePrivate }

// Reply enqueues an HTML reply in the update's chat. Callers escape user
// text with E. The dedupe key derives from the update id, so reprocessing an
// update never sends its replies twice.
func (c *Ctx) Reply(text string, markup any) error {
	payload := map[string]any{"text": text, "parse_mode": "HTML", "link_preview_options": map[string]any{"is_disabled": true}}
	if markup != nil {
		payload["reply_markup"] = markup
	}
	if c.Msg != nil && c.Callback == nil {
		payload["reply_parameters"] = map[string]any{"message_id": c.Msg.ID, "allow_sending_without_reply": true}
	}
	if c.Msg != nil && c.Msg.IsTopicMessage {
		payload["message_thread_id"] = c.Msg.MessageThreadID
	}
	return c.SendTo(c.ChatID(), text, payload, "reply")
}

// SendTo enqueues a message to any chat as part of this update.
func (c *Ctx) SendTo(chatID int64, text string, payload map[string]any, kind string) error {
	if payload == nil {
		payload = map[string]any{"text": text, "parse_mode": "HTML"}
	}
	return c.App.SendReply(c, app.Reply{Key: c.nextKey(), ChatID: chatID, Kind: kind, Payload: payload})
}

// nextKey is the dedupe key of the update's next reply: upd:<update_id>:<n>.
func (c *Ctx) nextKey() string {
	c.n++
	return fmt.Sprintf("upd:%d:%d", c.Update.ID, c.n)
}

// Answer answers the callback query (once); Telegram shows a spinner until then.
func (c *Ctx) Answer(text string, alert bool) error {
	if c.Callback == nil || c.answered {
		return nil
	}
	c.answered = true
	p := map[string]any{"callback_query_id": c.Callback.ID}
	if text != "" {
		p["text"] = text
		p["show_alert"] = alert
	}
	return c.App.SendReply(c, app.Reply{Key: c.nextKey(), ChatID: c.ChatID(), Kind: "callback", Method: "answerCallbackQuery", Payload: p})
}

// E escapes user-provided text for HTML parse mode.
func E(s string) string { return html.EscapeString(s) }

// Process handles one stored update in one transaction, which the update
// log opens (app.Inbox.Process): lock the row, run the handler, record the
// outcome. A handler error rolls everything back; the failed attempt is
// then counted in its own statement, and the update is retried up to
// maxAttempts, then recorded as failed with an apology.
func (r *Router) Process(ctx context.Context, updateID int64) (outcome string, err error) {
	outcome, attempts, err := r.app.Inbox().Process(ctx, updateID, func(a *app.App, su app.StoredUpdate) (string, error) {
		return r.dispatch(ctx, a, su.Raw)
	})
	if err == nil {
		return outcome, nil
	}
	if attempts < maxAttempts {
		return OutcomeError, err
	}
	// Give up: record the failure and tell the user, in a fresh transaction.
	kind := OutcomeError
	var pe *panicError
	if errors.As(err, &pe) {
		kind = OutcomePanic
	}
	ferr := r.app.Inbox().GiveUp(ctx, updateID, kind, err.Error(), func(a *app.App, su app.StoredUpdate) error {
		var u models.Update
		if json.Unmarshal(su.Raw, &u) == nil {
			if c := r.newCtx(ctx, a, &u); c != nil && c.ChatID() != 0 {
				c.n = 100 // keep clear of keys an earlier attempt might have used
				_ = c.Answer("", false)
				return c.Reply(bt.T("reply.apology"), nil)
			}
		}
		return nil
	})
	if ferr != nil && !errors.Is(ferr, domain.ErrNotFound) {
		return kind, errors.Join(err, ferr)
	}
	return kind, err
}

// Job is a stored update to process; Raw is the update as received when
// it is still in hand from ingest (nil: read it from the store).
type Job struct {
	UpdateID int64
	Raw      []byte
}

// ProcessBatch handles several stored updates in one transaction, which
// the update log opens (app.Inbox.ProcessBatch), in the order given (a
// chat's updates keep their order), and returns their outcomes in that
// order ("" for one processed elsewhere). One commit for many updates is
// what lets a busy bot keep up: a commit waits for the disk, a statement
// does not. When any update of the batch fails (an error, a panic, a
// deadlock) or has failed before, the batch rolls back and each update is
// processed on its own by Process, so a bad update costs its batch-mates a
// second run, never their effects, and its failures are counted as usual.
func (r *Router) ProcessBatch(ctx context.Context, jobs []Job) ([]string, error) {
	if len(jobs) > 1 {
		ids := make([]int64, len(jobs))
		var known []int64
		for i, j := range jobs {
			ids[i] = j.UpdateID
			if j.Raw != nil {
				known = append(known, j.UpdateID)
			}
		}
		outcomes, err := r.app.Inbox().ProcessBatch(ctx, ids, known, func(a *app.App, i int, su app.StoredUpdate) (string, error) {
			raw := jobs[i].Raw
			if raw == nil {
				raw = su.Raw
			}
			return r.dispatch(ctx, a, raw)
		})
		if err == nil {
			return outcomes, nil
		}
		if !errors.Is(err, app.ErrFailedBefore) {
			r.log.Warn("batch failed; processing its updates one by one", slog.Int("updates", len(jobs)), slog.Any("err", err))
		}
	}
	outcomes := make([]string, len(jobs))
	var errs []error
	for i, j := range jobs {
		var err error
		if outcomes[i], err = r.Process(ctx, j.UpdateID); err != nil {
			errs = append(errs, fmt.Errorf("update %d: %w", j.UpdateID, err))
		}
	}
	return outcomes, errors.Join(errs...)
}

type panicError struct {
	v     any
	stack string
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// dispatch decodes the update and runs its handler; panics become errors.
func (r *Router) dispatch(ctx context.Context, a *app.App, raw []byte) (outcome string, err error) {
	var u models.Update
	if err := decodeUpdate(raw, &u); err != nil {
		return OutcomeMalfomed, nil
	}
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("handler panic", slog.Int64("update_id", u.ID), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			err = &panicError{v: v, stack: string(debug.Stack())}
		}
	}()
	c := r.newCtx(ctx, a, &u)
	if c == nil {
		return OutcomeIgnored, nil
	}
	if m := u.Message; m != nil && (m.MigrateToChatID != 0 || m.MigrateFromChatID != 0) {
		from, to := m.Chat.ID, m.MigrateToChatID
		if m.MigrateFromChatID != 0 {
			from, to = m.MigrateFromChatID, m.Chat.ID
		}
		if err := a.MigrateChat(ctx, from, to); err != nil {
			return "", err
		}
		return OutcomeOK, nil
	}
	if c.From != nil {
		if c.Actor, err = accounts.Of(a).ActorByTelegram(ctx, c.From.ID); err != nil {
			return "", err
		}
		if c.Private() && c.Actor.PersonID != 0 {
			if err := a.MarkChatReachable(ctx, c.From.ID); err != nil {
				return "", err
			}
		}
	}
	h := r.route(c)
	if h == nil {
		return OutcomeIgnored, nil
	}
	// A refusal undoes what the handler wrote but its refusal records
	// (audit entries); the refusal is then the reply. The update's other
	// effects above and its batch-mates' stay.
	answered := c.answered
	err = a.Inbox().Run(ctx, func() error { return h(c) })
	if err != nil {
		if errors.Is(err, errIgnored) {
			return OutcomeIgnored, nil
		}
		var ue *domain.UserError
		if errors.As(err, &ue) {
			c.answered = answered // an answer enqueued before the refusal was undone
			if c.Callback != nil {
				return OutcomeRefused, c.Answer(ue.Msg, true)
			}
			return OutcomeRefused, c.Reply(E(ue.Msg), nil)
		}
		return "", err
	}
	if c.Callback != nil {
		if err := c.Answer("", false); err != nil {
			return "", err
		}
	}
	return OutcomeOK, nil
}

func (r *Router) newCtx(ctx context.Context, a *app.App, u *models.Update) *Ctx {
	c := &Ctx{Context: ctx, App: a, Update: u, router: r}
	switch {
	case u.Message != nil:
		c.Msg, c.From = u.Message, u.Message.From
	case u.CallbackQuery != nil:
		c.Callback = u.CallbackQuery
		from := u.CallbackQuery.From
		c.From = &from
		c.Msg = u.CallbackQuery.Message.Message
		c.Data = u.CallbackQuery.Data
	default:
		return nil
	}
	return c
}

func (r *Router) route(c *Ctx) HandlerFunc {
	if c.Callback != nil {
		prefix, _, _ := strings.Cut(c.Data, ":")
		if h, ok := r.callbacks[prefix]; ok {
			return h
		}
		return func(c *Ctx) error { return c.Answer(bt.T("button.stale"), false) }
	}
	text := c.Msg.Text
	if text == "" {
		text = c.Msg.Caption
	}
	cmd, ok := command.Parse(text, r.botUsername(), r.words)
	if !ok {
		if strings.ContainsRune(text, 0) {
			// PostgreSQL refuses NUL in text: a private message is
			// told so, a group's chatter is left alone.
			if c.Private() {
				return refuseNUL
			}
			return nil
		}
		return r.routeMessage(c, text)
	}
	c.Cmd = cmd
	if h, ok := r.commands[cmd.Name]; ok {
		if strings.ContainsRune(text, 0) {
			return refuseNUL
		}
		return h.Handler
	}
	if c.Private() {
		return func(c *Ctx) error {
			return c.Reply(bt.T("reply.unknown", "name", E(cmd.Name)), nil)
		}
	}
	return nil
}

// refuseNUL answers a message with a NUL (U+0000) in it, which no use
// case can store (SPEC §7.5), instead of failing and retrying the update.
func refuseNUL(*Ctx) error {
	return domain.Refuse(domain.ErrInvalid, "%s", bt.T("refuse.nul"))
}

// routeMessage offers a message without a command to the hooks; a private
// text nobody handles gets the help.
func (r *Router) routeMessage(c *Ctx, text string) HandlerFunc {
	return func(c *Ctx) error {
		for _, h := range r.messages {
			handled, err := h(c)
			if err != nil || handled {
				return err
			}
		}
		if c.Private() && text != "" {
			return helpHandler(c)
		}
		return errIgnored
	}
}

// errIgnored marks an update no handler wanted (outcome "ignored").
var errIgnored = errors.New("ignored")

// helpFor lists the commands the actor can use.
func (r *Router) helpFor(actor domain.Actor) []Command {
	held := map[string]bool{}
	for _, x := range actor.Roles {
		held[x.Role] = true
	}
	var out []Command
	for _, c := range r.Commands() {
		ok := len(c.Roles) == 0
		for _, role := range c.Roles {
			ok = ok || held[role]
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}

func roleSummary(actor domain.Actor) string {
	var parts []string
	for _, r := range actor.Roles {
		parts = append(parts, E(r.UnitName)+" "+domain.RoleLabel(r.Role, r.UnitKind))
	}
	sort.Strings(parts)
	return strings.Join(parts, "、")
}
