package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
)

// SPEC §7.7: under a silent partition (no refusal, no reset: the database
// just stops answering) the webhook and /readyz still answer 503 within 2 s,
// so Telegram redelivers and a load balancer routes elsewhere.
func TestWebhookAndReadyzAnswer503WithinTwoSecondsUnderSilentPartition(t *testing.T) {
	url := testdb.URL(t)
	proxy, viaProxy := testdb.NewProxy(t, url)
	h := start(t, withDB(viaProxy))
	h.Env = []string{"ZHIBU_DATABASE_URL=" + url, "ZHIBU_TELEGRAM_BOT_USERNAME=" + username}
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
	// Telegram redelivers; once the network is back the update is stored
	// and processed.
	u := h.Fake.TextMessage(h.Fake.PrivateChat(li), li, "/help")
	u.ID = 4343
	body, _ := json.Marshal(u)
	deadline = time.Now().Add(15 * time.Second)
	for post(t, h.Base+"/telegram/webhook", secret, body) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("webhook did not recover after the partition healed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.waitProcessed(4343)
}
