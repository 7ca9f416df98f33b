package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/internal/clock"
)

type queuedUpdate struct {
	seq    uint64 // unique per entry, unlike id
	id     int64
	typ    string // the update's kind: "message", "callback_query", ...
	raw    json.RawMessage
	waiter chan error // SendUpdateAndWait's, until told the outcome
}

// resolve tells a SendUpdateAndWait caller what became of the update. The
// waiter lives in the queue entry, not in a map by update_id, because tests
// re-send an update_id on purpose to check deduplication.
func (q *queuedUpdate) resolve(err error) {
	if q.waiter != nil {
		q.waiter <- err // buffered, and sent at most once
		q.waiter = nil
	}
}

type webhookState struct {
	url, secret string
	maxConn     int
	gen         uint64    // bumped by every set/delete, to ignore stale delivery results
	attempt     int       // failed deliveries of the queue head so far
	nextTry     time.Time // when the head may be redelivered
	lastErrDate int64
	lastErrMsg  string
}

// Telegram's default when allowed_updates was never set (or set to []).
var defaultExcluded = []string{"chat_member", "message_reaction", "message_reaction_count"}

func (s *Server) allowedLocked(typ string) bool {
	if len(s.allowed) == 0 {
		return !slices.Contains(defaultExcluded, typ)
	}
	return slices.Contains(s.allowed, typ)
}

// SendUpdate queues an update as if a user did something, assigning the next
// update_id when u.ID is zero, and returns the id. The update goes to the
// webhook if one is set (see WebhookDeliveries), else waits for getUpdates.
// An update type excluded by allowed_updates is refused with ErrFiltered,
// since Telegram would never deliver it.
func (s *Server) SendUpdate(u models.Update) (int64, error) { return s.enqueue(u, nil) }

// SendUpdateAndWait is SendUpdate that returns once the update was
// acknowledged: the webhook answered 2xx or a getUpdates answer carried it.
// It fails with ErrGaveUp when the webhook kept failing, ErrDropped when
// pending updates were dropped, ErrClosed, or the context's error.
func (s *Server) SendUpdateAndWait(ctx context.Context, u models.Update) (int64, error) {
	ch := make(chan error, 1)
	id, err := s.enqueue(u, ch)
	if err != nil {
		return id, err
	}
	select {
	case err := <-ch:
		return id, err
	case <-ctx.Done():
		return id, fmt.Errorf("tgfake: update %d not acknowledged: %w", id, context.Cause(ctx))
	}
}

// PendingUpdates is the number of updates not yet acknowledged.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

func (s *Server) enqueue(u models.Update, waiter chan error) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return 0, ErrClosed
	default:
	}
	if u.ID == 0 {
		u.ID = s.nextUpdateID
	}
	s.nextUpdateID = max(s.nextUpdateID, u.ID+1)
	raw, err := json.Marshal(&u)
	if err != nil {
		return u.ID, fmt.Errorf("tgfake: encode update: %w", err)
	}
	typ := updateType(raw)
	if typ == "" {
		return u.ID, fmt.Errorf("tgfake: update %d has no content", u.ID)
	}
	if !s.allowedLocked(typ) {
		return u.ID, fmt.Errorf("%w: %s", ErrFiltered, typ)
	}
	s.observeLocked(&u)
	s.queueSeq++
	s.queue = append(s.queue, queuedUpdate{seq: s.queueSeq, id: u.ID, typ: typ, raw: raw, waiter: waiter})
	s.notify()
	return u.ID, nil
}

func updateType(raw []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	for k, v := range fields {
		if k != "update_id" && string(v) != "null" {
			return k
		}
	}
	return ""
}

// observeLocked learns from an update what Telegram would know: chats, the
// message ids used in them, photos, callback query ids, migrations.
func (s *Server) observeLocked(u *models.Update) {
	for _, m := range []*models.Message{u.Message, u.EditedMessage, u.ChannelPost, u.EditedChannelPost, u.BusinessMessage} {
		if m == nil || m.Chat.ID == 0 {
			continue
		}
		s.chats[m.Chat.ID] = m.Chat
		s.lastMsgID[m.Chat.ID] = max(s.lastMsgID[m.Chat.ID], m.ID)
		for _, p := range m.Photo {
			if s.files[p.FileID] == nil {
				s.addFileLocked(p.FileID, "photos", ".jpg", nil)
			}
		}
		if m.MigrateToChatID != 0 {
			s.migrated[m.Chat.ID] = m.MigrateToChatID
			if _, ok := s.chats[m.MigrateToChatID]; !ok {
				s.chats[m.MigrateToChatID] = models.Chat{ID: m.MigrateToChatID, Type: models.ChatTypeSupergroup, Title: m.Chat.Title}
			}
		}
	}
	// my_chat_member is always about the bot: kicked/left means blocked by
	// the user or removed from the group, so later sends get 403.
	if cm := u.MyChatMember; cm != nil && cm.Chat.ID != 0 {
		if _, ok := s.chats[cm.Chat.ID]; !ok {
			s.chats[cm.Chat.ID] = cm.Chat
		}
		switch cm.NewChatMember.Type {
		case models.ChatMemberTypeBanned, models.ChatMemberTypeLeft:
			s.blocked[cm.Chat.ID] = true
		default:
			delete(s.blocked, cm.Chat.ID)
		}
	}
	if q := u.CallbackQuery; q != nil && q.ID != "" {
		if _, ok := s.queries[q.ID]; !ok {
			s.queries[q.ID] = &queryState{data: q.Data, from: q.From.ID}
		}
		if m := q.Message.Message; m != nil {
			if _, ok := s.chats[m.Chat.ID]; !ok && m.Chat.ID != 0 {
				s.chats[m.Chat.ID] = m.Chat
			}
		}
	}
}

func (s *Server) dropPendingLocked() {
	for i := range s.queue {
		s.queue[i].resolve(ErrDropped)
	}
	s.queue = nil
	s.hook.attempt, s.hook.nextTry = 0, time.Time{}
}

func (s *Server) getUpdates(c *apiCall) (any, *Failure) {
	p := c.p
	offset, f := int64Param(p, "offset")
	if f != nil {
		return nil, f
	}
	limit, f := intParam(p, "limit")
	if f != nil {
		return nil, f
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, f := intParam(p, "timeout")
	if f != nil {
		return nil, f
	}
	var allowed []string
	hasAllowed, f := jsonParam(p, "allowed_updates", &allowed)
	if f != nil {
		return nil, f
	}

	s.mu.Lock()
	if s.hook.url != "" {
		s.mu.Unlock()
		return nil, &Failure{Code: http.StatusConflict, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	if hasAllowed {
		s.allowed = allowed
	}
	s.confirmLocked(offset)
	// Telegram serves one poller: a newer getUpdates ends the waiting one.
	s.pollGen++
	gen := s.pollGen
	s.polls++
	s.notify()
	defer func() { // every return path below has released the lock
		s.mu.Lock()
		s.polls--
		s.notify()
		s.mu.Unlock()
	}()

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	for {
		batch := s.batchLocked(offset, limit)
		if len(batch) > 0 || expired == nil {
			s.mu.Unlock()
			return batch, nil
		}
		if s.pollGen != gen {
			s.mu.Unlock()
			return nil, &Failure{Code: http.StatusConflict, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		if s.hook.url != "" {
			s.mu.Unlock()
			return batch, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-expired:
			expired = nil // one last look, then answer
		case <-c.ctx.Done():
			return []json.RawMessage{}, nil // the client is gone: fetch nothing
		case <-s.closed:
			return []json.RawMessage{}, nil
		}
		s.mu.Lock()
	}
}

// confirmLocked forgets updates below a positive offset, or all but the last
// -offset ones for a negative offset, as getUpdates does.
func (s *Server) confirmLocked(offset int64) {
	keep := s.queue[:0:0]
	for i, q := range s.queue {
		drop := offset > 0 && q.id < offset || offset < 0 && int64(len(s.queue)-i) > -offset
		if drop {
			q.resolve(ErrDropped) // no-op when a getUpdates already carried it
			continue
		}
		keep = append(keep, q)
	}
	s.queue = keep
}

func (s *Server) batchLocked(offset int64, limit int) []json.RawMessage {
	out := []json.RawMessage{}
	for i := range s.queue {
		if len(out) == limit {
			break
		}
		if offset > 0 && s.queue[i].id < offset {
			continue
		}
		out = append(out, s.queue[i].raw)
		s.queue[i].resolve(nil)
	}
	if len(out) > 0 {
		s.notify()
	}
	return out
}

func (s *Server) setWebhook(c *apiCall) (any, *Failure) {
	p := c.p
	u := strings.TrimSpace(p["url"])
	if u != "" {
		pu, err := url.Parse(u)
		// Telegram insists on HTTPS and ports 443/80/88/8443; the fake takes
		// any http(s) URL so tests can use a local server.
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, badRequest("bad webhook: invalid webhook URL specified")
		}
	}
	secret := p["secret_token"]
	if secret != "" && !validSecret(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	maxConn, f := intParam(p, "max_connections")
	if f != nil {
		return nil, f
	}
	if maxConn <= 0 {
		maxConn = 40
	}
	maxConn = min(maxConn, 100)
	var allowed []string
	hasAllowed, f := jsonParam(p, "allowed_updates", &allowed)
	if f != nil {
		return nil, f
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if hasAllowed {
		s.allowed = allowed
	}
	if boolParam(p, "drop_pending_updates") {
		s.dropPendingLocked()
	}
	if u == "" {
		return s.removeWebhookLocked(), nil
	}
	desc := "Webhook was set"
	if s.hook.url == u {
		desc = "Webhook is already set"
	}
	s.hook = webhookState{url: u, secret: secret, maxConn: maxConn, gen: s.hook.gen + 1}
	s.startDelivererLocked()
	s.notify()
	return described{true, desc}, nil
}

func validSecret(v string) bool {
	if len(v) > 256 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isAlnum(v[i]) && v[i] != '_' && v[i] != '-' {
			return false
		}
	}
	return true
}

func (s *Server) deleteWebhook(c *apiCall) (any, *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if boolParam(c.p, "drop_pending_updates") {
		s.dropPendingLocked()
	}
	return s.removeWebhookLocked(), nil
}

func (s *Server) removeWebhookLocked() described {
	if s.hook.url == "" {
		return described{true, "Webhook is already deleted"}
	}
	s.hook = webhookState{gen: s.hook.gen + 1}
	s.notify()
	return described{true, "Webhook was deleted"}
}

func (s *Server) getWebhookInfo(*apiCall) (any, *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := models.WebhookInfo{URL: s.hook.url, PendingUpdateCount: len(s.queue)}
	if s.hook.url != "" {
		info.MaxConnections = s.hook.maxConn
		info.IPAddress = "127.0.0.1"
		info.AllowedUpdates = slices.Clone(s.allowed)
		info.LastErrorDate = int(s.hook.lastErrDate)
		info.LastErrorMessage = s.hook.lastErrMsg
	}
	return info, nil
}

// WebhookURL is the webhook currently set ("" when polling).
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hook.url
}

func (s *Server) startDelivererLocked() {
	if s.delivering || s.ctx.Err() != nil {
		return
	}
	s.delivering = true
	s.wg.Add(1)
	go s.deliverLoop()
}

// deliverLoop POSTs the head of the queue to the webhook, one update at a
// time so that order is kept; a failing update blocks the ones behind it
// until it is delivered or given up, as with Telegram.
func (s *Server) deliverLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for {
			if s.ctx.Err() != nil {
				s.mu.Unlock()
				return
			}
			var retry <-chan time.Time
			var timer *time.Timer
			if s.hook.url != "" && len(s.queue) > 0 {
				wait := time.Until(s.hook.nextTry)
				if wait <= 0 {
					break
				}
				timer = time.NewTimer(wait)
				retry = timer.C
			}
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-retry:
			case <-s.ctx.Done():
			}
			if timer != nil {
				timer.Stop()
			}
			s.mu.Lock()
		}
		head, hook := s.queue[0], s.hook
		s.mu.Unlock()

		d := s.post(hook.url, hook.secret, head)
		d.Attempt = hook.attempt + 1
		ok := d.Status >= 200 && d.Status < 300

		s.mu.Lock()
		s.deliveries = trim(append(s.deliveries, d), s.opts.MaxRecords)
		// The queue may have been dropped meanwhile; a dropped entry was
		// already told so.
		stillHead := len(s.queue) > 0 && s.queue[0].seq == head.seq
		switch {
		case ok && stillHead:
			s.queue[0].resolve(nil)
			s.queue = s.queue[1:]
			s.hook.attempt, s.hook.nextTry = 0, time.Time{}
		case !ok && stillHead && s.hook.gen == hook.gen && s.ctx.Err() == nil:
			s.hook.attempt++
			s.hook.lastErrDate = s.now().Unix()
			s.hook.lastErrMsg = d.Err
			if d.Status != 0 {
				s.hook.lastErrMsg = fmt.Sprintf("Wrong response from the webhook: %d %s", d.Status, http.StatusText(d.Status))
			}
			if s.hook.attempt >= s.opts.WebhookAttempts {
				s.queue[0].resolve(ErrGaveUp)
				s.queue = s.queue[1:]
				s.hook.attempt, s.hook.nextTry = 0, time.Time{}
			} else {
				s.hook.nextTry = clock.Monotonic().Add(s.backoff(s.hook.attempt))
			}
		}
		s.notify()
		s.mu.Unlock()
	}
}

func (s *Server) backoff(failures int) time.Duration {
	d := s.opts.WebhookBackoff
	for i := 1; i < failures && d < 2*time.Second; i++ {
		d *= 2
	}
	return min(d, 2*time.Second)
}

func (s *Server) post(url, secret string, u queuedUpdate) WebhookDelivery {
	d := WebhookDelivery{UpdateID: u.id, URL: url, At: s.now()}
	start := clock.Monotonic()
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(u.raw))
	if err != nil {
		d.Err = err.Error()
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := s.hclient.Do(req)
	d.Duration = time.Since(start)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	d.Status, d.Response = resp.StatusCode, string(body)
	return d
}
