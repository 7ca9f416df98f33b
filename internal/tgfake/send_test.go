package tgfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestGetMe(t *testing.T) {
	s, _ := start(t, Options{Username: "branch_bot", BotID: 42})
	// Without WithSkipGetMe the client calls getMe itself.
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	me, err := b.GetMe(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != 42 || me.Username != "branch_bot" || !me.IsBot {
		t.Fatalf("getMe = %+v", me)
	}
	if n := len(s.CallsTo("getMe")); n != 2 {
		t.Fatalf("getMe calls = %d, want 2", n)
	}
}

func TestSendMessageIsRecorded(t *testing.T) {
	s, b := start(t, Options{})
	ctx := testCtx(t)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "收到", CallbackData: "ack:7"}, {Text: "详情", URL: "https://example.org/b/7"}},
	}}
	got, err := b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID: int64(1001), Text: "<b>红灯</b> 支部 &lt;一&gt; 😀 <i>党课</i>", ParseMode: models.ParseModeHTML,
		ReplyMarkup: kb, DisableNotification: true,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: bot.True()},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The answer is what Telegram returns: rendered text with entities.
	if got.ID != 1 || got.Chat.ID != 1001 || got.Chat.Type != models.ChatTypePrivate || got.From.ID != s.Bot().ID {
		t.Fatalf("message = %+v", got)
	}
	if got.Text != "红灯 支部 <一> 😀 党课" {
		t.Fatalf("text = %q", got.Text)
	}
	want := []models.MessageEntity{{Type: "bold", Offset: 0, Length: 2}, {Type: "italic", Offset: 13, Length: 2}}
	if len(got.Entities) != 2 || got.Entities[0] != want[0] || got.Entities[1] != want[1] {
		t.Fatalf("entities = %+v, want %+v", got.Entities, want)
	}
	if got.ReplyMarkup == nil || got.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "ack:7" {
		t.Fatalf("reply markup = %+v", got.ReplyMarkup)
	}

	calls := s.CallsTo("sendMessage")
	if len(calls) != 1 || calls[0].Status != http.StatusOK {
		t.Fatalf("calls = %+v", calls)
	}
	p := calls[0].Params
	if p["chat_id"] != "1001" || p["parse_mode"] != "HTML" || !strings.HasPrefix(p["text"], "<b>红灯</b>") {
		t.Fatalf("params = %v", p)
	}
	var markup models.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(p["reply_markup"]), &markup); err != nil || markup.InlineKeyboard[0][1].URL != "https://example.org/b/7" {
		t.Fatalf("reply_markup param = %s (%v)", p["reply_markup"], err)
	}

	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	m := msgs[0]
	if m.ChatID != 1001 || m.MessageID != 1 || m.ParseMode != "HTML" || m.Text != p["text"] ||
		m.Plain != got.Text || !m.DisableNotification || !m.LinkPreviewDisabled {
		t.Fatalf("recorded = %+v", m)
	}
	if btn, ok := m.Button("收到"); !ok || btn.CallbackData != "ack:7" {
		t.Fatalf("button = %+v %v", btn, ok)
	}
	if !json.Valid(m.ReplyMarkup) {
		t.Fatalf("raw markup = %s", m.ReplyMarkup)
	}
	if one, ok := s.Message(1001, 1); !ok || one.Plain != m.Plain {
		t.Fatalf("Message(1001,1) = %+v %v", one, ok)
	}
	if len(s.MessagesTo(1001)) != 1 || len(s.MessagesTo(1002)) != 0 {
		t.Fatal("MessagesTo filters by chat")
	}
}

func TestSendMessageValidation(t *testing.T) {
	long := strings.Repeat("党", 4097)
	emoji4096 := strings.Repeat("😀", 2048) // 4096 UTF-16 units: the limit exactly
	button := func(b models.InlineKeyboardButton) models.ReplyMarkup {
		return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{b}}}
	}
	cases := []struct {
		name, text, mode string
		markup           models.ReplyMarkup
		wantErr          string // "" = accepted
	}{
		{name: "plain", text: "会议通知"},
		{name: "empty", text: "", wantErr: "Bad Request: message text is empty"},
		{name: "blank", text: "  \n ", wantErr: "Bad Request: message text is empty"},
		{name: "only tags", text: "<b></b>", mode: "HTML", wantErr: "Bad Request: text must be non-empty"},
		{name: "4096 units", text: emoji4096},
		{name: "too long", text: long, wantErr: "Bad Request: message is too long"},
		{name: "too long utf16", text: emoji4096 + "x", wantErr: "Bad Request: message is too long"},
		{name: "long markup short text", text: "<b>" + strings.Repeat("a", 4096) + "</b>", mode: "HTML"},
		{name: "all tags", mode: "HTML", text: `<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>` +
			`<span class="tg-spoiler">p</span><tg-spoiler>t</tg-spoiler><a href="https://t.me/x?a=1&amp;b=2">a</a><code>c</code>` +
			`<pre><code class="language-go">x := 1</code></pre><blockquote>q</blockquote><blockquote expandable>e</blockquote> &lt;&gt;&amp;&quot;&#39;&#x4E2D;`},
		{name: "escaped user text", mode: "HTML", text: "申请: A &amp; B &lt;3"},
		{name: "unknown tag", mode: "HTML", text: "a<br>b", wantErr: `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 1`},
		{name: "unclosed", mode: "HTML", text: "<b>bold", wantErr: `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{name: "mismatched", mode: "HTML", text: "<b><i>x</b></i>", wantErr: `Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{name: "stray end tag", mode: "HTML", text: "x</b>", wantErr: "Bad Request: can't parse entities: Unexpected end tag at byte offset 1"},
		{name: "bare lt", mode: "HTML", text: "1 < 2", wantErr: `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 2`},
		{name: "bare amp", mode: "HTML", text: "A & B", wantErr: "Bad Request: can't parse entities: Character '&' at byte offset 2"},
		{name: "named entity", mode: "HTML", text: "&nbsp;", wantErr: "Bad Request: can't parse entities: Character '&'"},
		{name: "span without class", mode: "HTML", text: "<span>x</span>", wantErr: `Tag "span" must have class "tg-spoiler"`},
		{name: "html not parsed without mode", text: "1 < 2 & <br>"},
		{name: "bad parse mode", text: "x", mode: "BBCode", wantErr: "Bad Request: unsupported parse_mode"},
		{name: "callback 64 bytes", text: "x", markup: button(models.InlineKeyboardButton{Text: "b", CallbackData: strings.Repeat("d", 64)})},
		{name: "callback 65 bytes", text: "x", markup: button(models.InlineKeyboardButton{Text: "b", CallbackData: strings.Repeat("d", 65)}), wantErr: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "callback multibyte", text: "x", markup: button(models.InlineKeyboardButton{Text: "b", CallbackData: strings.Repeat("党", 22)}), wantErr: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "text-only button", text: "x", markup: button(models.InlineKeyboardButton{Text: "b"}), wantErr: "Bad Request: text buttons are unallowed in the inline keyboard"},
		{name: "copy text button", text: "x", markup: button(models.InlineKeyboardButton{Text: "b", CopyText: models.CopyTextButton{Text: "code"}})},
		{name: "bad url button", text: "x", markup: button(models.InlineKeyboardButton{Text: "b", URL: "javascript:alert(1)"}), wantErr: "Bad Request: BUTTON_URL_INVALID"},
		{name: "reply keyboard", text: "x", markup: &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "是"}}}}},
	}
	s, b := start(t, Options{Limits: noLimits})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.SendMessage(testCtx(t), &bot.SendMessageParams{
				ChatID: int64(7), Text: tc.text, ParseMode: models.ParseMode(tc.mode), ReplyMarkup: tc.markup,
			})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want bad request %q", err, tc.wantErr)
			}
		})
	}
	for _, m := range s.Messages() {
		if m.Plain == "" {
			t.Fatalf("accepted message with empty rendering: %+v", m)
		}
	}
}

func TestPerChatLimit(t *testing.T) {
	s, b := start(t, Options{})
	ctx := testCtx(t)
	send := func(chat int64) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "提醒"})
		return err
	}
	for i := range 3 { // the burst Telegram tolerates
		if err := send(501); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	err := send(501)
	var tmr *bot.TooManyRequestsError
	if !errors.As(err, &tmr) || tmr.RetryAfter < 1 {
		t.Fatalf("4th send: %v, want TooManyRequestsError with retry_after >= 1", err)
	}
	if !strings.Contains(tmr.Message, "Too Many Requests: retry after") {
		t.Fatalf("message = %q", tmr.Message)
	}
	if err := send(502); err != nil {
		t.Fatalf("other chat is limited separately: %v", err)
	}
	if s.TooManyRequests() != 1 || len(s.Messages()) != 4 {
		t.Fatalf("429s = %d, messages = %d", s.TooManyRequests(), len(s.Messages()))
	}
	last := s.CallsTo("sendMessage")[3]
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("recorded status = %d", last.Status)
	}
	s.ResetLimits()
	if err := send(501); err != nil {
		t.Fatalf("after ResetLimits: %v", err)
	}
}

func TestGroupLimit(t *testing.T) {
	for _, chat := range []int64{-1001234567890, -4567} { // supergroup and basic group
		s, b := start(t, Options{})
		ctx := testCtx(t)
		for i := range 20 {
			if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "排名"}); err != nil {
				t.Fatalf("chat %d send %d: %v", chat, i, err)
			}
		}
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "排名"})
		var tmr *bot.TooManyRequestsError
		// 20/minute: the next token is 3 s away.
		if !errors.As(err, &tmr) || tmr.RetryAfter < 2 || tmr.RetryAfter > 3 {
			t.Fatalf("chat %d 21st send: %v", chat, err)
		}
		// Edits count too.
		_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chat, MessageID: 1, Text: "改"})
		if !errors.As(err, &tmr) {
			t.Fatalf("edit over the limit: %v", err)
		}
		if s.TooManyRequests() != 2 {
			t.Fatalf("429 count = %d", s.TooManyRequests())
		}
	}
}

func TestGlobalLimit(t *testing.T) {
	if d := DefaultLimits(); d.GlobalPerSecond != 30 || d.GlobalBurst != 30 || d.ChatPerSecond != 1 || d.ChatBurst != 3 ||
		d.GroupPerMinute != 20 || d.GroupBurst != 20 {
		t.Fatalf("DefaultLimits() = %+v", d)
	}
	// At 30/s the bucket refills during a slow (-race) run of 30 sends, so
	// the global bucket is checked with a slower refill.
	s, b := start(t, Options{Limits: Limits{GlobalPerSecond: 1, GlobalBurst: 10, ChatPerSecond: 1, ChatBurst: 3}})
	ctx := testCtx(t)
	for i := range 10 {
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(1000 + i), Text: "通知"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(2000), Text: "通知"})
	var tmr *bot.TooManyRequestsError
	if !errors.As(err, &tmr) || tmr.RetryAfter != 1 {
		t.Fatalf("11th send: %v", err)
	}
	// Methods that create nothing are not limited.
	for range 5 {
		if _, err := b.GetMe(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s.TooManyRequests() != 1 {
		t.Fatalf("429 count = %d", s.TooManyRequests())
	}
	// A refused send takes no token from the chat's bucket.
	s.SetLimits(Limits{GlobalPerSecond: 1, GlobalBurst: 1, ChatPerSecond: 1, ChatBurst: 3})
	_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(3000), Text: "a"})
	_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(3000), Text: "b"})
	s.mu.Lock()
	tokens := s.perChat[3000].TokensAt(time.Now())
	s.mu.Unlock()
	if tokens < 1.9 {
		t.Fatalf("chat bucket has %.2f tokens, want ~2", tokens)
	}
}

func TestFailNext(t *testing.T) {
	cases := []struct {
		name  string
		f     Failure
		check func(t *testing.T, err error)
	}{
		{"blocked", Blocked(), func(t *testing.T, err error) {
			if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"migrated", Migrated(-1009876543210), func(t *testing.T, err error) {
			var me *bot.MigrateError
			if !errors.As(err, &me) || me.MigrateToChatID != -1009876543210 ||
				!strings.Contains(me.Message, "group chat was upgraded to a supergroup chat") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"retry after", RetryAfter(7), func(t *testing.T, err error) {
			var tmr *bot.TooManyRequestsError
			if !errors.As(err, &tmr) || tmr.RetryAfter != 7 || !strings.Contains(tmr.Message, "retry after 7") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"internal", InternalError(), func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"bad request", BadRequest("chat not found"), func(t *testing.T, err error) {
			if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "Bad Request: chat not found") {
				t.Fatalf("err = %v", err)
			}
		}},
		{"dropped", Dropped(), func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "error do request") {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, b := start(t, Options{Limits: noLimits})
			ctx := testCtx(t)
			s.FailNext("sendMessage", -42, tc.f)
			// Another chat is not affected, and the failure hits once.
			if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-43), Text: "x"}); err != nil {
				t.Fatalf("other chat: %v", err)
			}
			_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-42), Text: "x"})
			tc.check(t, err)
			if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-42), Text: "x"}); err != nil {
				t.Fatalf("second send: %v", err)
			}
			if n := len(s.Messages()); n != 2 {
				t.Fatalf("messages = %d, want 2 (the failed one is not recorded)", n)
			}
			if calls := s.CallsTo("sendMessage"); calls[1].Status != tc.f.normalized().Code {
				t.Fatalf("recorded status = %d", calls[1].Status)
			}
		})
	}
}

func TestBlockAndMigrateChat(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	s.Group(-555, "红旗村党支部")
	s.BlockChat(9)
	s.BlockChat(-555)
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(9), Text: "x"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "blocked by the user") {
		t.Fatalf("private: %v", err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-555), Text: "x"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "kicked from the group chat") {
		t.Fatalf("group: %v", err)
	}
	s.UnblockChat(9)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(9), Text: "x"}); err != nil {
		t.Fatal(err)
	}

	s.UnblockChat(-555)
	// The user blocking the bot arrives as my_chat_member "kicked".
	user := models.User{ID: 12, FirstName: "吴"}
	if _, err := s.SendUpdate(s.BotMembership(s.PrivateChat(user), user, models.ChatMemberTypeBanned)); err != nil {
		t.Fatal(err)
	}
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(12), Text: "x"}); !errors.Is(err, bot.ErrorForbidden) {
		t.Fatalf("after my_chat_member kicked: %v", err)
	}
	if _, err := s.SendUpdate(s.BotMembership(s.PrivateChat(user), user, models.ChatMemberTypeMember)); err != nil {
		t.Fatal(err)
	}
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(12), Text: "x"}); err != nil {
		t.Fatalf("after my_chat_member member: %v", err)
	}

	s.MigrateChat(-555, -1005550000000)
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-555), Text: "x"})
	var me *bot.MigrateError
	if !errors.As(err, &me) || me.MigrateToChatID != -1005550000000 {
		t.Fatalf("migrated: %v", err)
	}
	got, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-1005550000000), Text: "x"})
	if err != nil || got.Chat.Type != models.ChatTypeSupergroup || got.Chat.Title != "红旗村党支部" {
		t.Fatalf("new chat: %+v %v", got, err)
	}
	s.ClearFailures()
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-555), Text: "x"}); err != nil {
		t.Fatalf("after ClearFailures: %v", err)
	}
}

func TestOnCall(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	var mu sync.Mutex
	seen := map[string]int{}
	s.OnCall(func(method string, p map[string]string) *Failure {
		mu.Lock()
		seen[method]++
		mu.Unlock()
		if method == "sendMessage" && strings.Contains(p["text"], "坏") {
			f := InternalError()
			return &f
		}
		return nil
	})
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(1), Text: "好"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(1), Text: "坏"}); err == nil {
		t.Fatal("hook did not fail the call")
	}
	if _, err := b.GetMe(ctx); err != nil {
		t.Fatal(err)
	}
	s.OnCall(nil)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(1), Text: "坏"}); err != nil {
		t.Fatalf("hook removed: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["sendMessage"] != 2 || seen["getMe"] != 1 {
		t.Fatalf("hook saw %v", seen)
	}
}

func TestEditMessage(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "通过", CallbackData: "claim:1:ok"}}}}
	sent, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(-100), Text: "申请 #1", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}

	// Same text and markup: not modified.
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: int64(-100), MessageID: sent.ID, Text: "申请 #1", ReplyMarkup: kb})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "Bad Request: message is not modified") {
		t.Fatalf("same content: %v", err)
	}
	// Same text without markup removes the keyboard: a modification.
	ed, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: int64(-100), MessageID: sent.ID, Text: "申请 #1"})
	if err != nil || ed.ReplyMarkup != nil || ed.EditDate == 0 {
		t.Fatalf("edit: %+v %v", ed, err)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: int64(-100), MessageID: sent.ID, Text: "<b>已通过</b>", ParseMode: models.ParseModeHTML})
	if err != nil {
		t.Fatal(err)
	}
	// HTML that renders to the same text and entities is not a change.
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: int64(-100), MessageID: sent.ID, Text: "<strong>已通过</strong>", ParseMode: models.ParseModeHTML})
	if err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("equivalent HTML: %v", err)
	}
	m, ok := s.Message(-100, sent.ID)
	if !ok || !m.Edited || m.Text != "<b>已通过</b>" || m.Plain != "已通过" || len(m.Keyboard) != 0 {
		t.Fatalf("after edits: %+v", m)
	}
	if len(s.Messages()) != 1 {
		t.Fatal("edits must not add messages")
	}

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: int64(-100), MessageID: 99, Text: "x"})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("unknown message: %v", err)
	}

	// Reply markup alone.
	if _, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: int64(-100), MessageID: sent.ID, ReplyMarkup: kb}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Message(-100, sent.ID); len(m.Buttons()) != 1 {
		t.Fatalf("keyboard not restored: %+v", m)
	}
	_, err = b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: int64(-100), MessageID: sent.ID, ReplyMarkup: kb})
	if err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("same markup: %v", err)
	}

	// A user's message exists but is not the bot's to edit.
	grp := s.Group(-100, "组")
	u := s.TextMessage(grp, models.User{ID: 5, FirstName: "李"}, "hi")
	if _, err := s.SendUpdate(u); err != nil {
		t.Fatal(err)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: int64(-100), MessageID: u.Message.ID, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "message can't be edited") {
		t.Fatalf("user's message: %v", err)
	}
}

func TestAnswerCallbackQuery(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "收到", CallbackData: "ack:3"}}}}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(77), Text: "红灯督办", ReplyMarkup: kb}); err != nil {
		t.Fatal(err)
	}
	msg := s.Messages()[0]
	btn, _ := msg.Button("收到")
	u := s.CallbackQuery(models.User{ID: 77, FirstName: "王"}, msg, btn.CallbackData)
	q := u.CallbackQuery
	if q.Data != "ack:3" || q.Message.Message == nil || q.Message.Message.ID != msg.MessageID || q.Message.Message.Chat.ID != 77 {
		t.Fatalf("callback = %+v", q)
	}
	if kb := q.Message.Message.ReplyMarkup; kb == nil || kb.InlineKeyboard[0][0].CallbackData != "ack:3" {
		t.Fatal("callback message lacks the keyboard")
	}
	ok, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: "已收到"})
	if err != nil || !ok {
		t.Fatalf("answer: %v %v", ok, err)
	}
	_, err = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "query is too old") {
		t.Fatalf("second answer: %v", err)
	}
	_, err = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "nope"})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("unknown id: %v", err)
	}
	ans := s.CallbackAnswers()
	if len(ans) != 1 || ans[0].QueryID != q.ID || ans[0].Text != "已收到" || ans[0].Data != "ack:3" || ans[0].UserID != 77 {
		t.Fatalf("answers = %+v", ans)
	}
}

func TestSetMyCommands(t *testing.T) {
	s, b := start(t, Options{})
	ctx := testCtx(t)
	cmds := []models.BotCommand{{Command: "checkin", Description: "会议打卡"}, {Command: "status", Description: "查看红黄绿灯"}}
	if ok, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds}); err != nil || !ok {
		t.Fatalf("set: %v %v", ok, err)
	}
	private := []models.BotCommand{{Command: "start", Description: "绑定"}}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: private, Scope: &models.BotCommandScopeAllPrivateChats{}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Commands(); len(got) != 1 || got[0] != private[0] {
		t.Fatalf("Commands() = %+v (the last call)", got)
	}
	got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{})
	if err != nil || len(got) != 2 || got[1] != cmds[1] {
		t.Fatalf("default scope = %+v %v", got, err)
	}
	if got := s.CommandsFor(`{"type":"all_private_chats"}`, ""); len(got) != 1 {
		t.Fatalf("private scope = %+v", got)
	}
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Check-In", Description: "x"}}})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "BOT_COMMAND_INVALID") {
		t.Fatalf("invalid command: %v", err)
	}
}

func TestReplyParameters(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	chat := s.Group(-1001000000001, "支部群")
	up := s.TextMessage(chat, models.User{ID: 3, FirstName: "赵"}, "/checkin 党课")
	if _, err := s.SendUpdate(up); err != nil {
		t.Fatal(err)
	}
	got, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat.ID, Text: "已记录", MessageThreadID: 0,
		ReplyParameters: &models.ReplyParameters{MessageID: up.Message.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != up.Message.ID+1 {
		t.Fatalf("bot message id %d does not follow the user's %d", got.ID, up.Message.ID)
	}
	if m, _ := s.Message(chat.ID, got.ID); m.ReplyTo != up.Message.ID {
		t.Fatalf("ReplyTo = %d", m.ReplyTo)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat.ID, Text: "x", ReplyParameters: &models.ReplyParameters{MessageID: 999}})
	if err == nil || !strings.Contains(err.Error(), "message to be replied not found") {
		t.Fatalf("missing target: %v", err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat.ID, Text: "x",
		ReplyParameters: &models.ReplyParameters{MessageID: 999, AllowSendingWithoutReply: true}})
	if err != nil {
		t.Fatalf("allow_sending_without_reply: %v", err)
	}
}

func TestSendPhotoAndFiles(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	img := []byte("\xff\xd8\xff fake jpeg")
	got, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: int64(8), Caption: "<b>打卡</b>照片", ParseMode: models.ParseModeHTML,
		Photo: &models.InputFileUpload{Filename: "meeting.jpg", Data: bytes.NewReader(img)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Photo) == 0 || got.Caption != "打卡照片" || len(got.CaptionEntities) != 1 {
		t.Fatalf("photo message = %+v", got)
	}
	fileID := got.Photo[len(got.Photo)-1].FileID
	m := s.Messages()[0]
	if m.Photo != fileID || m.Caption != "<b>打卡</b>照片" || m.Text != "" {
		t.Fatalf("recorded = %+v", m)
	}
	if c := s.CallsTo("sendPhoto")[0]; c.Uploads["photo"] != "meeting.jpg" {
		t.Fatalf("uploads = %v", c.Uploads)
	}

	f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: fileID})
	if err != nil || f.FilePath == "" || f.FileSize != int64(len(img)) {
		t.Fatalf("getFile = %+v %v", f, err)
	}
	resp, err := http.Get(b.FileDownloadLink(f))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(data, img) {
		t.Fatalf("download: %d %q", resp.StatusCode, data)
	}

	// Resending by file_id, a user's photo, and an unknown id.
	if _, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: int64(9), Photo: &models.InputFileString{Data: fileID}}); err != nil {
		t.Fatalf("by file_id: %v", err)
	}
	up := s.PhotoMessage(s.PrivateChat(models.User{ID: 10}), models.User{ID: 10}, "/checkin 党课", "user-photo-1")
	if ents := up.Message.CaptionEntities; len(ents) != 1 || ents[0].Length != 8 {
		t.Fatalf("caption entities = %+v", ents)
	}
	if _, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: int64(-5), Photo: &models.InputFileString{Data: "user-photo-1"}}); err != nil {
		t.Fatalf("user's file_id: %v", err)
	}
	_, err = b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: int64(9), Photo: &models.InputFileString{Data: "no-such-file"}})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "wrong file identifier") {
		t.Fatalf("unknown file_id: %v", err)
	}
	_, err = b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: int64(9), Photo: &models.InputFileString{Data: fileID}, Caption: strings.Repeat("长", 1025)})
	if err == nil || !strings.Contains(err.Error(), "message caption is too long") {
		t.Fatalf("long caption: %v", err)
	}
}

func TestConcurrentSends(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(g%3 + 1), Text: "并发"}); err != nil {
					t.Errorf("send %d/%d: %v", g, i, err)
				}
			}
		}()
	}
	wg.Wait()
	seen := map[[2]int64]bool{}
	for _, m := range s.Messages() {
		k := [2]int64{m.ChatID, int64(m.MessageID)}
		if seen[k] {
			t.Fatalf("duplicate message id %v", k)
		}
		seen[k] = true
	}
	if len(seen) != 80 {
		t.Fatalf("messages = %d", len(seen))
	}
	s.Reset()
	if len(s.Messages()) != 0 || len(s.Calls()) != 0 {
		t.Fatal("Reset keeps recordings")
	}
	if _, ok := s.Message(1, 1); !ok {
		t.Fatal("Reset must keep sent messages editable")
	}
}

func TestChatsFilesAndMisc(t *testing.T) {
	s, b := start(t, Options{StrictChats: true, Limits: noLimits, MaxRecords: 3})
	ctx := testCtx(t)
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(404), Text: "x"})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "chat not found") {
		t.Fatalf("unknown chat with StrictChats: %v", err)
	}
	s.AddChat(models.Chat{ID: -1002000000000, Type: models.ChatTypeChannel, Title: "通知", Username: "zhibu_news"})
	got, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: "@zhibu_news", Text: "公告"})
	if err != nil || got.Chat.ID != -1002000000000 || got.SenderChat == nil || got.From != nil {
		t.Fatalf("@username channel: %+v %v", got, err)
	}
	if ok, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: "@zhibu_news", Action: models.ChatActionTyping}); err != nil || !ok {
		t.Fatalf("sendChatAction: %v", err)
	}
	if ok, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: got.Chat.ID, MessageID: got.ID}); err != nil || !ok {
		t.Fatalf("deleteMessage: %v", err)
	}
	if m, _ := s.Message(got.Chat.ID, got.ID); !m.Deleted {
		t.Fatal("not marked deleted")
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: got.Chat.ID, MessageID: got.ID, Text: "y"})
	if err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("edit deleted: %v", err)
	}
	_, err = b.GetFile(ctx, &bot.GetFileParams{FileID: "nope"})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "invalid file_id") {
		t.Fatalf("getFile: %v", err)
	}
	// MaxRecords bounds the recordings.
	for range 4 {
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: "@zhibu_news", Text: "z"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Messages()) != 3 || len(s.Calls()) != 3 {
		t.Fatalf("recorded %d messages, %d calls", len(s.Messages()), len(s.Calls()))
	}
}

func TestEditMessageCaption(t *testing.T) {
	s, b := start(t, Options{Limits: noLimits})
	ctx := testCtx(t)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "通过", CallbackData: "cl:1:ok"}}}}
	s.AddFile("photo-1", []byte("jpeg"))
	sent, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: int64(-100), Photo: &models.InputFileString{Data: "photo-1"}, Caption: "申报 #1", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: int64(-100), MessageID: sent.ID, Text: "x"}); err == nil {
		t.Fatal("editMessageText on a photo must fail like Telegram")
	}
	if _, err := b.EditMessageCaption(ctx, &bot.EditMessageCaptionParams{ChatID: int64(-100), MessageID: sent.ID, Caption: "申报 #1 <b>已通过</b>", ParseMode: models.ParseModeHTML}); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Message(-100, sent.ID)
	if !m.Edited || m.Plain != "申报 #1 已通过" || len(m.Keyboard) != 0 || m.Photo != "photo-1" {
		t.Fatalf("after caption edit: %+v", m)
	}
	_, err = b.EditMessageCaption(ctx, &bot.EditMessageCaptionParams{ChatID: int64(-100), MessageID: sent.ID, Caption: "申报 #1 <b>已通过</b>", ParseMode: models.ParseModeHTML})
	if err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("same caption: %v", err)
	}
}
