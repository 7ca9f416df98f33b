package outbox

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/delivery"
)

// pacer keeps the sending side under the platform's limits by construction:
// one token bucket for the bot and one per chat (private chats and groups
// at their own rates), all with a burst of 1, so that no window of the
// limit's length ever sees more than the limit allows. It also holds the
// pauses a 429 asks for. Limiters run on real time (rate's clock), not on
// Options.Now.
//
// A send waits until its chat is ready, then takes the global token, then
// the chat's token, and goes at once: both tokens are taken at the moment
// of the call, so the spacing Telegram sees is the spacing of the buckets
// (waiting on one bucket never lets calls bunch up on the other). The
// one-row-per-chat claim means a chat's token has a single taker at a time.
type pacer struct {
	global    *rate.Limiter
	chatRate  rate.Limit
	groupRate rate.Limit

	// botWide: one endpoint's limits govern every chat (a Telegram bot):
	// any 429 pauses the whole bot, and repeated temporary failures back
	// off bot-wide. Robot channels (one webhook per chat) pause the chat.
	botWide bool

	mu          sync.Mutex
	chats       map[int64]*chatPace
	globalUntil time.Time        // whole bot paused until then
	recent      []rateLimitEvent // 429s of the last globalWindow

	// After a bot-wide pause one call goes first (the probe) and the
	// others wait for its answer: on Telegram, calls made during a flood
	// wait lengthen it, and a pause ending lets every waiting worker go.
	probeNeeded bool
	probe       chan struct{} // closed when the probe in flight answers; nil when none
	// Repeated temporary failures (5xx, refused, timeouts): streak counts
	// them, a call begun before failPauseEnd does not count again.
	streak       int
	failPauseEnd time.Time
}

// Bot-wide back-off after failStreak temporary failures in a row:
// failBase, doubled for each further one, at most failMax.
const (
	failStreak = 3
	failBase   = time.Second
	failMax    = time.Minute
)

type chatPace struct {
	lim   *rate.Limiter
	until time.Time // paused by a 429 until then
}

type rateLimitEvent struct {
	chat int64
	at   time.Time
}

// A 429 pauses its chat only, unless globalChats distinct chats got one
// within globalWindow: then it looks like the bot's own limit and the
// whole bot pauses.
const (
	globalChats  = 3
	globalWindow = 2 * time.Second
)

func newPacer(globalPerSecond, chatPerSecond, groupPerMinute float64) *pacer {
	return &pacer{
		global:    rate.NewLimiter(rate.Limit(globalPerSecond), 1),
		chatRate:  rate.Limit(chatPerSecond),
		groupRate: rate.Limit(groupPerMinute / 60),
		chats:     map[int64]*chatPace{},
	}
}

// chatLocked returns chat's state, creating it. Private chats have positive
// ids, groups, supergroups and channels negative ones.
func (p *pacer) chatLocked(chat int64) *chatPace {
	c, ok := p.chats[chat]
	if !ok {
		r := p.chatRate
		if chat < 0 {
			r = p.groupRate
		}
		c = &chatPace{lim: rate.NewLimiter(r, 1)}
		p.chats[chat] = c
	}
	return c
}

// chatReady returns when chat may take its next message: its bucket holds
// a token and no 429 pause runs. It takes nothing.
func (p *pacer) chatReady(chat int64, now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.chats[chat]
	if !ok {
		return now
	}
	return c.readyAt(now)
}

func (c *chatPace) readyAt(now time.Time) time.Time {
	at := now
	if t := c.lim.TokensAt(now); t < 1 {
		at = now.Add(time.Duration((1 - t) / float64(c.lim.Limit()) * float64(time.Second)))
	}
	if c.until.After(at) {
		at = c.until
	}
	return at
}

// takeChat charges one message to chat at now, the moment it is sent. If
// the chat is not ready after all (a 429 pause came in meanwhile) it takes
// nothing and returns how long to wait.
func (p *pacer) takeChat(chat int64, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.chatLocked(chat)
	if at := c.readyAt(now); at.After(now) {
		return at.Sub(now)
	}
	c.lim.AllowN(now, 1)
	return 0
}

// seed records a message sent to chat at (by a previous leader), so that
// the next one keeps its distance.
func (p *pacer) seed(chat int64, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, known := p.chats[chat]; known {
		return // this pacer saw it itself
	}
	p.chatLocked(chat).lim.ReserveN(at, 1)
}

// busy lists the chats that cannot take a message at now (bucket empty or
// paused) and the earliest time one of them frees up (zero if none). Chats
// whose bucket is full again and that are not paused are forgotten, so the
// map only holds chats active within the last interval of their rate.
func (p *pacer) busy(now time.Time) ([]int64, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []int64
	var next time.Time
	for id, c := range p.chats {
		tokens := c.lim.TokensAt(now)
		if tokens >= 1 && !c.until.After(now) {
			delete(p.chats, id)
			continue
		}
		ids = append(ids, id)
		free := c.readyAt(now)
		if next.IsZero() || free.Before(next) {
			next = free
		}
	}
	return ids, next
}

// rateLimited records a 429 for chat and pauses the chat, or the whole bot
// when the pacer is botWide, several chats were refused at once or the
// call had no chat. It reports whether the pause is global.
func (p *pacer) rateLimited(chat int64, retryAfter time.Duration, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := now.Add(retryAfter)
	if p.botWide {
		p.pauseLocked(until)
		c := p.chatLocked(chat)
		if until.After(c.until) {
			c.until = until
		}
		return true
	}
	keep := p.recent[:0]
	for _, e := range p.recent {
		if now.Sub(e.at) < globalWindow {
			keep = append(keep, e)
		}
	}
	p.recent = append(keep, rateLimitEvent{chat: chat, at: now})
	distinct := map[int64]bool{}
	for _, e := range p.recent {
		distinct[e.chat] = true
	}
	if chat == 0 || len(distinct) >= globalChats {
		p.pauseLocked(until)
		return true
	}
	c := p.chatLocked(chat)
	if until.After(c.until) {
		c.until = until
	}
	return false
}

// pauseLocked pauses the whole bot until until; the first call after it
// is a probe.
func (p *pacer) pauseLocked(until time.Time) {
	if until.After(p.globalUntil) {
		p.globalUntil = until
	}
	p.probeNeeded = true
}

// failed records a temporary failure of a call begun at began (a 5xx, a
// refused connection, a timeout) and, on a botWide pacer, pauses the bot
// after failStreak of them in a row, exponentially longer while they go
// on. Calls begun before the last such pause ended were answered by the
// same outage and do not lengthen it. It returns the pause (0 if none).
func (p *pacer) failed(began, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.botWide || began.Before(p.failPauseEnd) {
		return 0
	}
	p.streak++
	if p.streak < failStreak {
		return 0
	}
	d := failBase
	for i := failStreak; i < p.streak && d < failMax; i++ {
		d *= 2
	}
	d = min(d, failMax)
	p.failPauseEnd = now.Add(d)
	p.pauseLocked(p.failPauseEnd)
	return d
}

// unanswered records a call that got no answer (a timeout: it may have
// been delivered). On a botWide pacer the next call is a probe and every
// other waits for its answer, so that no message, its own retry included,
// goes into an API that does not answer in time.
func (p *pacer) unanswered() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.botWide {
		p.probeNeeded = true
	}
}

// probeFailed records a probe that got no answer in time (or an error):
// like failed, and the bot pauses again (at least failBase) whatever the
// streak, so that no message goes before a probe is answered.
func (p *pacer) probeFailed(began, now time.Time) time.Duration {
	if d := p.failed(began, now); d > 0 {
		return d
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pauseLocked(now.Add(failBase))
	return failBase
}

// answered ends the streak of temporary failures.
func (p *pacer) answered() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streak = 0
}

// ticket is a call's admission past the bot-wide pause (admit).
type ticket struct {
	p     *pacer
	probe chan struct{} // non-nil: this call is the probe
	once  sync.Once
}

// admit is called before a call's global token: it waits out a bot-wide
// pause and, after one, lets a single call go first (the probe) and the
// others wait for its answer (deadline as for waitGlobal: ok false when
// the wait would pass it). The ticket's done must be called once the call
// has been answered and its pauses recorded (called true), or with called
// false when no call was made after all (the next call is then the probe).
func (p *pacer) admit(ctx context.Context, deadline time.Time) (t *ticket, ok bool, err error) {
	for {
		p.mu.Lock()
		now := clock.Monotonic()
		until, probe := p.globalUntil, p.probe
		switch {
		case until.After(now):
			p.mu.Unlock()
			if until.After(deadline) {
				return nil, false, nil
			}
			if err := delivery.Sleep(ctx, until.Sub(now)); err != nil {
				return nil, false, err
			}
		case probe != nil:
			p.mu.Unlock()
			if !deadline.After(now) {
				return nil, false, nil
			}
			t := time.NewTimer(deadline.Sub(now))
			select {
			case <-probe:
				t.Stop()
			case <-t.C:
				return nil, false, nil
			case <-ctx.Done():
				t.Stop()
				return nil, false, ctx.Err()
			}
		case p.probeNeeded:
			p.probeNeeded = false
			p.probe = make(chan struct{})
			t := &ticket{p: p, probe: p.probe}
			p.mu.Unlock()
			return t, true, nil
		default:
			p.mu.Unlock()
			return &ticket{p: p}, true, nil
		}
	}
}

// clear reports whether the call may still go now: no bot-wide pause began
// since admit (while it waited for its global token), and no probe other
// than itself is due or in flight.
func (t *ticket) clear() bool {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.globalUntil.After(clock.Monotonic()) {
		return false
	}
	if t.probe != nil {
		return p.probe == t.probe
	}
	return p.probe == nil && !p.probeNeeded
}

// done releases the ticket (see admit).
func (t *ticket) done(called bool) {
	t.once.Do(func() {
		if t.probe == nil {
			return
		}
		p := t.p
		p.mu.Lock()
		if p.probe == t.probe {
			p.probe = nil
			if !called {
				p.probeNeeded = true
			}
		}
		p.mu.Unlock()
		close(t.probe)
	})
}

// pausedUntil is the end of the bot-wide pause (zero or past when none).
func (p *pacer) pausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.globalUntil
}

// waitGlobal waits for the bot-wide pause to end and for a global token.
// It gives up, with ok false and without taking a token, when the wait
// would go past deadline (the row is better put back than held).
func (p *pacer) waitGlobal(ctx context.Context, deadline time.Time) (ok bool, err error) {
	for {
		until := p.pausedUntil()
		now := clock.Monotonic()
		if !until.After(now) {
			break
		}
		if until.After(deadline) {
			return false, nil
		}
		if err := delivery.Sleep(ctx, until.Sub(now)); err != nil {
			return false, err
		}
	}
	r := p.global.Reserve()
	if d := r.Delay(); d > 0 {
		if err := delivery.Sleep(ctx, d); err != nil {
			r.Cancel()
			return false, err
		}
	}
	return true, nil
}
