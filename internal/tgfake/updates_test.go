package tgfake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestLongPollingDeliversUpdates(t *testing.T) {
	s := New(Options{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	got := make(chan *models.Update, 4)
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithSkipGetMe(), bot.WithNotAsyncHandlers(),
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) { got <- u }))
	if err != nil {
		t.Fatal(err)
	}
	commands := make(chan string, 1)
	b.RegisterHandler(bot.HandlerTypeMessageText, "start", bot.MatchTypeCommandStartOnly,
		func(_ context.Context, _ *bot.Bot, u *models.Update) { commands <- u.Message.Text })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	// The bot is already waiting in a long poll when the update arrives.
	if err := s.WaitFor(testCtx(t), func(s *Server) bool { return s.polling() }); err != nil {
		t.Fatal(err)
	}
	user := models.User{ID: 11, FirstName: "张", LanguageCode: "zh-hans"}
	chat := s.PrivateChat(user)
	id, err := s.SendUpdateAndWait(testCtx(t), s.TextMessage(chat, user, "/start QA-RZ-01"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case text := <-commands:
		if text != "/start QA-RZ-01" {
			t.Fatalf("text = %q", text)
		}
	case <-testCtx(t).Done():
		t.Fatal("command handler not called")
	}

	// A callback query round-trips through JSON (MaybeInaccessibleMessage).
	if _, err := b.SendMessage(testCtx(t), &bot.SendMessageParams{ChatID: chat.ID, Text: "确认?",
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "是", CallbackData: "yes"}}}}}); err != nil {
		t.Fatal(err)
	}
	id2, err := s.SendUpdateAndWait(testCtx(t), s.CallbackQuery(user, s.Messages()[0], "yes"))
	if err != nil || id2 != id+1 {
		t.Fatalf("second update id %d (first %d): %v", id2, id, err)
	}
	select {
	case u := <-got:
		if u.CallbackQuery == nil || u.CallbackQuery.Data != "yes" || u.CallbackQuery.Message.Message == nil ||
			u.CallbackQuery.Message.Message.Text != "确认?" {
			t.Fatalf("update = %+v", u)
		}
	case <-testCtx(t).Done():
		t.Fatal("callback not delivered")
	}
	// Once the bot polls with a higher offset, the queue is empty.
	if err := s.WaitFor(testCtx(t), func(s *Server) bool { return s.PendingUpdates() == 0 }); err != nil {
		t.Fatal(err)
	}
	if p := s.CallsTo("getUpdates")[0].Params; p["timeout"] == "" {
		t.Fatalf("client did not long-poll: %v", p)
	}
}

// getUpdates calls the method with raw form parameters.
func getUpdates(t *testing.T, s *Server, vals url.Values) (int, []models.Update, rawResp) {
	t.Helper()
	code, r := form(t, s, "getUpdates", vals)
	var ups []models.Update
	if r.OK {
		if err := json.Unmarshal(r.Result, &ups); err != nil {
			t.Fatal(err)
		}
	}
	return code, ups, r
}

func TestGetUpdatesOffsets(t *testing.T) {
	s := New(Options{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := models.User{ID: 5, FirstName: "孙"}
	chat := s.PrivateChat(user)
	var ids []int64
	for _, text := range []string{"一", "二", "三"} {
		id, err := s.SendUpdate(s.TextMessage(chat, user, text))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] != 1 || ids[2] != 3 {
		t.Fatalf("update ids = %v", ids)
	}
	_, ups, _ := getUpdates(t, s, url.Values{"limit": {"2"}})
	if len(ups) != 2 || ups[0].Message.Text != "一" {
		t.Fatalf("limit 2: %+v", ups)
	}
	// Not confirmed yet: the same updates again.
	if _, ups, _ = getUpdates(t, s, nil); len(ups) != 3 {
		t.Fatalf("unconfirmed: %d updates", len(ups))
	}
	// offset confirms everything below it.
	if _, ups, _ = getUpdates(t, s, url.Values{"offset": {strconv.FormatInt(ids[1], 10)}}); len(ups) != 2 || ups[0].ID != ids[1] {
		t.Fatalf("offset: %+v", ups)
	}
	if s.PendingUpdates() != 2 {
		t.Fatalf("pending = %d", s.PendingUpdates())
	}
	// Negative offset keeps only the last ones.
	if _, ups, _ = getUpdates(t, s, url.Values{"offset": {"-1"}}); len(ups) != 1 || ups[0].ID != ids[2] {
		t.Fatalf("offset -1: %+v", ups)
	}
	if _, ups, _ = getUpdates(t, s, url.Values{"offset": {strconv.FormatInt(ids[2]+1, 10)}}); len(ups) != 0 {
		t.Fatalf("all confirmed: %+v", ups)
	}

	// Default allowed_updates exclude chat_member; explicit ones filter.
	cm := models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{Status: models.ChatMemberTypeMember, User: &user}}
	if _, err := s.SendUpdate(models.Update{ChatMember: &models.ChatMemberUpdated{Chat: chat, From: user, OldChatMember: cm, NewChatMember: cm}}); !errors.Is(err, ErrFiltered) {
		t.Fatalf("chat_member by default: %v", err)
	}
	getUpdates(t, s, url.Values{"allowed_updates": {`["callback_query"]`}})
	if _, err := s.SendUpdate(s.TextMessage(chat, user, "四")); !errors.Is(err, ErrFiltered) {
		t.Fatalf("message not allowed: %v", err)
	}
}

func TestGetUpdatesLongPollAndConflicts(t *testing.T) {
	s := New(Options{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := models.User{ID: 6}
	chat := s.PrivateChat(user)

	// A waiting poll returns as soon as an update arrives.
	type result struct {
		code int
		ups  []models.Update
		r    rawResp
	}
	first := make(chan result, 1)
	go func() {
		c, u, r := getUpdates(t, s, url.Values{"timeout": {"30"}})
		first <- result{c, u, r}
	}()
	if err := s.WaitFor(testCtx(t), func(s *Server) bool { return s.polling() }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendUpdate(s.TextMessage(chat, user, "早")); err != nil {
		t.Fatal(err)
	}
	if res := <-first; res.code != 200 || len(res.ups) != 1 {
		t.Fatalf("long poll: %+v", res)
	}

	// A second poller terminates the first with 409.
	older := make(chan result, 1)
	go func() {
		c, u, r := getUpdates(t, s, url.Values{"offset": {"2"}, "timeout": {"30"}})
		older <- result{c, u, r}
	}()
	if err := s.WaitFor(testCtx(t), func(s *Server) bool { return s.polling() }); err != nil {
		t.Fatal(err)
	}
	if code, ups, _ := getUpdates(t, s, url.Values{"offset": {"2"}}); code != 200 || len(ups) != 0 {
		t.Fatalf("newer poll: %d %v", code, ups)
	}
	if res := <-older; res.code != http.StatusConflict || res.r.Description != "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" {
		t.Fatalf("older poll: %+v", res)
	}

	// A short timeout answers an empty list.
	start := time.Now()
	if code, ups, _ := getUpdates(t, s, url.Values{"offset": {"2"}, "timeout": {"1"}}); code != 200 || len(ups) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("timeout poll: %d %v after %v", code, ups, time.Since(start))
	}

	// getUpdates while a webhook is set.
	if code, _ := form(t, s, "setWebhook", url.Values{"url": {"http://127.0.0.1:1/hook"}}); code != 200 {
		t.Fatal("setWebhook failed")
	}
	code, _, r := getUpdates(t, s, nil)
	if code != http.StatusConflict || r.ErrorCode != 409 || r.Description != "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" {
		t.Fatalf("with webhook: %d %+v", code, r)
	}
}

// polling reports whether a getUpdates is waiting (test helper).
func (s *Server) polling() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls > 0
}

// hookRecorder is a webhook endpoint answering with the given statuses in turn
// (200 once they run out).
type hookRecorder struct {
	mu       sync.Mutex
	statuses []int
	secrets  []string
	bodies   []models.Update
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var u models.Update
	_ = json.Unmarshal(data, &u)
	h.mu.Lock()
	h.secrets = append(h.secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	h.bodies = append(h.bodies, u)
	status := http.StatusOK
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	h.mu.Unlock()
	w.WriteHeader(status)
}

func TestWebhookDelivery(t *testing.T) {
	hook := &hookRecorder{statuses: []int{http.StatusInternalServerError}}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	s, b := start(t, Options{WebhookBackoff: 10 * time.Millisecond})
	ctx := testCtx(t)

	// Queued before the webhook is set: delivered once it is.
	user := models.User{ID: 21, FirstName: "周"}
	chat := s.PrivateChat(user)
	early, err := s.SendUpdate(s.TextMessage(chat, user, "先到"))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hs.URL + "/telegram/webhook", SecretToken: "s3cr3t_-",
		AllowedUpdates: []string{"message", "callback_query"}})
	if err != nil || !ok {
		t.Fatalf("setWebhook: %v", err)
	}
	id, err := s.SendUpdateAndWait(ctx, s.TextMessage(chat, user, "/checkin 支委会"))
	if err != nil {
		t.Fatal(err)
	}
	ds := s.WebhookDeliveries()
	// The first update failed once (500), was redelivered, then the second went.
	if len(ds) != 3 || ds[0].UpdateID != early || ds[0].Status != 500 || ds[0].Attempt != 1 ||
		ds[1].UpdateID != early || ds[1].Status != 200 || ds[1].Attempt != 2 ||
		ds[2].UpdateID != id || ds[2].Status != 200 {
		t.Fatalf("deliveries = %+v", ds)
	}
	hook.mu.Lock()
	for _, sec := range hook.secrets {
		if sec != "s3cr3t_-" {
			t.Errorf("secret header = %q", sec)
		}
	}
	if last := hook.bodies[len(hook.bodies)-1]; last.ID != id || last.Message.Text != "/checkin 支委会" || len(last.Message.Entities) != 1 {
		t.Errorf("delivered = %+v", last)
	}
	hook.mu.Unlock()

	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != hs.URL+"/telegram/webhook" || info.PendingUpdateCount != 0 ||
		info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" || len(info.AllowedUpdates) != 2 {
		t.Fatalf("webhook info = %+v %v", info, err)
	}
	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil {
		t.Fatal(err)
	}
	if s.WebhookURL() != "" {
		t.Fatal("webhook still set")
	}
}

func TestWebhookGivesUp(t *testing.T) {
	var hits atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "db down", http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	s, b := start(t, Options{WebhookAttempts: 3, WebhookBackoff: time.Millisecond})
	ctx := testCtx(t)
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hs.URL}); err != nil {
		t.Fatal(err)
	}
	u := s.TextMessage(s.Group(-9, "g"), models.User{ID: 1}, "x")
	if _, err := s.SendUpdateAndWait(ctx, u); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 3 || len(s.WebhookDeliveries()) != 3 || s.WebhookDeliveries()[2].Response != "db down\n" {
		t.Fatalf("hits = %d, deliveries = %+v", hits.Load(), s.WebhookDeliveries())
	}
	if s.PendingUpdates() != 0 {
		t.Fatal("the update was not dropped")
	}
}

// TestWebhookWithLibraryHandler feeds go-telegram/bot's own webhook handler.
func TestWebhookWithLibraryHandler(t *testing.T) {
	s, _ := start(t, Options{})
	got := make(chan *models.Update, 1)
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithSkipGetMe(), bot.WithWebhookSecretToken("abc"),
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) { got <- u }))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(b.WebhookHandler())
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.StartWebhook(ctx)
	if _, err := b.SetWebhook(testCtx(t), &bot.SetWebhookParams{URL: hs.URL, SecretToken: "abc"}); err != nil {
		t.Fatal(err)
	}
	grp := s.Group(-1001111111111, "社区支部")
	if _, err := s.SendUpdateAndWait(testCtx(t), s.PhotoMessage(grp, models.User{ID: 2}, "打卡 党课", "ph-1")); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-got:
		if u.Message == nil || u.Message.Caption != "打卡 党课" || len(u.Message.Photo) != 2 || u.Message.Chat.Type != models.ChatTypeSupergroup {
			t.Fatalf("update = %+v", u.Message)
		}
	case <-testCtx(t).Done():
		t.Fatal("not delivered")
	}
}

func TestBuilders(t *testing.T) {
	s := New(Options{})
	if c := s.Group(-1001234567890, "a"); c.Type != models.ChatTypeSupergroup {
		t.Fatalf("supergroup: %+v", c)
	}
	g := s.Group(-123, "b")
	if g.Type != models.ChatTypeGroup {
		t.Fatalf("group: %+v", g)
	}
	u := models.User{ID: 9, FirstName: "钱", Username: "qian"}
	if c := s.PrivateChat(u); c.Type != models.ChatTypePrivate || c.ID != 9 || c.Username != "qian" {
		t.Fatalf("private: %+v", c)
	}
	cases := []struct {
		text string
		want []models.MessageEntity
	}{
		{"/start", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 6}}},
		{"/checkin@zhibu_bot 主题党日", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 18}}},
		{"/ack 2026-12-01", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 4}}},
		{"😀 /points", []models.MessageEntity{{Type: "bot_command", Offset: 3, Length: 7}}},
		{"/打卡", nil},
		{"/claimB03", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 9}}},
		{"a/b", nil},
		{"打卡 支委会", nil},
	}
	for _, tc := range cases {
		m := s.TextMessage(g, u, tc.text).Message
		if len(m.Entities) != len(tc.want) {
			t.Fatalf("%q: entities %+v, want %+v", tc.text, m.Entities, tc.want)
		}
		for i := range tc.want {
			if m.Entities[i] != tc.want[i] {
				t.Fatalf("%q: entity %+v, want %+v", tc.text, m.Entities[i], tc.want[i])
			}
		}
	}
	a := s.TextMessage(g, u, "x").Message
	b := s.TextMessage(g, u, "y").Message
	other := s.TextMessage(s.Group(-124, "c"), u, "z").Message
	if b.ID != a.ID+1 || other.ID != 1 || a.From.ID != 9 || a.Date == 0 {
		t.Fatalf("ids %d %d %d", a.ID, b.ID, other.ID)
	}
	ch := models.Chat{ID: -1009999999999, Type: models.ChatTypeChannel, Title: "频道"}
	if up := s.TextMessage(ch, u, "公告"); up.ChannelPost == nil || up.ChannelPost.SenderChat == nil || up.Message != nil {
		t.Fatalf("channel post: %+v", up)
	}

	// my_chat_member survives the JSON round trip the client does.
	raw, err := json.Marshal(s.BotMembership(g, u, models.ChatMemberTypeBanned))
	if err != nil {
		t.Fatal(err)
	}
	var back models.Update
	if err := json.Unmarshal(raw, &back); err != nil || back.MyChatMember.NewChatMember.Type != models.ChatMemberTypeBanned ||
		back.MyChatMember.NewChatMember.Banned.User.ID != s.Bot().ID || back.MyChatMember.OldChatMember.Type != models.ChatMemberTypeMember {
		t.Fatalf("my_chat_member = %s (%v)", raw, err)
	}

	mig := s.MigrationUpdates(g, -1000000000123, u)
	if mig[0].Message.MigrateToChatID != -1000000000123 || mig[1].Message.MigrateFromChatID != -123 || mig[1].Message.Chat.Type != models.ChatTypeSupergroup {
		t.Fatalf("migration = %+v / %+v", mig[0].Message, mig[1].Message)
	}
	if _, err := s.SendUpdate(mig[0]); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	to := s.migrated[-123]
	s.mu.Unlock()
	if to != -1000000000123 {
		t.Fatal("delivering migrate_to_chat_id does not migrate the chat")
	}
}

func TestWaitForTimeout(t *testing.T) {
	s := New(Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	msgs, err := s.WaitMessages(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) || len(msgs) != 0 {
		t.Fatalf("WaitMessages = %v, %v", msgs, err)
	}
	s.Close()
	if _, err := s.SendUpdate(s.TextMessage(s.PrivateChat(models.User{ID: 1}), models.User{ID: 1}, "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestRepeatedUpdateID re-sends an update_id, as a dedup test does, and
// drops a pending update.
func TestRepeatedUpdateID(t *testing.T) {
	hook := &hookRecorder{}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	s, b := start(t, Options{})
	ctx := testCtx(t)
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hs.URL}); err != nil {
		t.Fatal(err)
	}
	u := s.TextMessage(s.Group(-3, "g"), models.User{ID: 4}, "/claim B03")
	id, err := s.SendUpdateAndWait(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	u.ID = id
	if again, err := s.SendUpdateAndWait(ctx, u); err != nil || again != id {
		t.Fatalf("resend: %d %v", again, err)
	}
	hook.mu.Lock()
	if len(hook.bodies) != 2 || hook.bodies[0].ID != id || hook.bodies[1].ID != id {
		t.Fatalf("delivered %+v", hook.bodies)
	}
	hook.mu.Unlock()
	if next, err := s.SendUpdateAndWait(ctx, s.TextMessage(s.Group(-3, "g"), models.User{ID: 4}, "x")); err != nil || next != id+1 {
		t.Fatalf("next id = %d (%v)", next, err)
	}

	// Polling mode, nobody polls: dropping pending updates tells the waiter.
	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.SendUpdateAndWait(ctx, s.TextMessage(s.Group(-3, "g"), models.User{ID: 4}, "y"))
		errc <- err
	}()
	if err := s.WaitFor(ctx, func(s *Server) bool { return s.PendingUpdates() >= 1 }); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrDropped) {
		t.Fatalf("waiter got %v", err)
	}
}
