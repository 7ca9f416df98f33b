// Package tgfake is an in-process fake of the Telegram Bot API server, used by
// zhibu's tests and by the offline sandbox (`zhibu serve` with telegram.mode sandbox).
//
// It speaks the real HTTP protocol: every call is a POST (or GET) to
// <server>/bot<token>/<method> with multipart/form-data (what
// github.com/go-telegram/bot sends: nested objects as JSON strings in form
// fields), application/x-www-form-urlencoded, application/json or query
// parameters, and it answers {"ok":true,"result":...} or
// {"ok":false,"error_code":N,"description":"...","parameters":{...}} with the
// matching HTTP status. Files are served at /file/bot<token>/<file_path>.
//
// Telegram behaviours it models:
//   - authentication by token (401) and unknown methods (404); method names are
//     case-insensitive;
//   - flood control with token buckets: about 30 messages/s per bot, 1/s per
//     private chat with short bursts, 20/minute per group or channel; excess
//     sends and edits get 429 with parameters.retry_after;
//   - message validation: empty and over-long texts and captions, HTML parse
//     mode (only the documented tags and the entities &lt; &gt; &amp; &quot;
//     and numeric ones; a bare '&' is refused as the documentation demands,
//     although Telegram's parser tolerates it, so unescaped user text is
//     caught; rendered text and entities are returned like Telegram does),
//     inline keyboards (callback_data 1-64 bytes, URL buttons,
//     no action-less buttons; the empty copy_text go-telegram/bot sends is
//     accepted), replies to missing messages;
//   - edits: "message to edit not found", "message is not modified", and an
//     edit without reply_markup removes the inline keyboard;
//   - callback queries must be answered once, with a known id;
//   - updates: increasing update_id, getUpdates long polling with offset
//     confirmation, negative offsets, one poller at a time (409 to the older
//     one), 409 while a webhook is set, persistent allowed_updates with
//     Telegram's default (no chat_member / message_reaction*);
//   - webhooks: updates POSTed in order with the X-Telegram-Bot-Api-Secret-Token
//     header, a non-2xx answer blocks the queue and is retried with backoff, the
//     update is dropped after a few attempts, getWebhookInfo reports the
//     pending count and the last error;
//   - blocked users and kicked bots (403, also after a my_chat_member update
//     saying so) and group→supergroup migration (400 with
//     parameters.migrate_to_chat_id, also after a message carrying
//     migrate_to_chat_id).
//
// Implemented methods: getMe, getUpdates, setWebhook, deleteWebhook,
// getWebhookInfo, setMyCommands, getMyCommands, deleteMyCommands, sendMessage,
// sendPhoto, sendChatAction, editMessageText, editMessageReplyMarkup,
// deleteMessage, answerCallbackQuery, getFile. Any other method answers 404
// like an unknown one (the call is still recorded). Not modelled: MarkdownV2
// validation, inline messages, entities Telegram detects by itself (URLs,
// mentions) in answers, media groups.
//
// Everything the bot does is recorded (Calls, Messages, CallbackAnswers,
// Commands, WebhookDeliveries) and tests wait on conditions with WaitFor
// instead of sleeping. Failures can be injected with FailNext and OnCall.
// The Server is safe for concurrent use.
package tgfake
