package tgfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Failure is an error answer of the API (or a network-level fault). It is
// both what the server answers on its own and what tests inject.
type Failure struct {
	// Code is error_code and the HTTP status: 400, 401, 403, 404, 409, 429, 500...
	// With Code 0 and no Drop, an injected Failure only applies Delay and
	// the call then proceeds normally.
	Code int
	// Description defaults to Telegram's text for Code.
	Description string
	// RetryAfter becomes parameters.retry_after (429).
	RetryAfter int
	// MigrateToChatID becomes parameters.migrate_to_chat_id (400).
	MigrateToChatID int64
	// Delay holds the answer back (for client timeouts).
	Delay time.Duration
	// Drop closes the connection without any answer.
	Drop bool
}

// RetryAfter is a flood-control answer: 429 with parameters.retry_after.
func RetryAfter(seconds int) Failure {
	return Failure{Code: http.StatusTooManyRequests, RetryAfter: seconds}
}

// InternalError is a 500 answer, which Telegram gives now and then.
func InternalError() Failure { return Failure{Code: http.StatusInternalServerError} }

// BadRequest is a 400 with the given description ("Bad Request: " is prefixed
// when missing).
func BadRequest(description string) Failure { return *badRequest(description) }

// Blocked is the 403 for a user who blocked the bot.
func Blocked() Failure {
	return Failure{Code: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"}
}

// Migrated is the 400 Telegram gives when sending to a group that became a
// supergroup.
func Migrated(to int64) Failure {
	return Failure{Code: http.StatusBadRequest, MigrateToChatID: to}
}

// Dropped closes the connection without an answer.
func Dropped() Failure { return Failure{Drop: true} }

// Slow delays the answer by d and then processes the call normally, even if
// the client gave up waiting meanwhile: like with Telegram, a timed-out send
// may still have been delivered.
func Slow(d time.Duration) Failure { return Failure{Delay: d} }

func badRequest(desc string) *Failure {
	if !strings.HasPrefix(desc, "Bad Request") {
		desc = "Bad Request: " + desc
	}
	return &Failure{Code: http.StatusBadRequest, Description: desc}
}

// normalized fills Telegram's default description for the code.
func (f *Failure) normalized() *Failure {
	c := *f
	if c.Code == 0 && c.MigrateToChatID != 0 {
		c.Code = http.StatusBadRequest
	}
	if c.Code == http.StatusTooManyRequests && c.RetryAfter <= 0 {
		c.RetryAfter = 1
	}
	if c.Description == "" && c.Code != 0 {
		switch {
		case c.MigrateToChatID != 0:
			c.Description = "Bad Request: group chat was upgraded to a supergroup chat"
		case c.Code == http.StatusTooManyRequests:
			c.Description = "Too Many Requests: retry after " + strconv.Itoa(c.RetryAfter)
		case c.Code == http.StatusForbidden:
			c.Description = "Forbidden: bot was blocked by the user"
		case c.Code == http.StatusBadRequest:
			c.Description = "Bad Request"
		default:
			c.Description = http.StatusText(c.Code)
		}
	}
	return &c
}

type scheduledFailure struct {
	method string // "" = any method
	chatID int64  // 0 = any chat
	f      Failure
}

// FailNext makes the next call of method ("" for any) concerning chatID (0 for
// any chat, including calls without chat_id) answer f instead. Each call to
// FailNext fails exactly one matching call; schedule several to fail several
// times. Method names are case-insensitive.
func (s *Server) FailNext(method string, chatID int64, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := methodTable[strings.ToLower(method)]; ok {
		method = m.name
	}
	s.failNext = append(s.failNext, scheduledFailure{method: method, chatID: chatID, f: f})
}

// OnCall installs a hook run for every authenticated call of a known method
// before it is processed; a non-nil result is answered instead. The hook runs
// without the server lock held, so it may call the Server. nil removes it.
func (s *Server) OnCall(hook func(method string, params map[string]string) *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCall = hook
}

// BlockChat makes every call concerning chatID answer 403 (blocked by the
// user, or kicked from the group) until UnblockChat.
func (s *Server) BlockChat(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
}

// UnblockChat undoes BlockChat.
func (s *Server) UnblockChat(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocked, chatID)
}

// MigrateChat makes calls concerning the group oldID answer the migration
// error pointing at newID, and registers newID as a supergroup.
func (s *Server) MigrateChat(oldID, newID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migrated[oldID] = newID
	if _, ok := s.chats[newID]; !ok {
		c := s.chatLocked(oldID)
		c.ID, c.Type = newID, "supergroup"
		s.chats[newID] = c
	}
}

// ClearFailures removes scheduled failures, the OnCall hook, blocks and
// migrations.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = nil
	s.onCall = nil
	s.blocked = map[int64]bool{}
	s.migrated = map[int64]int64{}
}

func (s *Server) takeScheduledFailure(method string, params map[string]string) *Failure {
	chatID, _ := strconv.ParseInt(strings.TrimSpace(params["chat_id"]), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sf := range s.failNext {
		if sf.method != "" && sf.method != method {
			continue
		}
		if sf.chatID != 0 && sf.chatID != chatID {
			continue
		}
		s.failNext = append(s.failNext[:i:i], s.failNext[i+1:]...)
		f := sf.f
		return &f
	}
	return nil
}

// gateChat answers for blocked and migrated chats. Callers hold s.mu.
func (s *Server) gateChat(chatID int64) *Failure {
	if to, ok := s.migrated[chatID]; ok {
		f := Migrated(to)
		return f.normalized()
	}
	if s.blocked[chatID] {
		desc := "Forbidden: bot was blocked by the user"
		switch s.chatLocked(chatID).Type {
		case "group":
			desc = "Forbidden: bot was kicked from the group chat"
		case "supergroup":
			desc = "Forbidden: bot was kicked from the supergroup chat"
		case "channel":
			desc = "Forbidden: bot is not a member of the channel chat"
		}
		return &Failure{Code: http.StatusForbidden, Description: desc}
	}
	return nil
}
