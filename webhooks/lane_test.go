package webhooks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-telegram/bot"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/leader"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/webhooks"
)

// oneDispatcher is serve's wiring in small: one outbox dispatcher whose
// lanes are the Telegram channel (to the fake Bot API) and the webhooks.
func oneDispatcher(t *testing.T, store *storage.Store, url string) (*outbox.Dispatcher, *tgfake.Server) {
	t.Helper()
	api := tgfake.New(tgfake.Options{})
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	b, err := bot.New(api.Token(), bot.WithServerURL(api.URL()), bot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	// Polling is too slow to matter: only each lane's own NOTIFY wakes it.
	d := outbox.New(store, outbox.NewTelegram(b), outbox.Options{PollInterval: time.Minute, ListenURL: url}, nil, nil)
	wopts := fast()
	wopts.PollInterval, wopts.ListenURL = time.Minute, url
	d.Add(webhooks.NewChannel(store, wopts, nil, nil))
	return d, api
}

// A Telegram message and a webhook delivery are driven by the same
// dispatcher: one Run delivers both as they are written (each lane woken
// by its own NOTIFY), one RunOnce counts both, and a superseded fence stops
// both lanes.
func TestOneDispatcherDrivesTelegramAndWebhooks(t *testing.T) {
	url := testdb.URL(t)
	store := openStore(t, url)
	w := newWorldOn(t, store)
	s := newSubscriber(t, func(int) int { return 200 })
	w.subscribe(s, "QA")
	d, api := oneDispatcher(t, store, url)
	send := func(key string) {
		t.Helper()
		if err := store.Enqueue(w.ctx, storage.OutMessage{DedupeKey: key, ChatID: 5001, Payload: map[string]string{"text": key}}); err != nil {
			t.Fatal(err)
		}
		w.event("checkin.recorded", "QA-RZ-XZ-B1", map[string]any{"key": key})
	}

	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(300 * time.Millisecond) // both lanes have made their first claim and wait
	send("live")
	w.waitFor("both deliveries of one Run", func() bool {
		return len(api.MessagesTo(5001)) == 1 && len(s.requests()) == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	send("once")
	total := 0
	w.waitFor("both deliveries of RunOnce", func() bool {
		n, err := d.RunOnce(w.ctx)
		if err != nil {
			t.Fatalf("RunOnce: %v", err)
		}
		total += n
		return total == 2
	})
	if m, r := api.MessagesTo(5001), s.requests(); len(m) != 2 || m[1].Text != "once" || len(r) != 2 {
		t.Fatalf("after RunOnce: %d messages, %d requests", len(m), len(r))
	}

	// Another replica takes over: the first claim under the old fence is
	// refused, and the whole dispatcher stops, both lanes.
	key := leader.Key("one-dispatcher-test")
	old := leader.NewElector(store.DB().DB, key, nil)
	if err := old.IsLeader(w.ctx); err != nil {
		t.Fatal(err)
	}
	fence, _ := old.Fence()
	next := leader.NewElector(openStore(t, url).DB().DB, key, nil)
	if err := errors.Join(old.Resign(w.ctx), next.IsLeader(w.ctx)); err != nil {
		t.Fatal(err)
	}
	fctx, stop := context.WithCancel(leader.WithFence(w.ctx, fence))
	defer stop()
	go func() { done <- d.Run(fctx) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run under a superseded fence did not stop")
	}
	if !errors.Is(err, storage.ErrStaleLeader) {
		t.Fatalf("Run under a superseded fence: %v", err)
	}
}
