package app

import (
	"context"

	"github.com/zhibu/zhibu/storage"
)

// Reply is a Telegram message, edit or callback answer the bot sends in
// answer to an update (ARCHITECTURE "Messages only through the outbox").
type Reply struct {
	// Key is the outbox dedupe key: upd:<update_id>:<n> for a plain
	// reply, so that reprocessing an update never sends it twice; a key of
	// its own for a message later taps edit (edit_of).
	Key    string
	ChatID int64
	Kind   string // reply, edit, callback, notice
	Method string // "" is sendMessage
	// Payload holds the Bot API params of Method without chat_id (HTML
	// parse mode, user text escaped).
	Payload map[string]any
}

// SendReply enqueues r at the replies' priority. Inside the update's
// transaction the row is held and written with the update's other effects
// at the commit; a key enqueued before is skipped.
func (a *App) SendReply(ctx context.Context, r Reply) error {
	return a.Store.Enqueue(ctx, storage.OutMessage{DedupeKey: r.Key, ChatID: r.ChatID, Priority: storage.PriorityReply,
		Kind: r.Kind, Method: r.Method, Payload: r.Payload})
}
