package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zhibu/zhibu/cli"
	"github.com/zhibu/zhibu/internal/faultreport"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/leader"
	"github.com/zhibu/zhibu/storage"
)

// childEnv makes the test binary run `zhibu serve` instead of the tests:
// a replica in a process of its own, which a test can kill -9.
// (Not ZHIBU_*: serve refuses environment variables that name no key.)
const childEnv = "E2E_ZHIBU_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "serve" {
		os.Args = []string{"zhibu", "serve"}
		os.Exit(cli.Main())
	}
	os.Exit(m.Run())
}

// replica is a `zhibu serve` process.
type replica struct {
	cmd  *exec.Cmd
	base string
	out  *lockedWriter
	buf  *bytes.Buffer
	done chan struct{}
}

// startReplica runs serve in a child process against dbURL and the fake
// Bot API, with env (ZHIBU_*=...) on top of the test's settings, and waits
// until it answers /readyz.
func startReplica(t *testing.T, dbURL string, fake *tgfake.Server, env ...string) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	buf := &bytes.Buffer{}
	r := &replica{base: "http://" + addr, buf: buf, out: &lockedWriter{w: buf}, done: make(chan struct{})}
	r.cmd = exec.Command(exe)
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ZHIBU_") { // the test's own settings are not serve's
			base = append(base, kv)
		}
	}
	r.cmd.Env = append(base, childEnv+"=serve",
		"ZHIBU_DATABASE_URL="+dbURL, "ZHIBU_HTTP_LISTEN="+addr,
		"ZHIBU_TELEGRAM_TOKEN="+fake.Token(), "ZHIBU_TELEGRAM_API_URL="+fake.URL(),
		"ZHIBU_TELEGRAM_WEBHOOK_SECRET="+secret, "ZHIBU_TELEGRAM_BOT_USERNAME="+username,
		"ZHIBU_HEALTHCHECK_EVERY=0", "ZHIBU_HEALTHCHECK_CALENDAR=none", "ZHIBU_LOG_FORMAT=json",
		"ZHIBU_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true") // the test's receiver is on loopback
	r.cmd.Env = append(r.cmd.Env, env...)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			r.out.mu.Lock()
			t.Logf("replica %s output:\n%s", addr, r.buf.String())
			r.out.mu.Unlock()
		}
	})
	testdb.Eventually(t, 20*time.Second, "the replica at "+addr+" to be ready", func() bool {
		select {
		case <-r.done:
			t.Fatalf("the replica at %s exited", addr)
		default:
		}
		resp, err := http.Get(r.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return r
}

// lockHolder is the backend pid holding the leader lock (0: nobody).
func lockHolder(t *testing.T, s *storage.Store) int {
	t.Helper()
	pid, err := queryLockHolder(s)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// queryLockHolder is lockHolder for a goroutine other than the test's.
func queryLockHolder(s *storage.Store) (int, error) {
	key := leader.Key("zhibu")
	var pid int
	err := s.DB().GetContext(context.Background(), &pid, `
		SELECT COALESCE(max(pid), 0) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 1
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		uint32(uint64(key)>>32), uint32(uint64(key)))
	return pid, err
}

// terminateLockSession ends the backend pid on the server, as a DBA or the
// server's keepalives would end a vanished leader's session.
func terminateLockSession(t *testing.T, s *storage.Store, pid int) bool {
	t.Helper()
	var ok bool
	if err := s.DB().GetContext(context.Background(), &ok, `SELECT pid <> 0 AND pg_terminate_backend(pid) FROM (SELECT $1::int AS pid) p`, pid); err != nil {
		t.Fatal(err)
	}
	return ok
}

// The texts of the fault tests' messages: a reply and a red supervision
// notice the leader has in flight when it fails, and a notice due a little
// later.
const (
	inflightText = "收到，已登记。"
	redText      = "【督办】二支部：本季度党课逾期未上，请尽快补上。"
	noticeText   = "【督办】一支部：上月支委会还没开，请尽快补开。"
)

// holdFirstSend makes the first sendMessage of each of texts wait at the
// fake Bot API until release is called (at the latest at cleanup): calls
// whose sender may fail before they are answered. made is closed when all
// have arrived.
func holdFirstSend(t *testing.T, fake *tgfake.Server, texts ...string) (made <-chan struct{}, release func()) {
	arrived, gate := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	held := map[string]bool{}
	var released sync.Once
	fake.OnCall(func(method string, p map[string]string) *tgfake.Failure {
		if method != "sendMessage" || !slices.Contains(texts, p["text"]) {
			return nil
		}
		mu.Lock()
		first := !held[p["text"]]
		held[p["text"]] = true
		if first && len(held) == len(texts) {
			close(arrived)
		}
		mu.Unlock()
		if first {
			<-gate
		}
		return nil
	})
	release = func() { released.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return arrived, release
}

// enqueueRed enqueues a red supervision notice of the health check (sent
// at most once: storage.AtMostOnce) to chat.
func enqueueRed(t *testing.T, s *storage.Store, key string, chat int64) {
	t.Helper()
	if err := s.Enqueue(context.Background(), storage.OutMessage{DedupeKey: key, ChatID: chat, Kind: storage.KindHealth,
		Priority: storage.PriorityRed, Payload: map[string]any{"text": redText}}); err != nil {
		t.Fatal(err)
	}
}

// countText counts the messages to chat whose text is text.
func countText(fake *tgfake.Server, chat int64, text string) int {
	n := 0
	for _, m := range fake.MessagesTo(chat) {
		if m.Text == text {
			n++
		}
	}
	return n
}

// SPEC §7.7 with real processes: two `zhibu serve` replicas on one
// database and one Bot API; the leader is killed with SIGKILL while two of
// its sends hang at the Bot API (a reply and a red supervision notice) and
// one outbound webhook request hangs at its receiver. The other takes
// over; the reply the dead leader had in flight is sent again within 15 s
// of the take-over (it may have gone out: the one duplicate, in its chat),
// the webhook delivery too (the receiver sees its webhook-id twice), the
// red notice is not sent again (it ends uncertain: a red notice never
// twice), and a notice that was waiting for its time goes out exactly
// once. Nothing is lost. The fault suite's case kill9-leader.
func TestFaultKillNineOfTheLeaderProcess(t *testing.T) {
	url := testdb.URL(t)
	fake := tgfake.New(tgfake.Options{Username: username})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	store, err := storage.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.DB().Close() })
	inflightChat, noticeChat, redChat := fake.PrivateChat(li).ID, fake.PrivateChat(wang).ID, fake.PrivateChat(zhou).ID
	callMade, free := holdFirstSend(t, fake, inflightText, redText)

	// An outbound webhook subscription whose receiver holds the first
	// request until the test lets it go.
	var hookMu sync.Mutex
	var hookIDs []string
	hookMade, hookRelease := make(chan struct{}), make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hookMu.Lock()
		hookIDs = append(hookIDs, r.Header.Get("webhook-id"))
		first := len(hookIDs) == 1
		hookMu.Unlock()
		if first {
			close(hookMade)
			<-hookRelease
		}
	}))
	var hookReleased sync.Once
	freeHook := func() { hookReleased.Do(func() { close(hookRelease) }) }
	t.Cleanup(receiver.Close)
	t.Cleanup(freeHook) // before the receiver closes
	ctx := context.Background()
	county, err := store.CreateUnit(ctx, "QA", "乾安县", "county", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sub, err := store.CreateWebhookSubscription(ctx, storage.NewWebhookSubscription{URL: receiver.URL + "/hook",
		Secret: "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)), UnitID: county.ID, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	hooks := func() []string {
		hookMu.Lock()
		defer hookMu.Unlock()
		return append([]string(nil), hookIDs...)
	}

	a := startReplica(t, url, fake)
	testdb.Eventually(t, 10*time.Second, "a to lead", func() bool { return lockHolder(t, store) != 0 })
	oldHolder := lockHolder(t, store)
	startReplica(t, url, fake)

	enqueue := func(key string, chat int64, kind, text string, at time.Time) {
		t.Helper()
		if err := store.Enqueue(context.Background(), storage.OutMessage{DedupeKey: key, ChatID: chat, Kind: kind,
			Payload: map[string]any{"text": text}, NotBefore: at}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("kill:inflight", inflightChat, "reply", inflightText, time.Time{})
	enqueueRed(t, store, "kill:red", redChat)
	select {
	case <-callMade:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader never sent the two messages")
	}
	if err := store.AppendEvent(ctx, "settlement.closed", county.ID, map[string]any{"period": "2026-11"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hookMade:
	case <-time.After(15 * time.Second):
		t.Fatal("the leader never made the webhook request")
	}
	enqueue("kill:notice", noticeChat, "notice", noticeText, time.Now().Add(2*time.Second))

	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-a.done
	testdb.Eventually(t, 15*time.Second, "another replica to take the lock", func() bool {
		h := lockHolder(t, store)
		return h != 0 && h != oldHolder
	})
	tookOver := time.Since(killed)

	count := func(chat int64, text string) int { return countText(fake, chat, text) }
	testdb.Eventually(t, 20*time.Second, "the in-flight message from the new leader", func() bool { return count(inflightChat, inflightText) >= 1 })
	resent := time.Since(killed) - tookOver
	free() // the dead leader's call completes at the Bot API: Telegram would have delivered it too
	testdb.Eventually(t, 20*time.Second, "the webhook delivery from the new leader", func() bool {
		ds, err := store.WebhookDeliveries(ctx, sub.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds) == 1 && ds[0].Status == storage.DeliveryDelivered
	})
	hookResent := time.Since(killed) - tookOver
	freeHook()
	testdb.Eventually(t, 20*time.Second, "the notice", func() bool { return count(noticeChat, noticeText) >= 1 })
	testdb.Eventually(t, 20*time.Second, "the outbox to drain", func() bool {
		return testdb.Count(t, store, `SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')`) == 0
	})
	time.Sleep(500 * time.Millisecond) // anything late would show now

	dupes := count(inflightChat, inflightText) - 1
	faultreport.Report(t, faultreport.Tally("kill9-leader", fake.Messages(), []faultreport.Want{
		{Chat: inflightChat, Text: inflightText}, {Chat: noticeChat, Text: noticeText}, {Chat: redChat, Text: redText, Red: true},
	}, tookOver), 1)
	t.Logf("kill -9 of the leader: lock taken over after %.2f s; in-flight message sent again %.2f s and the webhook delivery %.2f s after the take-over; lost 0; duplicated %d message (the reply in flight); the red notice in flight delivered %d time(s)",
		tookOver.Seconds(), resent.Seconds(), hookResent.Seconds(), dupes, count(redChat, redText))
	if resent > 15*time.Second || hookResent > 15*time.Second {
		t.Errorf("the in-flight message went out %s, the webhook delivery %s after the take-over; want both within 15 s", resent, hookResent)
	}
	if ids := hooks(); len(ids) != 2 || ids[0] != ids[1] || ids[0] == "" {
		t.Errorf("webhook requests %q: want the dead leader's and the new one's, with one webhook-id", ids)
	}
	if n := count(noticeChat, noticeText); n != 1 {
		t.Errorf("the notice was sent %d times, want exactly once", n)
	}
	if dupes < 0 || dupes > 1 {
		t.Errorf("the in-flight message was sent %d times, want once or twice", dupes+1)
	}
	// The dead leader's call of the red notice is the only one.
	if n := count(redChat, redText); n != 1 {
		t.Errorf("the red notice in flight was delivered %d times, want once (the dead leader's call)", n)
	}
	for key, want := range map[string]string{"kill:inflight": storage.OutboxSent, "kill:notice": storage.OutboxSent, "kill:red": storage.OutboxUncertain} {
		if r, err := store.OutboxByKey(context.Background(), key); err != nil || r.Status != want {
			t.Errorf("%s: %+v %v, want %s", key, r, err, want)
		}
	}
}
