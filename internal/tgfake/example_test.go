package tgfake_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/internal/tgfake"
)

// A test starts the fake, points the real client at it, acts, then waits on
// the recordings instead of sleeping.
func Example() {
	s := tgfake.New(tgfake.Options{})
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Close()
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithSkipGetMe())
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// Unescaped user text is refused like Telegram refuses it.
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(42), Text: "<b>红灯</b> 1 < 2", ParseMode: models.ParseModeHTML})
	fmt.Println(errors.Is(err, bot.ErrorBadRequest))

	// A blocked user answers 403 once.
	s.FailNext("sendMessage", 42, tgfake.Blocked())
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(42), Text: "x"})
	fmt.Println(errors.Is(err, bot.ErrorForbidden))

	_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(42), Text: "<b>红灯</b> " + html.EscapeString("1 < 2"), ParseMode: models.ParseModeHTML})
	msgs, err := s.WaitMessages(ctx, 1)
	fmt.Println(msgs[0].Plain, err)
	// Output:
	// true
	// true
	// 红灯 1 < 2 <nil>
}
