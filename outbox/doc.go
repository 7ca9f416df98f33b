// Package outbox delivers the messages that use cases write to the outbox
// table (storage.Store.Enqueue, in the transaction of the change that
// causes them): once, in order, in time, within the platform's limits, and
// across crashes and replicas.
//
// # Rules
//
// Order. Due rows (not_before has come) are claimed by priority, then id
// (storage.Priority*: replies 0, red 1, yellow 2, green 3, ranking 4,
// default 5, bulk 6). Within one chat a row is only claimed when no earlier
// row of that chat — in (priority, id) order — is in flight, due, or
// waiting to be retried: at most one message per chat is in flight and a
// chat's messages leave in order. A row scheduled for later (a future
// not_before, never tried) does not hold its chat up. Answers to callback
// queries are outside any chat's order.
//
// No starvation. OldestShare (10%) of all claim slots go to the oldest due
// rows, whatever their priority, so a flood of urgent messages slows bulk
// ones down to a tenth of the capacity but never stops them.
//
// Limits by construction. One token bucket for the bot (GlobalPerSecond,
// 30/s; up to 1000/s with PaidBroadcast) and one per chat (ChatPerSecond
// for private chats, positive ids, 1/s; GroupPerMinute for groups and
// channels, negative ids, 20/min), all with a burst of 1, so no window of
// the limit's length sees more than the limit. A chat whose bucket is empty
// is skipped by the claim; buckets of idle chats are dropped. Edits count
// like sends; answerCallbackQuery counts against nothing. Each part of a
// split text counts as a message.
//
// At least once. A claimed row is 'sending' with a lease (Lease, 1m) and
// attempts+1 before the call; 'sent' with the Telegram message ids and
// sent_at after it. Rows are claimed with UPDATE … FOR UPDATE SKIP LOCKED,
// so two dispatchers never take the same row. A row whose lease ran out
// (its dispatcher died mid-call) goes back to pending: duplicates are
// limited to the rows in flight, and a split text resumes after the last
// part recorded.
//
// At most once, for the messages storage.AtMostOnce names (the health
// check's red notices). Just before each call of such a row the dispatcher
// commits call_started_at (Store.OutboxCalling, refused when the row was
// taken back or its leadership superseded: then no call is made). A row
// taken back while marked — by a new leader or after its lease — is not put
// back to pending but ends 'uncertain' (storage.OutboxUncertain: it may or
// may not have been delivered), logged at error level and counted in
// zhibu_outbox_uncertain_total; so is a call of such a row left without an
// answer (a timeout, a lost connection), unless the answer proves it was
// not delivered (Result.NotDelivered: the Bot API's own error answer, a 429,
// a 400/403, or no connection made), which is retried as usual.
//
// Errors as Telegram means them (see Classify):
//   - 429: on Telegram (its flood control is per bot) every send of the
//     bot waits retry_after; on a robot channel the chat waits, or the
//     whole channel when several chats got one within 2 s (or the call had
//     no chat). The row is requeued at now+retry_after without counting a
//     failure. After a bot-wide pause one call goes first (the probe) and
//     the others wait for its answer, so a pause that ends does not let
//     every worker call at once.
//   - 5xx, timeouts, refused connections, 401/404: exponential back-off with
//     jitter (BackoffBase doubling up to BackoffMax) until MaxAge after
//     created_at, then 'failed' with the reason. On Telegram three such
//     failures in a row also pause every send, 1 s doubling up to 1 min
//     while they go on (calls begun during a pause do not lengthen it),
//     then a probe; any answer from the API ends the streak. On Telegram
//     the probe is getMe (Prober), never a message, and a call left
//     unanswered (a timeout) makes the next call a probe at once: a
//     message whose call may have been delivered is sent again only once
//     the API has answered a probe in time, so a slow API costs at most
//     one copy per message (docs/SCALING.md, "When a message arrives twice").
//
// Under leader.Run each claim carries the leadership's fencing epoch
// (leader.FenceFrom); the database refuses a claim under a superseded one
// (storage.ErrStaleLeader) and the dispatcher stops. A dispatcher starting
// under a new epoch first puts back the rows claimed under older ones
// (Store.RecoverOutboxFromOldLeaders): a dead leader's rows go out within
// seconds of the take-over instead of after their lease, and since a chat
// has at most one row in flight, at most one message per chat goes twice.
//   - 400: 'failed' with Telegram's description, never retried ("message is
//     not modified" on an edit counts as sent).
//   - 403: the chat is marked unreachable (Store.MarkChatUnreachable) and the
//     row fails with reason "unreachable: …" (Store.FailedOutbox lists them).
//   - 400 with migrate_to_chat_id: Store.OutboxMigrateChat moves the binding,
//     the row and the chat's pending rows to the new id in one transaction,
//     so the row is sent there before the chat's later rows.
//
// Rows still pending MaxAge after they became due (an edit whose original
// never went out, a chat held up behind a failing row) expire as 'failed'.
//
// # Payload
//
// The payload column holds the Bot API parameters of the row's method
// except chat_id (the chat_id column):
//
//	sendMessage          {"text":"…","parse_mode":"HTML","reply_markup":{…},"reply_parameters":{"message_id":5},"message_thread_id":3}
//	sendPhoto            {"photo":"<file_id or URL>","caption":"…","parse_mode":"HTML"}
//	editMessageText      {"edit_of":"claim:12:card","text":"…","parse_mode":"HTML","reply_markup":{…}}
//	editMessageReplyMarkup {"edit_of":"claim:12:card","reply_markup":{…}}
//	answerCallbackQuery  {"callback_query_id":"…","text":"…","show_alert":true}   (chat_id 0 allowed)
//
// An edit names the message it changes by that message's dedupe key
// (edit_of); it waits until the original is sent, then goes to the
// original's chat and message id (or fails when the original failed). Give
// it the original's chat_id so that it keeps its place in that chat's order.
// A sendMessage text over 4,096 UTF-16 units is split at line boundaries
// (SplitHTML) into several messages; the reply goes on the first, the
// buttons on the last, whose id is the row's tg_message_id.
//
// # Wiring
//
//	opts := outbox.FromConfig(cfg.Delivery)
//	opts.ListenURL = cfg.Database.URL                 // LISTEN outbox; polling is the fallback
//	b, _ := bot.New(cfg.Telegram.Token, bot.WithServerURL(cfg.Telegram.APIURL), bot.WithSkipGetMe(),
//		bot.WithHTTPClient(time.Minute, outbox.NewHTTPClient(opts)))
//	d := outbox.New(store, outbox.NewTelegram(b), opts, log, prometheus.DefaultRegisterer)
//	for _, ch := range outbox.NewRobotChannels(store, client) {
//		d.Add(outbox.NewLane(store, ch, outbox.RobotOptions(ch.Name(), opts), log, reg))
//	}
//	d.Add(webhooks.NewChannel(store, wopts, log, reg)) // outbound webhooks: one more lane
//	el := leader.NewElector(store.DB().DB, leader.Key("zhibu"), log)
//	go leader.Run(ctx, el, time.Second, d.Run)        // only the leader sends
//
// One Dispatcher serves every channel. Each is a Lane: the loop (worker
// pool, claims, wake-ups, fence, maintenance, stop) is the dispatcher's
// and the same for all; a lane supplies its store's claims and results,
// its send, its retries and its metrics. Each lane runs its own copy of
// the loop, so a slow channel holds up no other, and a claim refused under
// a superseded leadership stops them all.
//
// The leader lock holds one of the pool's connections for as long as it
// leads; LISTEN holds one more outside the pool per lane.
package outbox
