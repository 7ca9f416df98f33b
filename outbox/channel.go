package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"time"
)

// Message is one outbox row (or one part of it) as a Channel sends it.
type Message struct {
	ID        int64  // outbox row id
	DedupeKey string // outbox dedupe key
	ChatID    int64  // destination; for an edit, the original's chat
	Method    string // Bot API method, e.g. "sendMessage"
	// Payload holds the method's parameters except chat_id (see the package
	// doc). For an edit it may name the original with "edit_of".
	Payload json.RawMessage
	Attempt int // 1 for the first try

	// EditMessageID is, for an edit, the message id of the original that
	// the dispatcher resolved from edit_of (0 when the payload has its own
	// message_id).
	EditMessageID int64

	// Part and Parts number the pieces of a split message (0 of 1 when whole).
	Part, Parts int

	// PaidBroadcast asks the platform to lift its global rate for a fee
	// (Telegram's allow_paid_broadcast).
	PaidBroadcast bool
}

// Outcome classifies a send for the dispatcher.
type Outcome int

const (
	// Delivered: the platform took the message.
	Delivered Outcome = iota
	// Retry: a temporary failure (5xx, timeout, connection refused): back
	// off with jitter and try again until MaxAge after the row was created.
	Retry
	// RateLimited: the platform asked to wait RetryAfter. Not a failure.
	RateLimited
	// Permanent: the request itself is wrong (400); never retried.
	Permanent
	// Unreachable: the chat refused the bot (403: blocked, kicked,
	// deactivated); the chat is marked unreachable and the row fails.
	Unreachable
	// Migrated: the group became a supergroup with id NewChatID; the
	// binding moves and the message is sent there.
	Migrated
)

var outcomeNames = [...]string{"delivered", "retry", "rate_limited", "permanent", "unreachable", "migrated"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Result is what a Channel reports about one send.
type Result struct {
	Outcome    Outcome
	MessageID  int64         // Delivered: the platform's id for the message (0 if none)
	RetryAfter time.Duration // RateLimited
	NewChatID  int64         // Migrated
	// NotDelivered (Retry): the answer proves the message was not
	// delivered — the platform answered with an error, or no connection
	// was made. Without it a Retry may have been delivered (a timeout, a
	// lost answer), and a message sent at most once is not sent again.
	NotDelivered bool
	Reason       string // why it was not delivered, in the platform's words
}

// dialFailed reports an error of a call that never reached the platform:
// no connection was made, so nothing was delivered.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Channel sends messages on one platform. Send makes one call: a nil error
// means delivered; otherwise Result.Outcome says what the dispatcher does
// next (like Alertmanager's notifiers, the sender knows whether a retry is
// worth it). Send must not retry or sleep on its own: pacing and retries
// are the dispatcher's.
type Channel interface {
	// Name is the value of the outbox "channel" column this channel sends.
	Name() string
	Send(ctx context.Context, m Message) (Result, error)
}

// Splitter is implemented by channels whose messages may need several
// calls (a text over the platform's size limit). The dispatcher sends the
// parts in order, each paced like a message of its own, and records
// progress so that a crash repeats at most the part in flight.
type Splitter interface {
	Split(m Message) ([]Message, error)
}

// parts is m cut in len(texts) parts, numbered, part i's payload made by
// payload from texts[i]: what every Splitter returns.
func parts(m Message, texts []string, payload func(i int, text string) ([]byte, error)) ([]Message, error) {
	out := make([]Message, len(texts))
	for i, t := range texts {
		b, err := payload(i, t)
		if err != nil {
			return nil, err
		}
		out[i] = m
		out[i].Payload = b
		out[i].Part, out[i].Parts = i, len(texts)
	}
	return out, nil
}

// Prober is implemented by channels with a call that delivers nothing
// (Telegram's getMe): after a bot-wide pause it goes first instead of a
// message, so that a probe into an outage never makes a copy. Its Result
// is classified like a send's.
type Prober interface {
	Probe(ctx context.Context) (Result, error)
}
