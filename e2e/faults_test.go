package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/faultreport"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// SPEC §7.7: under a silent partition (no refusal, no reset: the database
// just stops answering) the webhook and /readyz still answer 503 within 2 s,
// so Telegram redelivers and a load balancer routes elsewhere. Once the
// network is back, the updates refused meanwhile (redelivered) are each
// answered once, and a red notice and a notice enqueued during the
// partition are each sent once. The fault suite's case db-silent.
func TestFaultSilentDatabasePartitionAnswers503WithinTwoSeconds(t *testing.T) {
	h, proxy, url := startViaProxy(t)
	h.seed()
	h.link("13800000002", li)

	deadline := time.Now().Add(5 * time.Second)
	for !h.Srv.Elector.Leading() {
		if time.Now().After(deadline) {
			t.Fatal("serve never led")
		}
		time.Sleep(20 * time.Millisecond)
	}

	proxy.Blackhole()
	cut := time.Now()
	t.Cleanup(proxy.Heal) // before the harness stops serve
	// Another process, not cut off, enqueues a red notice and a notice
	// meanwhile (as the health check of a replica that leads next would).
	direct, err := storage.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.DB().Close() })
	noticeChat, redChat := h.Fake.PrivateChat(wang).ID, h.Fake.PrivateChat(zhou).ID
	enqueueRed(t, direct, "silent:red", redChat)
	if err := direct.Enqueue(context.Background(), storage.OutMessage{DedupeKey: "silent:notice", ChatID: noticeChat, Kind: "notice",
		Payload: map[string]any{"text": noticeText}}); err != nil {
		t.Fatal(err)
	}
	steppedDown := make(chan time.Duration, 1)
	go func() {
		for h.Srv.Elector.Leading() && time.Since(cut) < 10*time.Second {
			time.Sleep(10 * time.Millisecond)
		}
		steppedDown <- time.Since(cut)
	}()
	const bound = 2500 * time.Millisecond
	for i, id := range []int64{4343, 4344} { // the second finds every ingest connection stuck
		u := h.Fake.TextMessage(h.Fake.PrivateChat(li), li, "/help")
		u.ID = id
		body, _ := json.Marshal(u)
		began := time.Now()
		got := post(t, h.Base+"/telegram/webhook", secret, body)
		if took := time.Since(began); got != http.StatusServiceUnavailable || took > bound {
			t.Fatalf("webhook %d under a silent partition: status %d after %s, want 503 within %s", i, got, took, bound)
		} else {
			t.Logf("webhook %d: 503 after %s", i, took)
		}
	}
	for i := range 2 {
		began := time.Now()
		resp, err := http.Get(h.Base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if took := time.Since(began); resp.StatusCode != http.StatusServiceUnavailable || took > bound {
			t.Fatalf("readyz %d under a silent partition: status %d after %s, want 503 within %s", i, resp.StatusCode, took, bound)
		} else {
			t.Logf("readyz %d: 503 after %s", i, took)
		}
	}

	// Meanwhile the replica, cut off, has stopped leading (delivering and
	// scheduling) rather than wait for the partition to end.
	if d := <-steppedDown; d > 3*time.Second {
		t.Fatalf("serve stepped down only %s into a silent partition, want within 3 s", d)
	} else {
		t.Logf("serve stepped down %s into the partition", d)
	}

	proxy.Heal()
	// Telegram redelivers both; once the network is back the updates are
	// stored and processed.
	deadline = time.Now().Add(15 * time.Second)
	for _, id := range []int64{4343, 4344} {
		u := h.Fake.TextMessage(h.Fake.PrivateChat(li), li, "/help")
		u.ID = id
		body, _ := json.Marshal(u)
		for post(t, h.Base+"/telegram/webhook", secret, body) != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatal("webhook did not recover after the partition healed")
			}
			time.Sleep(100 * time.Millisecond)
		}
		h.waitProcessed(id)
	}
	help := h.waitMsg(li.ID, "可用命令").Text
	h.waitMsg(redChat, redText)
	h.waitMsg(noticeChat, noticeText)
	h.drainOutbox()
	time.Sleep(500 * time.Millisecond) // anything late would show now
	faultreport.Report(t, faultreport.Tally("db-silent", h.Fake.Messages(), []faultreport.Want{
		{Chat: li.ID, Text: help, Times: 2}, {Chat: noticeChat, Text: noticeText}, {Chat: redChat, Text: redText, Red: true},
	}, faultreport.NoTakeover), 0)
}

// SPEC §7.7, two replicas: each serve has its own pool and elector on one
// database and one Bot API. The leader is partitioned (a silent network)
// and its lock session ended on the server (pg_terminate_backend, as the
// server's keepalives would do a few seconds later). The other replica
// takes over; a message the old leader had in flight goes out again
// within 15 s of the take-over (it may have been delivered: at most one
// duplicate, in its chat), a red supervision notice it had in flight does
// not (it ends uncertain: a red notice never twice), a notice that was waiting for its time is sent
// exactly once, by the new leader, and nothing more once the old leader is
// back on the network. The fault suite's case partition-leader.
func TestFaultLeaderPartitionedAloneTakeOverSendsANoticeOnce(t *testing.T) {
	a, proxy, url := startViaProxy(t)
	t.Cleanup(proxy.Heal) // before the harness stops a
	testdb.Eventually(t, 5*time.Second, "a to lead", a.Srv.Elector.Leading)
	b := start(t, withDB(url), withFake(a.Fake))
	a.seed()
	inflightChat, noticeChat, redChat := a.Fake.PrivateChat(li).ID, a.Fake.PrivateChat(wang).ID, a.Fake.PrivateChat(zhou).ID

	// a's sends of a reply and of a red supervision notice hang at the Bot
	// API until the test lets them through: the old leader is cut off
	// mid-call.
	callMade, release := holdFirstSend(t, a.Fake, inflightText, redText)
	enqueue := func(key string, chat int64, kind, text string, at time.Time) {
		t.Helper()
		if err := b.Srv.Store.Enqueue(b.Ctx, storage.OutMessage{DedupeKey: key, ChatID: chat, Kind: kind,
			Payload: map[string]any{"text": text}, NotBefore: at}); err != nil {
			t.Fatal(err)
		}
		b.Srv.Outbox.Wake()
		a.Srv.Outbox.Wake()
	}
	enqueue("fault:inflight", inflightChat, "reply", inflightText, time.Time{})
	enqueueRed(t, b.Srv.Store, "fault:red", redChat)
	a.Srv.Outbox.Wake()
	select {
	case <-callMade:
	case <-time.After(10 * time.Second):
		t.Fatal("a never sent the two messages")
	}
	enqueue("fault:notice", noticeChat, "notice", noticeText, time.Now().Add(3*time.Second))

	// Partition a and end its lock session on the server.
	proxy.Blackhole()
	cut := time.Now()
	if !terminateLockSession(t, b.Srv.Store, lockHolder(t, b.Srv.Store)) {
		t.Fatal("could not terminate the leader's lock session")
	}
	testdb.Eventually(t, 10*time.Second, "b to take over", b.Srv.Elector.Leading)
	tookOver := time.Since(cut)
	testdb.Eventually(t, 5*time.Second, "a to step down", func() bool { return !a.Srv.Elector.Leading() })
	t.Logf("b took over %s after the cut; a stepped down %s after it", tookOver, time.Since(cut))

	// The message a had in flight goes out again from b (its lease is
	// far longer: the take-over put it back).
	b.waitMsg(inflightChat, inflightText)
	if resent := time.Since(cut) - tookOver; resent > 15*time.Second {
		t.Fatalf("the in-flight message went out %s after the take-over, want within 15 s", resent)
	} else {
		t.Logf("the in-flight message went out again %s after the take-over", resent)
	}
	// a's call now completes at the Bot API: Telegram would have delivered
	// it too — the one duplicate.
	release()
	b.waitMsg(noticeChat, noticeText)

	// a comes back on the network: it does not lead again and sends nothing.
	proxy.Heal()
	time.Sleep(3 * time.Second)
	if !b.Srv.Elector.Leading() || a.Srv.Elector.Leading() {
		t.Fatalf("after the heal: a leads %v, b leads %v; want b only", a.Srv.Elector.Leading(), b.Srv.Elector.Leading())
	}
	b.drainOutbox()
	faultreport.Report(t, faultreport.Tally("partition-leader", a.Fake.Messages(), []faultreport.Want{
		{Chat: inflightChat, Text: inflightText}, {Chat: noticeChat, Text: noticeText}, {Chat: redChat, Text: redText, Red: true},
	}, tookOver), 1)
	count := func(chat int64, text string) int { return countText(a.Fake, chat, text) }
	if n := count(noticeChat, noticeText); n != 1 {
		t.Fatalf("the notice was sent %d times, want exactly once", n)
	}
	if n := count(inflightChat, inflightText); n < 1 || n > 2 {
		t.Fatalf("the in-flight message was sent %d times, want once or twice", n)
	}
	// The red notice a had in flight: a's call only, never b's.
	if n := count(redChat, redText); n != 1 {
		t.Fatalf("the red notice in flight was delivered %d times, want once (a's call)", n)
	}
	for key, want := range map[string]string{"fault:inflight": storage.OutboxSent, "fault:notice": storage.OutboxSent, "fault:red": storage.OutboxUncertain} {
		if r, err := b.Srv.Store.OutboxByKey(b.Ctx, key); err != nil || r.Status != want {
			t.Fatalf("%s: %+v %v, want %s", key, r, err, want)
		}
	}
}
