package outbox

import (
	"context"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/clock"
)

// TestPacerWindows drives the per-chat buckets on a simulated clock, each
// message sent as soon as its token allows, and checks the limits over
// every window: at most 20 group messages in any 60 s and 1 private
// message per second, for 100 messages each.
func TestPacerWindows(t *testing.T) {
	p := newPacer(30, 1, 20)
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		chat   int64
		n      int // messages allowed ...
		window time.Duration
	}{
		{-100, 20, time.Minute},
		{100, 1, time.Second},
	} {
		var at []time.Time
		now := t0
		for range 100 {
			a := p.chatReady(tc.chat, now)
			if a.Before(now) {
				t.Fatalf("ready in the past")
			}
			if w := p.takeChat(tc.chat, a); w != 0 {
				t.Fatalf("not ready when chatReady said so: wait %s", w)
			}
			if w := p.takeChat(tc.chat, a); w == 0 {
				t.Fatalf("two messages at once")
			}
			at = append(at, a)
			now = a
		}
		for i := 0; i+tc.n < len(at); i++ {
			if d := at[i+tc.n].Sub(at[i]); d < tc.window {
				t.Fatalf("chat %d: %d messages within %s", tc.chat, tc.n+1, d)
			}
		}
		if total := at[len(at)-1].Sub(at[0]); total > time.Duration(float64(tc.window)*float64(99)/float64(tc.n))+time.Millisecond {
			t.Errorf("chat %d: slower than the limit: 100 messages over %s", tc.chat, total)
		}
	}
	// Busy chats are reported until their bucket refills, then forgotten.
	later := t0.Add(time.Hour)
	p.takeChat(7, later)
	ids, next := p.busy(later)
	if len(ids) != 1 || ids[0] != 7 || !next.Equal(later.Add(time.Second)) {
		t.Fatalf("busy: %v %v", ids, next)
	}
	if ids, _ := p.busy(later.Add(time.Second)); len(ids) != 0 || len(p.chats) != 0 {
		t.Fatalf("idle chats kept: %v %d", ids, len(p.chats))
	}
}

func TestPacerRateLimited(t *testing.T) {
	p := newPacer(30, 1, 20)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	if p.rateLimited(1, 5*time.Second, now) {
		t.Fatal("one chat's 429 paused the bot")
	}
	ids, next := p.busy(now.Add(2 * time.Second))
	if len(ids) != 1 || !next.Equal(now.Add(5*time.Second)) {
		t.Fatalf("paused chat: %v %v", ids, next)
	}
	p.rateLimited(2, 3*time.Second, now.Add(time.Second))
	if !p.rateLimited(3, 3*time.Second, now.Add(time.Second)) {
		t.Fatal("three chats refused at once did not pause the bot")
	}
	if until := p.pausedUntil(); !until.Equal(now.Add(4 * time.Second)) {
		t.Fatalf("paused until %v", until)
	}
	if !p.rateLimited(0, time.Second, now.Add(time.Minute)) {
		t.Fatal("a 429 without a chat must pause the bot")
	}
}

func TestPacerGlobalRate(t *testing.T) {
	p := newPacer(30, 1, 20)
	ctx := context.Background()
	start := time.Now()
	for range 31 {
		if ok, err := p.waitGlobal(ctx, time.Now().Add(time.Minute)); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if d := time.Since(start); d < time.Second-10*time.Millisecond {
		t.Fatalf("31 global tokens in %s at 30/s", d)
	}
	// A pause that outlasts the deadline is not waited for.
	p.rateLimited(0, time.Hour, time.Now())
	if ok, err := p.waitGlobal(ctx, time.Now().Add(time.Second)); ok || err != nil {
		t.Fatalf("waited through a long pause: %v %v", ok, err)
	}
}

func TestAgeSlots(t *testing.T) {
	d := &rowLane{opts: Options{OldestShare: 0.1}}
	total, age := 0, 0
	for i := range 1000 {
		room := 1 + i%5
		n := d.ageSlots(room)
		if n > room {
			t.Fatal("more age slots than room")
		}
		total += room
		age += n
	}
	if share := float64(age) / float64(total); share < 0.099 || share > 0.101 {
		t.Fatalf("age share %.3f", share)
	}
}

func TestPacerBotWide(t *testing.T) {
	p := newPacer(30, 1, 20)
	p.botWide = true
	now := time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)
	if !p.rateLimited(1, 2*time.Second, now) {
		t.Fatal("a bot-wide pacer paused only the chat")
	}
	if until := p.pausedUntil(); !until.Equal(now.Add(2 * time.Second)) {
		t.Fatalf("paused until %v", until)
	}
	// Temporary failures: the third in a row pauses 1 s, the next 2 s;
	// a call begun during that pause does not lengthen it; a success ends
	// the streak.
	p = newPacer(30, 1, 20)
	p.botWide = true
	for i := range 2 {
		if d := p.failed(now, now); d != 0 {
			t.Fatalf("failure %d paused %s", i+1, d)
		}
	}
	if d := p.failed(now, now); d != failBase {
		t.Fatalf("third failure: %s", d)
	}
	if d := p.failed(now.Add(500*time.Millisecond), now.Add(600*time.Millisecond)); d != 0 {
		t.Fatalf("a call begun during the pause lengthened it: %s", d)
	}
	if d := p.failed(now.Add(1100*time.Millisecond), now.Add(1200*time.Millisecond)); d != 2*failBase {
		t.Fatalf("fourth failure: %s", d)
	}
	p.answered()
	if d := p.failed(now.Add(5*time.Second), now.Add(5*time.Second)); d != 0 {
		t.Fatalf("after a success: %s", d)
	}
	// Capped.
	for range 20 {
		p.failPauseEnd = time.Time{}
		p.failed(now, now)
	}
	if d := p.failed(now.Add(2*failMax), now.Add(2*failMax)); d != failMax {
		t.Fatalf("cap: %s", d)
	}
	// A robot channel's pacer keeps per-chat behaviour.
	r := newPacer(30, 1, 20)
	if r.rateLimited(1, time.Second, now) || r.failed(now, now) != 0 {
		t.Fatal("a per-chat pacer paused bot-wide")
	}
}

func TestPacerProbeAfterPause(t *testing.T) {
	p := newPacer(30, 1, 20)
	p.botWide = true
	ctx := context.Background()
	p.rateLimited(1, 50*time.Millisecond, clock.Monotonic())
	deadline := clock.Monotonic().Add(5 * time.Second)
	first, ok, err := p.admit(ctx, deadline)
	if !ok || err != nil || first.probe == nil {
		t.Fatalf("first after the pause is not the probe: %v %v", ok, err)
	}
	got := make(chan *ticket, 1)
	go func() {
		t2, _, _ := p.admit(ctx, deadline)
		got <- t2
	}()
	select {
	case <-got:
		t.Fatal("a second call went while the probe was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	first.done(true)
	select {
	case t2 := <-got:
		if t2 == nil || t2.probe != nil || !t2.clear() {
			t.Fatalf("after the probe: %+v", t2)
		}
	case <-time.After(time.Second):
		t.Fatal("the probe's answer did not let the others go")
	}
}

func TestPacerUnansweredCallNeedsAProbe(t *testing.T) {
	p := newPacer(30, 1, 20)
	p.botWide = true
	ctx := context.Background()
	deadline := clock.Monotonic().Add(5 * time.Second)
	p.unanswered()
	tk, ok, err := p.admit(ctx, deadline)
	if !ok || err != nil || tk.probe == nil {
		t.Fatalf("first call after an unanswered one is not the probe: %v %v", ok, err)
	}
	// The probe gets no answer either: the bot pauses, at least failBase.
	now := clock.Monotonic()
	if d := p.probeFailed(now, now); d < failBase {
		t.Fatalf("failed probe paused %s, want at least %s", d, failBase)
	}
	tk.done(true)
	if !p.pausedUntil().After(clock.Monotonic()) || !p.probeNeeded {
		t.Fatal("after a failed probe: no pause, or no probe due after it")
	}
	// A robot channel's pacer is not held back by one chat's timeout.
	r := newPacer(30, 1, 20)
	r.unanswered()
	if rt, ok, _ := r.admit(ctx, deadline); !ok || rt.probe != nil {
		t.Fatal("a per-chat pacer made a probe after a timeout")
	}
}
