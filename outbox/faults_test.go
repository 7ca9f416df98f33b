package outbox_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/faultreport"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/storage"
)

// texts enqueues n ordinary messages to the chats first, first+1, …, each
// its own dedupe key as text (prefix and index), and returns them as the
// fault suite's wanted messages.
func (e *env) texts(prefix string, first int64, n int) []faultreport.Want {
	e.t.Helper()
	wants := make([]faultreport.Want, 0, n)
	for i := range n {
		key, chat := fmt.Sprintf("%s%02d", prefix, i), first+int64(i)
		e.text(key, chat, storage.PriorityDefault)
		wants = append(wants, faultreport.Want{Chat: chat, Text: key})
	}
	return wants
}

// red enqueues a red supervision notice (sent at most once) to chat with
// key as its text.
func (e *env) red(key string, chat int64) faultreport.Want {
	e.t.Helper()
	e.enqueue(storage.OutMessage{DedupeKey: key, ChatID: chat, Kind: storage.KindHealth, Priority: storage.PriorityRed,
		Payload: map[string]string{"text": key}})
	return faultreport.Want{Chat: chat, Text: key, Red: true}
}

// waitSettled waits until no row is pending or in flight.
func (e *env) waitSettled(timeout time.Duration) {
	e.t.Helper()
	testdb.Eventually(e.t, timeout, "every row to be sent or given up", func() bool {
		return testdb.Count(e.t, e.store, `SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')`) == 0
	})
}

// TestFaultBotAPISlowerThanTheSendTimeout (SPEC §7.7): for 3 s the Bot
// API answers every call after 1 s, more than the send timeout (300 ms
// here; 20 s in serve), and delivers it all the same, as Telegram does.
// Each timed-out ordinary message is sent again (it may be a copy: the
// price of at least once); the timeouts count towards the bot-wide
// back-off, whose probes are getMe calls, and sends resume only once one
// is answered in time: the copies are the calls in the air when the API
// slowed (one per chat), each message at most twice; the red notice is never
// sent again (it ends uncertain); nothing is lost. The fault suite's case
// botapi-slow.
func TestFaultBotAPISlowerThanTheSendTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	const chats = 10
	wants := e.texts("s", 900, chats)
	wants = append(wants, e.red("s-red", 920))
	var slow atomic.Bool
	slow.Store(true)
	var slowCalls, probes atomic.Int32
	e.api.OnCall(func(method string, _ map[string]string) *tgfake.Failure {
		if (method != "sendMessage" && method != "getMe") || !slow.Load() {
			return nil
		}
		if method == "getMe" {
			probes.Add(1)
		} else {
			slowCalls.Add(1)
		}
		f := tgfake.Slow(time.Second)
		return &f
	})
	opts := scaledOptions()
	opts.SendTimeout = 300 * time.Millisecond
	d, _ := e.dispatcher(opts)
	run(t, d)
	time.Sleep(3 * time.Second)
	slow.Store(false)
	e.waitSettled(30 * time.Second)
	time.Sleep(1500 * time.Millisecond) // the last slow calls are delivered meanwhile
	s := faultreport.Tally("botapi-slow", e.api.Messages(), wants, faultreport.NoTakeover)
	// One copy per chat whose call was in the air; the probes are getMe
	// calls, which copy nothing.
	faultreport.Report(t, s, chats)
	t.Logf("%d sends and %d probes answered after the send timeout in 3 s", slowCalls.Load(), probes.Load())
	for _, w := range wants {
		if n := countByText(e.api.Messages())[w.Text]; n > 2 || (w.Red && n != 1) || n == 0 {
			t.Errorf("%s arrived %d times; want an ordinary message once or twice, the red notice once", w.Text, n)
		}
	}
	// In the air when the API slowed it ends uncertain; held back by the
	// probe (under a loaded test machine) it goes once the API answers.
	if r := e.row("s-red"); r.Status != storage.OutboxUncertain && r.Status != storage.OutboxSent {
		t.Errorf("red notice: %s, want %s or %s", r.Status, storage.OutboxUncertain, storage.OutboxSent)
	}
	if n := int(slowCalls.Load()); n > chats+1 {
		t.Errorf("%d sends reached a Bot API slower than the send timeout in 3 s; want at most one per chat", n)
	}
	if probes.Load() == 0 {
		t.Error("no getMe probe during the outage; want one per pause")
	}
}

// TestFaultBotAPIRefusesConnections (SPEC §7.7): for 4 s no connection to
// the Bot API can be made (a TCP proxy in front of it stops listening).
// The failures back off bot-wide instead of being retried at the per-row
// pace, nothing reaches the API, and once it listens again every message
// goes out once: a refused connection proves nothing was delivered, so
// the red notice is sent too. The fault suite's case botapi-refused.
func TestFaultBotAPIRefusesConnections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	proxy, viaProxy := testdb.NewProxy(t, e.api.URL()) // a TCP proxy; its target need not be a database
	proxy.Cut()
	e.bot = newBotAt(t, e.api.Token(), viaProxy)
	wants := e.texts("r", 940, 9)
	wants = append(wants, e.red("r-red", 949))
	d, reg := e.dispatcher(scaledOptions())
	run(t, d)
	time.Sleep(4 * time.Second)
	refused := metricValue(t, reg, "zhibu_outbox_retried_total", "reason", "temporary")
	proxy.Restore()
	e.waitMessages(len(wants), 60*time.Second)
	e.waitSettled(10 * time.Second)
	time.Sleep(300 * time.Millisecond) // anything late would show now
	faultreport.Report(t, faultreport.Tally("botapi-refused", e.api.Messages(), wants, faultreport.NoTakeover), 0)
	t.Logf("%v refused calls in 4 s", refused)
	// Without a bot-wide back-off the per-row one (100 ms base here) would
	// make hundreds of calls in 4 s.
	if refused == 0 || refused > 60 {
		t.Errorf("%v calls refused in 4 s; want some, and the bot-wide back-off to keep them few", refused)
	}
	if n := e.row("r-red"); n.Status != storage.OutboxSent {
		t.Errorf("red notice after refused connections: %s, want %s", n.Status, storage.OutboxSent)
	}
}

// TestUnansweredSendIsRetriedOnlyAfterAProbe: a send that times out (it
// may have been delivered) makes the next call a getMe probe, and the
// message is sent again only once the probe is answered in time, so a Bot
// API that stays slow gets no second copy of it.
func TestUnansweredSendIsRetriedOnlyAfterAProbe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, scaled)
	var mu sync.Mutex
	var calls []string
	slowProbes := 1 // the first probe is slow too: the API is still slow
	e.api.OnCall(func(method string, _ map[string]string) *tgfake.Failure {
		if method != "sendMessage" && method != "getMe" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, method)
		slow := method == "sendMessage" && len(calls) == 1
		if method == "getMe" && slowProbes > 0 {
			slowProbes--
			slow = true
		}
		if slow {
			f := tgfake.Slow(time.Second)
			return &f
		}
		return nil
	})
	e.text("u1", 960, storage.PriorityDefault)
	opts := scaledOptions()
	opts.SendTimeout = 300 * time.Millisecond
	d, _ := e.dispatcher(opts)
	run(t, d)
	e.waitSettled(20 * time.Second)
	time.Sleep(800 * time.Millisecond) // the slow call is delivered meanwhile
	mu.Lock()
	got := strings.Join(calls, ",")
	mu.Unlock()
	if want := "sendMessage,getMe,getMe,sendMessage"; got != want {
		t.Errorf("calls %s, want %s", got, want)
	}
	if n := countByText(e.api.Messages())["u1"]; n != 2 {
		t.Errorf("u1 arrived %d times; want twice (the timed-out call and its one retry)", n)
	}
	if r := e.row("u1"); r.Status != storage.OutboxSent {
		t.Errorf("u1: %s, want %s", r.Status, storage.OutboxSent)
	}
}
