package bot_test

import (
	"strconv"
	"testing"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/bot"
	"github.com/zhibu/zhibu/checkin"
)

// BenchmarkProcessBatchUseCase is BenchmarkProcessBatch through use cases
// that open their own transaction, here under a savepoint of the batch's:
// one that writes and succeeds (an album photo), one that refuses and
// audits (/bind by an unlinked sender).
func BenchmarkProcessBatchUseCase(b *testing.B) {
	for _, cmd := range []string{"/album", "/refused"} {
		b.Run(cmd[1:], func(b *testing.B) {
			e := newBatchEnv(b)
			e.router.Handle(bot.Command{Name: "album", Handler: func(c *bot.Ctx) error {
				id := strconv.FormatInt(c.Update.ID, 10)
				if err := checkin.Of(c.App).AttachAlbumPhoto(c, c.ChatID(), "album-"+id, "photo-"+id, c.Update.ID); err != nil {
					return err
				}
				return c.Reply("好。", nil)
			}})
			e.router.Handle(bot.Command{Name: "refused", Handler: func(c *bot.Ctx) error {
				_, _, err := accounts.Of(c.App).BindGroupAs(c, c.Actor, c.ChatID(), "群", "", accounts.GroupDefault)
				return err
			}})
			processBatches(b, e, cmd)
		})
	}
}
