package webhooks_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/leader"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/webhooks"
)

// received is one request a subscriber got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// subscriber is an HTTP endpoint that verifies every request with the
// Standard Webhooks reference library and answers with status(n) for the
// n-th request (1-based).
type subscriber struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	status func(n int) int
	delay  time.Duration

	mu  sync.Mutex
	got []received
	bad int
}

func newSubscriber(t *testing.T, status func(n int) int) *subscriber {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	s := &subscriber{t: t, secret: "whsec_" + base64.StdEncoding.EncodeToString(raw), status: status}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wh, err := standardwebhooks.NewWebhook(s.secret)
		if err != nil {
			t.Error(err)
		}
		s.mu.Lock()
		if err := wh.Verify(body, r.Header); err != nil {
			s.bad++
			t.Errorf("signature does not verify: %v", err)
		}
		s.got = append(s.got, received{header: r.Header.Clone(), body: body, at: time.Now()})
		n := len(s.got)
		s.mu.Unlock()
		if s.delay > 0 {
			time.Sleep(s.delay)
		}
		w.WriteHeader(s.status(n))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *subscriber) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

type world struct {
	t     *testing.T
	ctx   context.Context
	store *storage.Store
	units map[string]int64
}

func newWorld(t *testing.T) *world { return newWorldOn(t, testdb.New(t)) }

// newWorldOn creates the units in store's database.
func newWorldOn(t *testing.T, store *storage.Store) *world {
	w := &world{t: t, ctx: context.Background(), store: store, units: map[string]int64{}}
	for _, u := range []struct{ code, kind, parent string }{
		{"QA", "county", ""}, {"QA-RZ", "township", "QA"}, {"QA-RZ-XZ-B1", "branch", "QA-RZ"}, {"QA-DB", "township", "QA"},
	} {
		var parent *int64
		if u.parent != "" {
			p := w.units[u.parent]
			parent = &p
		}
		got, err := w.store.CreateUnit(w.ctx, u.code, u.code, u.kind, parent, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		w.units[u.code] = got.ID
	}
	return w
}

func (w *world) subscribe(s *subscriber, unit string, types ...string) storage.WebhookSubscription {
	w.t.Helper()
	sub, err := w.store.CreateWebhookSubscription(w.ctx, storage.NewWebhookSubscription{
		URL: s.srv.URL + "/hook?token=URLSECRET", Secret: s.secret, EventTypes: types, UnitID: w.units[unit], CreatedBy: "test"})
	if err != nil {
		w.t.Fatal(err)
	}
	return sub
}

func (w *world) event(typ, unit string, data map[string]any) {
	w.t.Helper()
	if err := w.store.AppendEvent(w.ctx, typ, w.units[unit], data); err != nil {
		w.t.Fatal(err)
	}
}

// newWorker is the outbox dispatcher with the webhooks lane alone.
func newWorker(store *storage.Store, opts webhooks.Options) *outbox.Dispatcher {
	return outbox.NewDispatcher(webhooks.NewChannel(store, opts, nil, nil))
}

// run starts a worker; it stops at the end of the test.
func (w *world) run(opts webhooks.Options) *outbox.Dispatcher {
	wk := newWorker(w.store, opts)
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = wk.Run(ctx) }()
	w.t.Cleanup(func() { cancel(); <-done })
	return wk
}

func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	testdb.Eventually(w.t, 15*time.Second, what, cond)
}

func (w *world) deliveries(sub int64) []storage.WebhookDelivery {
	w.t.Helper()
	ds, err := w.store.WebhookDeliveries(w.ctx, sub, 0, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return ds
}

func (w *world) attempts(sub int64) []storage.WebhookAttemptRow {
	w.t.Helper()
	as, err := w.store.WebhookAttempts(w.ctx, sub, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return as
}

func fast() webhooks.Options {
	return webhooks.Options{PollInterval: 20 * time.Millisecond, BackoffBase: 40 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		Timeout: 2 * time.Second, MaintainEvery: 100 * time.Millisecond,
		AllowPrivateTargets: true} // the subscribers are loopback httptest servers
}

// With the default configuration nothing reaches a loopback target, named
// by address or by a name resolving to it, even when the subscription got
// in (created while private targets were allowed): the delivery fails at
// once, with the reason and no answer.
func TestLoopbackTargetsAreRefusedAtConnect(t *testing.T) {
	w := newWorld(t)
	s := newSubscriber(t, func(int) int { return 200 })
	byIP := w.subscribe(s, "QA")
	byName, err := w.store.CreateWebhookSubscription(w.ctx, storage.NewWebhookSubscription{
		URL: strings.Replace(s.srv.URL, "127.0.0.1", "localhost", 1) + "/hook?token=URLSECRET", Secret: s.secret,
		UnitID: w.units["QA"], CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	w.event("checkin.recorded", "QA", map[string]any{})
	opts := fast()
	opts.AllowPrivateTargets = false
	for _, sub := range []storage.WebhookSubscription{byIP, byName} {
		w.waitFor("refused delivery", func() bool {
			// Run again while the event horizon is held back by a
			// transaction of another test that shares the server.
			if _, err := newWorker(w.store, opts).RunOnce(w.ctx); err != nil {
				t.Fatal(err)
			}
			ds := w.deliveries(sub.ID)
			return len(ds) == 1 && ds[0].Status == storage.DeliveryFailed
		})
		as := w.attempts(sub.ID)
		if len(as) != 1 || as[0].StatusCode != nil || as[0].Error == nil ||
			!strings.Contains(*as[0].Error, "refused") || !strings.Contains(*as[0].Error, "allow_private_targets") ||
			strings.Contains(*as[0].Error, "URLSECRET") {
			t.Fatalf("sub %s attempts %+v", sub.URL, as)
		}
		t.Logf("%s: %s", sub.URL, *as[0].Error)
	}
	if n := len(s.requests()); n != 0 {
		t.Fatalf("loopback subscriber got %d requests", n)
	}
}

func TestDeliversSignedVerifiableRequests(t *testing.T) {
	w := newWorld(t)
	s := newSubscriber(t, func(int) int { return 200 })
	sub := w.subscribe(s, "QA")
	w.event("checkin.recorded", "QA-RZ-XZ-B1", map[string]any{"id": 7, "branch": "QA-RZ-XZ-B1", "obligations": []string{"committee_meeting"}})

	// The first run that gets past the event horizon (another test's
	// transaction on the shared server may hold it back a moment) sends it.
	w.waitFor("the delivery", func() bool {
		n, err := newWorker(w.store, fast()).RunOnce(w.ctx)
		if err != nil || n > 1 {
			t.Fatalf("RunOnce: %d %v", n, err)
		}
		return n == 1
	})
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	var env struct {
		Type      string         `json:"type"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != "checkin.recorded" || time.Since(env.Timestamp) > time.Minute || env.Data["branch"] != "QA-RZ-XZ-B1" || env.Data["id"] != float64(7) {
		t.Errorf("body %s", r.body)
	}
	ds := w.deliveries(sub.ID)
	if len(ds) != 1 || ds[0].Status != storage.DeliveryDelivered || ds[0].Attempts != 1 {
		t.Fatalf("deliveries %+v", ds)
	}
	if id := r.header.Get("webhook-id"); id != webhooks.MessageID(ds[0].EventID, sub.ID) {
		t.Errorf("webhook-id %q", id)
	}
	if ts := r.header.Get("webhook-timestamp"); ts == "" || !strings.HasPrefix(r.header.Get("webhook-signature"), "v1,") {
		t.Errorf("headers %v", r.header)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	as := w.attempts(sub.ID)
	if len(as) != 1 || as[0].StatusCode == nil || *as[0].StatusCode != 200 || as[0].Error != nil {
		t.Fatalf("attempts %+v", as)
	}
	// Nothing is sent twice.
	if n, _ := newWorker(w.store, fast()).RunOnce(w.ctx); n != 0 || len(s.requests()) != 1 {
		t.Fatalf("second run: %d attempts, %d requests", n, len(s.requests()))
	}
}

func TestRetriesAfterServerErrorsWithTheSameID(t *testing.T) {
	w := newWorld(t)
	s := newSubscriber(t, func(n int) int { return map[int]int{1: 500, 2: 429, 3: 408}[n] + map[bool]int{true: 204}[n > 3] })
	sub := w.subscribe(s, "QA-RZ")
	w.run(fast())
	w.event("claim.submitted", "QA-RZ-XZ-B1", map[string]any{"claim": 1})
	w.waitFor("delivery", func() bool {
		ds := w.deliveries(sub.ID)
		return len(ds) == 1 && ds[0].Status == storage.DeliveryDelivered
	})
	reqs := s.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, r := range reqs {
		if r.header.Get("webhook-id") != reqs[0].header.Get("webhook-id") || string(r.body) != string(reqs[0].body) {
			t.Errorf("attempt %d: id %q body %s differ from the first", i+1, r.header.Get("webhook-id"), r.body)
		}
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 20*time.Millisecond {
		t.Errorf("retried after %s, want back-off", gap)
	}
	as := w.attempts(sub.ID)
	if len(as) != 4 {
		t.Fatalf("attempts %+v", as)
	}
	want := []int{204, 408, 429, 500} // newest first
	for i, a := range as {
		if a.StatusCode == nil || *a.StatusCode != want[i] || a.Attempt != 4-i {
			t.Errorf("attempt row %d: %+v", i, a)
		}
		if (a.Error == nil) != (want[i] == 204) {
			t.Errorf("attempt row %d error %v", i, a.Error)
		}
	}
	if got, _ := w.store.WebhookSubscription(w.ctx, sub.ID); !got.Active || got.FailureCount != 0 {
		t.Errorf("subscription %+v", got)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	w := newWorld(t)
	s := newSubscriber(t, func(int) int { return 400 })
	sub := w.subscribe(s, "QA")
	w.event("points.redeemed", "QA-RZ", map[string]any{})
	w.run(fast())
	w.waitFor("failure", func() bool {
		ds := w.deliveries(sub.ID)
		return len(ds) == 1 && ds[0].Status == storage.DeliveryFailed
	})
	time.Sleep(150 * time.Millisecond)
	if n := len(s.requests()); n != 1 {
		t.Fatalf("%d requests for a 400", n)
	}
	if as := w.attempts(sub.ID); len(as) != 1 || *as[0].Error != "HTTP 400" {
		t.Fatalf("attempts %+v", as)
	}
}

func TestDisabledAfterPersistentFailure(t *testing.T) {
	w := newWorld(t)
	s := newSubscriber(t, func(int) int { return 503 })
	sub := w.subscribe(s, "QA")
	other := newSubscriber(t, func(int) int { return 200 })
	ok := w.subscribe(other, "QA")
	opts := fast()
	opts.MaxAttempts = 2
	w.event("claim.decided", "QA-RZ", map[string]any{"n": 1})
	w.event("claim.decided", "QA-DB", map[string]any{"n": 2})
	w.run(opts)
	w.waitFor("disabled", func() bool {
		got, err := w.store.WebhookSubscription(w.ctx, sub.ID)
		return err == nil && !got.Active
	})
	got, _ := w.store.WebhookSubscription(w.ctx, sub.ID)
	if got.FailureCount != 2 || got.DisabledReason == nil || !strings.Contains(*got.DisabledReason, "HTTP 503") {
		t.Fatalf("disabled subscription %+v", got)
	}
	ds := w.deliveries(sub.ID)
	if len(ds) != 2 || ds[0].Status != storage.DeliveryFailed || ds[1].Status != storage.DeliveryFailed || ds[0].Attempts != 2 {
		t.Fatalf("deliveries %+v", ds)
	}
	if as := w.attempts(sub.ID); len(as) != 4 {
		t.Fatalf("%d attempts logged, want 4", len(as))
	}
	// No more for the disabled one; the healthy one goes on.
	w.event("claim.decided", "QA-RZ", map[string]any{"n": 3})
	w.waitFor("healthy subscriber", func() bool { return len(other.requests()) == 3 })
	time.Sleep(100 * time.Millisecond)
	if n := len(s.requests()); n != 4 {
		t.Fatalf("disabled subscription got %d requests", n)
	}
	if ds := w.deliveries(ok.ID); len(ds) != 3 {
		t.Fatalf("healthy deliveries %+v", ds)
	}
}

func TestTimeoutsAndRefusedConnectionsAreRetried(t *testing.T) {
	w := newWorld(t)
	slow := newSubscriber(t, func(n int) int { return 200 })
	slow.delay = 300 * time.Millisecond
	sub := w.subscribe(slow, "QA")
	dead := newSubscriber(t, func(int) int { return 200 })
	deadSub := w.subscribe(dead, "QA")
	dead.srv.Close()
	opts := fast()
	opts.Timeout = 100 * time.Millisecond
	opts.MaxAttempts = 2
	w.event("settlement.closed", "QA-RZ", map[string]any{})
	w.run(opts)
	w.waitFor("both failed", func() bool {
		a, b := w.deliveries(sub.ID), w.deliveries(deadSub.ID)
		return len(a) == 1 && a[0].Status == storage.DeliveryFailed && len(b) == 1 && b[0].Status == storage.DeliveryFailed
	})
	for _, id := range []int64{sub.ID, deadSub.ID} {
		as := w.attempts(id)
		if len(as) != 2 {
			t.Fatalf("sub %d: %d attempts", id, len(as))
		}
		for _, a := range as {
			if a.StatusCode != nil || a.Error == nil || strings.Contains(*a.Error, "URLSECRET") {
				t.Errorf("sub %d attempt %+v", id, a)
			}
		}
	}
	if as := w.attempts(sub.ID); !strings.Contains(*as[0].Error, "timeout") {
		t.Errorf("timeout error %q", *as[0].Error)
	}
}

func TestSubtreeAndTypeScoping(t *testing.T) {
	w := newWorld(t)
	county := newSubscriber(t, func(int) int { return 200 })
	rz := newSubscriber(t, func(int) int { return 200 })
	w.subscribe(county, "QA")
	w.subscribe(rz, "QA-RZ", "checkin.recorded")
	w.event("checkin.recorded", "QA-RZ-XZ-B1", map[string]any{"n": 1})
	w.event("checkin.recorded", "QA-DB", map[string]any{"n": 2})
	w.event("claim.submitted", "QA-RZ", map[string]any{"n": 3})
	// One request at a time per subscription: run until the county has all three.
	w.waitFor("county's three", func() bool {
		_, _ = newWorker(w.store, fast()).RunOnce(w.ctx)
		return len(county.requests()) == 3
	})
	got := rz.requests()
	if len(got) != 1 || !strings.Contains(string(got[0].body), `"n":1`) {
		t.Fatalf("township subscriber got %d: %v", len(got), got)
	}
}

func TestListenWakesTheWorker(t *testing.T) {
	url := testdb.URL(t)
	store, err := storage.Open(context.Background(), url, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w := &world{t: t, ctx: context.Background(), store: store, units: map[string]int64{}}
	u, err := store.CreateUnit(w.ctx, "QA", "乾安县", "county", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.units["QA"] = u.ID
	s := newSubscriber(t, func(int) int { return 200 })
	w.subscribe(s, "QA")
	opts := fast()
	opts.PollInterval = time.Minute // only NOTIFY can wake it in time
	opts.ListenURL = url
	w.run(opts)
	time.Sleep(300 * time.Millisecond) // the worker has done its first round and waits
	start := time.Now()
	w.event("checkin.recorded", "QA", map[string]any{})
	w.waitFor("delivery after NOTIFY", func() bool { return len(s.requests()) == 1 })
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
}

// openStore opens a pool of its own on url, as another replica would.
func openStore(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DB().Close() })
	return s
}

// Two replicas, each with its own pool and elector, on one database. The
// leader's lock session is killed while its request is in flight, and it
// goes on as if it still led (it runs under the old fence, not under
// leader.Run): the new leader takes its delivery back at once, not after
// the lease, and delivers it (the receiver sees the same webhook-id
// twice: the old request had been made); the old leader's late result is
// only logged, its next claim is refused and it stops.
func TestAReplacedLeaderCannotClaimAndItsDeliveryIsTakenBackAtOnce(t *testing.T) {
	url := testdb.URL(t)
	w := newWorldOn(t, openStore(t, url))
	storeB := openStore(t, url)
	ctx := context.Background()
	release := make(chan struct{})
	s := newSubscriber(t, func(n int) int {
		if n == 1 {
			<-release // the old leader's request hangs until the new one has delivered
		}
		return 200
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	sub := w.subscribe(s, "QA")
	w.event("checkin.recorded", "QA-RZ-XZ-B1", map[string]any{"id": 1})

	key := leader.Key("webhooks-test")
	elA, elB := leader.NewElector(w.store.DB().DB, key, nil), leader.NewElector(storeB.DB().DB, key, nil)
	if err := elA.IsLeader(ctx); err != nil {
		t.Fatal(err)
	}
	fenceA, _ := elA.Fence()
	opts := fast()
	opts.Timeout = 10 * time.Second
	opts.Lease = time.Hour // only the take-back can bring the delivery back in time
	actx, stopA := context.WithCancel(leader.WithFence(ctx, fenceA))
	defer stopA()
	aDone := make(chan error, 1)
	go func() { aDone <- newWorker(w.store, opts).Run(actx) }()
	w.waitFor("the old leader's request", func() bool { return len(s.requests()) == 1 })

	// The old leader's lock session dies; the other replica takes over.
	testdb.KillLockSessions(t, storeB.DB())
	w.waitFor("the new leader", func() bool { return elB.IsLeader(ctx) == nil })
	fenceB, _ := elB.Fence()
	if fenceB.Epoch <= fenceA.Epoch {
		t.Fatalf("epochs: old %d, new %d", fenceA.Epoch, fenceB.Epoch)
	}
	took := time.Now()
	bctx, stopB := context.WithCancel(leader.WithFence(ctx, fenceB))
	bDone := make(chan error, 1)
	go func() { bDone <- newWorker(storeB, opts).Run(bctx) }()
	defer func() { stopB(); <-bDone }()
	w.waitFor("the new leader's delivery", func() bool {
		ds := w.deliveries(sub.ID)
		return len(ds) == 1 && ds[0].Status == storage.DeliveryDelivered
	})
	t.Logf("delivered by the new leader %s after its take-over", time.Since(took))
	if d := w.deliveries(sub.ID)[0]; d.Attempts != 2 {
		t.Fatalf("delivery %+v, want the second attempt", d)
	}

	// The old request answers now; its result changes nothing, and the old
	// leader's next claim is refused.
	close(release)
	select {
	case err := <-aDone:
		if !errors.Is(err, storage.ErrStaleLeader) {
			t.Fatalf("the old leader's worker stopped with %v, want ErrStaleLeader", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the old leader's worker did not stop")
	}
	if d := w.deliveries(sub.ID)[0]; d.Status != storage.DeliveryDelivered || d.Attempts != 2 {
		t.Fatalf("after the old leader's late result: %+v", d)
	}
	reqs := s.requests()
	if len(reqs) != 2 || reqs[0].header.Get("webhook-id") != reqs[1].header.Get("webhook-id") {
		t.Fatalf("%d requests (want the old one and the new one, with one webhook-id)", len(reqs))
	}
	if as := w.attempts(sub.ID); len(as) != 2 {
		t.Fatalf("attempts %+v: both are logged", as)
	}

	// Later events go out once, from the new leader.
	w.event("checkin.recorded", "QA-RZ-XZ-B1", map[string]any{"id": 2})
	w.waitFor("the next delivery", func() bool {
		ds := w.deliveries(sub.ID)
		return len(ds) == 2 && ds[0].Status == storage.DeliveryDelivered
	})
	if n := len(s.requests()); n != 3 {
		t.Fatalf("%d requests after the next event, want 3", n)
	}
}
