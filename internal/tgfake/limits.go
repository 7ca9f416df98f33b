package tgfake

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/zhibu/zhibu/internal/clock"
)

// setLimits installs fresh buckets. Callers hold s.mu or own s exclusively.
func (s *Server) setLimits(l Limits) {
	s.limits = l
	s.global = nil
	s.perChat = map[int64]*rate.Limiter{}
	if !l.Disabled && l.GlobalPerSecond > 0 {
		s.global = rate.NewLimiter(rate.Limit(l.GlobalPerSecond), max(l.GlobalBurst, 1))
	}
}

// SetLimits replaces the flood control (and refills every bucket).
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLimits(l)
}

// ResetLimits refills every bucket, e.g. between subtests.
func (s *Server) ResetLimits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLimits(s.limits)
}

// TooManyRequests counts the 429 answers produced by flood control (not the
// injected ones): a sender that paces itself correctly keeps it at 0.
func (s *Server) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

func (s *Server) chatLimiter(chatID int64) *rate.Limiter {
	if l, ok := s.perChat[chatID]; ok {
		return l
	}
	var l *rate.Limiter
	switch {
	case chatID > 0 && s.limits.ChatPerSecond > 0:
		l = rate.NewLimiter(rate.Limit(s.limits.ChatPerSecond), max(s.limits.ChatBurst, 1))
	case chatID < 0 && s.limits.GroupPerMinute > 0:
		l = rate.NewLimiter(rate.Limit(s.limits.GroupPerMinute/60), max(s.limits.GroupBurst, 1))
	}
	s.perChat[chatID] = l
	return l
}

// takeToken charges one message to the bot and to the chat, or answers 429
// without charging anything. Checking every bucket before taking from any
// keeps a refused send from eating tokens. Callers hold s.mu.
func (s *Server) takeToken(chatID int64) *Failure {
	if s.limits.Disabled {
		return nil
	}
	now := clock.Monotonic()
	var wait time.Duration
	lims := []*rate.Limiter{s.global, s.chatLimiter(chatID)}
	for _, l := range lims {
		if l == nil {
			continue
		}
		if t := l.TokensAt(now); t < 1 {
			d := time.Duration((1 - t) / float64(l.Limit()) * float64(time.Second))
			wait = max(wait, d)
		}
	}
	if wait > 0 {
		s.tooMany++
		n := max(int(math.Ceil(wait.Seconds())), 1)
		return &Failure{
			Code:        http.StatusTooManyRequests,
			Description: fmt.Sprintf("Too Many Requests: retry after %d", n),
			RetryAfter:  n,
		}
	}
	for _, l := range lims {
		if l != nil {
			l.AllowN(now, 1)
		}
	}
	return nil
}
