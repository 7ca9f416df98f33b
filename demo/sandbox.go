package demo

import (
	"context"

	"github.com/zhibu/zhibu/storage"
)

// The offline sandbox's console (cli/sandbox*.go) shows the demo county's
// conversations as the database holds them: what people said and tapped
// (the update log) and what the bot sent (the outbox), so that a chat
// survives a restart. These are its reads; the console is served in
// sandbox mode only, to whoever runs it, so they take no actor.

// ChatUpdate is a stored message or button tap of a chat.
type ChatUpdate = storage.ChatUpdate

// ChatSend is a stored outbound Telegram message or edit of a chat.
type ChatSend = storage.ChatSend

// OutboxUncertain is the status of a message sent at most once whose call
// was not answered.
const OutboxUncertain = storage.OutboxUncertain

// Loaded reports whether the database holds any unit: an empty one gets
// the demo county when the sandbox starts.
func (a Service) Loaded(ctx context.Context) (bool, error) {
	units, err := a.db().AllUnits(ctx)
	return len(units) > 0, err
}

// ConversationIDs returns the highest update id stored and, per chat, the
// highest message id seen in it: what the fake Bot API, which starts
// empty, must continue after.
func (a Service) ConversationIDs(ctx context.Context) (lastUpdate int64, lastMessage map[int64]int, err error) {
	return a.db().ConversationIDs(ctx)
}

// ChatUpdates returns the last limit messages and taps of the chats,
// oldest first.
func (a Service) ChatUpdates(ctx context.Context, chats []int64, limit int) ([]ChatUpdate, error) {
	return a.db().ChatUpdates(ctx, chats, limit)
}

// ChatSends returns the last limit Telegram messages and edits enqueued
// for the chats (callback answers left out), oldest first.
func (a Service) ChatSends(ctx context.Context, chats []int64, limit int) ([]ChatSend, error) {
	return a.db().ChatSends(ctx, chats, limit)
}

// ChatMessageCounts counts, per chat, the users' messages received and
// the bot's messages enqueued.
func (a Service) ChatMessageCounts(ctx context.Context, chats []int64) (map[int64]int, error) {
	return a.db().ChatMessageCounts(ctx, chats)
}

// UpdateSettled reports whether update id is processed and no Telegram
// message due now waits to go out: what the console waits for before it
// shows the answer.
func (a Service) UpdateSettled(ctx context.Context, id int64) (bool, error) {
	return a.db().UpdateSettled(ctx, id)
}
