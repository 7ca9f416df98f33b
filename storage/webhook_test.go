package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// webhookTree imports QA > QA-RZ > QA-RZ-XZ > QA-RZ-XZ-B1 and QA > QA-DB.
func webhookTree(t *testing.T, s *storage.Store) map[string]int64 {
	t.Helper()
	rows := []storage.UnitRow{
		{Code: "QA", Name: "乾安县", Kind: "county"},
		{Code: "QA-RZ", Name: "让字镇", Kind: "township", ParentCode: "QA"},
		{Code: "QA-RZ-XZ", Name: "幸福村", Kind: "village", ParentCode: "QA-RZ"},
		{Code: "QA-RZ-XZ-B1", Name: "一支部", Kind: "branch", ParentCode: "QA-RZ-XZ"},
		{Code: "QA-DB", Name: "大布苏镇", Kind: "township", ParentCode: "QA"},
	}
	return importUnits(t, s, time.Now(), rows)
}

func subscribe(t *testing.T, s *storage.Store, unit int64, types ...string) storage.WebhookSubscription {
	t.Helper()
	w, err := s.CreateWebhookSubscription(context.Background(), storage.NewWebhookSubscription{
		URL: "http://example.invalid/hook", Secret: "whsec_AAAA", EventTypes: types, UnitID: unit, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func fanOutAll(t *testing.T, s *storage.Store) int {
	t.Helper()
	waitHorizon(t, s)
	// The horizon is computed anew by each fan-out, and a transaction on
	// another database that pg_stat_activity cannot place for a moment
	// holds it back again: fan out until five passes in a row add nothing.
	total := 0
	for quiet := 0; quiet < 5; {
		n := fanOutNow(t, s)
		total += n
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	return total
}

// waitHorizon waits until every event written so far lies below the event
// horizon.
func waitHorizon(t *testing.T, s *storage.Store) {
	t.Helper()
	// The event horizon is the oldest transaction still running; another
	// test's, on the shared server, may hold it back a moment. Wait until
	// every event written so far lies below it, so counts are exact.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var past bool
		if err := s.DB().GetContext(context.Background(), &past,
			`SELECT webhook_event_horizon() > COALESCE((SELECT max(xid) FROM events), '0'::xid8)`); err != nil {
			t.Fatal(err)
		}
		if past {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event horizon did not pass the events in 15 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fanOutNow fans out what lies below the horizon now.
func fanOutNow(t *testing.T, s *storage.Store) int {
	t.Helper()
	total := 0
	for {
		n, more, err := s.FanOutWebhookEvents(context.Background(), 2, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if !more {
			return total
		}
	}
}

// deliveredEvents lists (event type, unit) of a subscription's deliveries, oldest first.
func deliveredEvents(t *testing.T, s *storage.Store, sub int64) []int64 {
	t.Helper()
	ds, err := s.WebhookDeliveries(context.Background(), sub, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for i := len(ds) - 1; i >= 0; i-- {
		out = append(out, ds[i].EventID)
	}
	return out
}

func eventID(t *testing.T, s *storage.Store, typ string, unit int64) int64 {
	t.Helper()
	ctx := context.Background()
	if err := s.AppendEvent(ctx, typ, unit, map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := s.DB().GetContext(ctx, &id, `SELECT max(id) FROM events`); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestWebhookFanOutScopesAndTypes(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	u := webhookTree(t, s)
	before := eventID(t, s, "checkin.recorded", u["QA-RZ-XZ-B1"]) // before any subscription
	all := subscribe(t, s, u["QA"])
	rz := subscribe(t, s, u["QA-RZ"], "checkin.recorded", "claim.submitted")
	db := subscribe(t, s, u["QA-DB"])

	e1 := eventID(t, s, "checkin.recorded", u["QA-RZ-XZ-B1"])
	e2 := eventID(t, s, "points.redeemed", u["QA-RZ-XZ"])
	e3 := eventID(t, s, "claim.submitted", u["QA-DB"])
	e4 := eventID(t, s, "settlement.closed", 0) // no unit: root subscriptions only
	if n := fanOutAll(t, s); n != 4+1+1 {
		t.Fatalf("created %d deliveries", n)
	}
	for _, c := range []struct {
		sub  int64
		want []int64
	}{{all.ID, []int64{e1, e2, e3, e4}}, {rz.ID, []int64{e1}}, {db.ID, []int64{e3}}} {
		got := deliveredEvents(t, s, c.sub)
		if len(got) != len(c.want) {
			t.Fatalf("sub %d: events %v, want %v (event %d predates it)", c.sub, got, c.want, before)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("sub %d: events %v, want %v", c.sub, got, c.want)
			}
		}
	}
	// Idempotent: a second fan-out finds nothing new.
	if n := fanOutAll(t, s); n != 0 {
		t.Fatalf("second fan-out created %d", n)
	}
	// A deleted subscription gets nothing more.
	if err := s.DeleteWebhookSubscription(ctx, db.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWebhookSubscription(ctx, db.ID, time.Now()); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	eventID(t, s, "claim.submitted", u["QA-DB"])
	if n := fanOutAll(t, s); n != 1 { // the county's only
		t.Fatalf("after delete: %d", n)
	}
	subs, err := s.WebhookSubscriptionsIn(ctx, u["QA-RZ"])
	if err != nil || len(subs) != 1 || subs[0].ID != rz.ID || subs[0].UnitCode != "QA-RZ" || len(subs[0].EventTypes) != 2 {
		t.Fatalf("subscriptions in QA-RZ: %+v %v", subs, err)
	}
}

// TestWebhookFanOutWaitsForLateCommits: an event whose transaction took its
// id first but commits last is not skipped.
func TestWebhookFanOutWaitsForLateCommits(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	u := webhookTree(t, s)
	sub := subscribe(t, s, u["QA"])

	slow, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback() //nolint:errcheck
	if _, err := slow.ExecContext(ctx, `INSERT INTO events (type, unit_id) VALUES ('checkin.recorded', $1)`, u["QA-RZ-XZ-B1"]); err != nil {
		t.Fatal(err)
	}
	fast := eventID(t, s, "claim.submitted", u["QA-RZ-XZ"]) // a higher id, committed first
	if n := fanOutNow(t, s); n != 0 {
		t.Fatalf("fanned out %d while an older transaction is open", n)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := fanOutAll(t, s); n != 2 {
		t.Fatalf("after commit: %d deliveries", n)
	}
	got := deliveredEvents(t, s, sub.ID)
	if len(got) != 2 || got[0] != fast-1 || got[1] != fast {
		t.Fatalf("events %v", got)
	}
}

func TestWebhookClaimAndRecord(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	u := webhookTree(t, s)
	a := subscribe(t, s, u["QA"])
	b := subscribe(t, s, u["QA"], "claim.submitted")
	e1 := eventID(t, s, "checkin.recorded", u["QA-RZ-XZ-B1"])
	e2 := eventID(t, s, "claim.submitted", u["QA-RZ-XZ"])
	fanOutAll(t, s)
	now := time.Now()

	// One in flight per subscription: a's oldest and b's only.
	jobs, err := s.ClaimWebhookDeliveries(ctx, now, now.Add(time.Minute), 10, storage.LeaderFence{})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("claim: %+v %v", jobs, err)
	}
	var ja, jb storage.WebhookJob
	for _, j := range jobs {
		if j.SubscriptionID == a.ID {
			ja = j
		} else {
			jb = j
		}
	}
	if ja.EventID != e1 || ja.Attempt != 1 || ja.EventType != "checkin.recorded" || ja.Secret != "whsec_AAAA" || string(ja.Payload) != `{"n": 1}` {
		t.Fatalf("job a %+v", ja)
	}
	if jb.EventID != e2 {
		t.Fatalf("job b %+v", jb)
	}
	if more, _ := s.ClaimWebhookDeliveries(ctx, now, now.Add(time.Minute), 10, storage.LeaderFence{}); len(more) != 0 {
		t.Fatalf("claimed %d more while in flight", len(more))
	}

	// a: a temporary failure, retried later; then delivered.
	res, err := s.RecordWebhookAttempt(ctx, storage.WebhookAttempt{DeliveryID: ja.ID, Attempt: 1, At: now, StatusCode: 500, Error: "HTTP 500", Duration: 12 * time.Millisecond},
		storage.WebhookOutcome{Retry: true, NextAttempt: now.Add(time.Hour), MaxFailures: 2})
	if err != nil || !res.Current || res.Disabled {
		t.Fatalf("record retry: %+v %v", res, err)
	}
	next, _ := s.ClaimWebhookDeliveries(ctx, now, now.Add(time.Minute), 10, storage.LeaderFence{})
	if len(next) != 1 || next[0].EventID == e1 {
		t.Fatalf("a's second delivery should go while the first waits: %+v", next)
	}
	// A stale result (lease taken back) is logged but changes nothing.
	if res, err := s.RecordWebhookAttempt(ctx, storage.WebhookAttempt{DeliveryID: ja.ID, Attempt: 1, At: now, Error: "late"},
		storage.WebhookOutcome{Delivered: true}); err != nil || res.Current {
		t.Fatalf("stale record: %+v %v", res, err)
	}

	// b: two deliveries fail for good in a row → disabled at MaxFailures 2.
	if res, err := s.RecordWebhookAttempt(ctx, storage.WebhookAttempt{DeliveryID: jb.ID, Attempt: 1, At: now, StatusCode: 410, Error: "HTTP 410"},
		storage.WebhookOutcome{MaxFailures: 2}); err != nil || !res.Current || res.Disabled {
		t.Fatalf("first failure: %+v %v", res, err)
	}
	eventID(t, s, "claim.submitted", u["QA-RZ-XZ"])
	fanOutAll(t, s)
	jobs, _ = s.ClaimWebhookDeliveries(ctx, time.Now(), now.Add(time.Minute), 10, storage.LeaderFence{})
	var jb2 *storage.WebhookJob
	for i := range jobs {
		if jobs[i].SubscriptionID == b.ID {
			jb2 = &jobs[i]
		}
	}
	if jb2 == nil {
		ds, _ := s.WebhookDeliveries(ctx, b.ID, 0, 0)
		t.Fatalf("b's next delivery not claimed: %+v; deliveries %+v", jobs, ds)
	}
	res, err = s.RecordWebhookAttempt(ctx, storage.WebhookAttempt{DeliveryID: jb2.ID, Attempt: 1, At: now, Error: "connection refused"},
		storage.WebhookOutcome{MaxFailures: 2})
	if err != nil || !res.Current || !res.Disabled {
		t.Fatalf("second failure: %+v %v", res, err)
	}
	w, _ := s.WebhookSubscription(ctx, b.ID)
	if w.Active || w.FailureCount != 2 || w.DisabledAt == nil || w.DisabledReason == nil {
		t.Fatalf("b after two failures: %+v", w)
	}
	attempts, err := s.WebhookAttempts(ctx, a.ID, 0)
	if err != nil || len(attempts) != 1 || *attempts[0].StatusCode != 500 || attempts[0].DurationMS != 12 {
		t.Fatalf("a's attempts: %+v %v", attempts, err)
	}
	if n, err := s.RecoverWebhookLeases(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("recover leases: %d %v", n, err)
	}
}

// Webhook claims are fenced like the outbox's: once another replica has
// taken over (a newer epoch), the old leader's claims are refused and
// change nothing; the new leader takes back at once what the old one had
// in flight (not what its own epoch, another key or no fence claimed),
// and the old leader's late results are only logged. An unfenced claim
// comes back after its lease.
func TestWebhookClaimsAreFencedAndANewLeaderTakesTheOldOnesBack(t *testing.T) {
	s := testdb.New(t)
	u := webhookTree(t, s)
	// a takes every type, b and c one each; one event of each type.
	var subs [3]storage.WebhookSubscription
	for i, typ := range []string{"", "claim.submitted", "settlement.closed"} {
		if typ == "" {
			subs[i] = subscribe(t, s, u["QA"])
		} else {
			subs[i] = subscribe(t, s, u["QA"], typ)
		}
	}
	a, b, c := subs[0], subs[1], subs[2]
	for typ, unit := range map[string]string{"checkin.recorded": "QA-RZ-XZ-B1", "claim.submitted": "QA-RZ-XZ", "settlement.closed": "QA-RZ"} {
		eventID(t, s, typ, u[unit])
	}
	ctx := context.Background()
	fanOutAll(t, s)
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO leader_epoch (key, epoch) VALUES (7, 1), (9, 1)`); err != nil {
		t.Fatal(err)
	}
	old, cur := storage.LeaderFence{Key: 7, Epoch: 1}, storage.LeaderFence{Key: 7, Epoch: 2}
	now := time.Now()
	bySub := func(js []storage.WebhookJob) map[int64]storage.WebhookJob {
		m := map[int64]storage.WebhookJob{}
		for _, j := range js {
			m[j.SubscriptionID] = j
		}
		return m
	}
	// status is the state of the subscription's first delivery.
	status := func(sub int64) (string, int) {
		t.Helper()
		ds, err := s.WebhookDeliveries(ctx, sub, 0, 0)
		if err != nil || len(ds) == 0 {
			t.Fatalf("deliveries of %d: %+v %v", sub, ds, err)
		}
		d := ds[len(ds)-1]
		return d.Status, d.Attempts
	}

	// The old leader claims a's and b's deliveries; c's goes to a claim
	// without a fence (a single replica, or before migration 00022).
	claim := func(limit int, f storage.LeaderFence) []storage.WebhookJob {
		t.Helper()
		js, err := s.ClaimWebhookDeliveries(ctx, now, now.Add(time.Minute), limit, f)
		if err != nil {
			t.Fatalf("claim under %+v: %v", f, err)
		}
		return js
	}
	first := bySub(claim(10, old))
	if len(first) != 3 {
		t.Fatalf("first claim: %+v", first)
	}
	if _, err := s.DB().ExecContext(ctx, `
		UPDATE webhook_deliveries SET claim_key = NULL, claim_epoch = NULL WHERE id = $1`, first[c.ID].ID); err != nil {
		t.Fatal(err)
	}

	// Another replica takes over.
	if _, err := s.DB().ExecContext(ctx, `UPDATE leader_epoch SET epoch = 2 WHERE key = 7`); err != nil {
		t.Fatal(err)
	}
	eventID(t, s, "claim.submitted", u["QA-RZ-XZ"])
	fanOutAll(t, s) // b has a second delivery due
	if js, err := s.ClaimWebhookDeliveries(ctx, now.Add(time.Hour), now.Add(2*time.Hour), 10, old); !errors.Is(err, storage.ErrStaleLeader) || len(js) != 0 {
		t.Fatalf("a stale leader's claim: %+v %v, want ErrStaleLeader", js, err)
	}
	if js, err := s.ClaimWebhookDeliveries(ctx, now, now.Add(time.Minute), 10, storage.LeaderFence{Key: 7, Epoch: 3}); !errors.Is(err, storage.ErrStaleLeader) || len(js) != 0 {
		t.Fatalf("a claim under an epoch not yet taken: %+v %v", js, err)
	}
	if got := claim(10, cur); len(got) != 0 {
		t.Fatalf("claimed %+v while every subscription has one in flight", got)
	}

	// Only the current leader takes the old one's deliveries back.
	if n, err := s.RecoverWebhookFromOldLeaders(ctx, old); err != nil || n != 0 {
		t.Fatalf("a superseded leader recovered %d (%v)", n, err)
	}
	if n, err := s.RecoverWebhookFromOldLeaders(ctx, storage.LeaderFence{Key: 9, Epoch: 1}); err != nil || n != 0 {
		t.Fatalf("another key recovered %d (%v)", n, err)
	}
	if n, err := s.RecoverWebhookFromOldLeaders(ctx, cur); err != nil || n != 2 {
		t.Fatalf("recovered %d (%v), want a's and b's", n, err)
	}
	for sub, want := range map[int64]string{a.ID: storage.DeliveryPending, b.ID: storage.DeliveryPending, c.ID: storage.DeliverySending} {
		if got, _ := status(sub); got != want {
			t.Errorf("sub %d: %s, want %s", sub, got, want)
		}
	}

	// The old leader's results come in after the take-back: logged, not applied.
	res, err := s.RecordWebhookAttempt(ctx, storage.WebhookAttempt{DeliveryID: first[b.ID].ID, Attempt: 1, At: now, StatusCode: 200},
		storage.WebhookOutcome{Delivered: true})
	if err != nil || res.Current {
		t.Fatalf("stale leader's result on a taken-back delivery: %+v %v", res, err)
	}
	if st, n := status(b.ID); st != storage.DeliveryPending || n != 1 {
		t.Fatalf("b after the stale result: %s attempts %d", st, n)
	}
	second := bySub(claim(10, cur))
	if len(second) != 2 || second[a.ID].ID != first[a.ID].ID || second[a.ID].Attempt != 2 || second[b.ID].ID != first[b.ID].ID {
		t.Fatalf("the new leader's claim: %+v", second)
	}
	res, err = s.RecordWebhookAttempt(ctx, storage.WebhookAttempt{DeliveryID: first[a.ID].ID, Attempt: 1, At: now, StatusCode: 500, Error: "HTTP 500"},
		storage.WebhookOutcome{MaxFailures: 1})
	if err != nil || res.Current || res.Disabled {
		t.Fatalf("stale leader's failure on a re-claimed delivery: %+v %v", res, err)
	}
	res, err = s.RecordWebhookAttempt(ctx, storage.WebhookAttempt{DeliveryID: first[a.ID].ID, Attempt: 2, At: now, StatusCode: 200},
		storage.WebhookOutcome{Delivered: true})
	if err != nil || !res.Current {
		t.Fatalf("the new leader's result: %+v %v", res, err)
	}
	if w, _ := s.WebhookSubscription(ctx, a.ID); !w.Active || w.FailureCount != 0 {
		t.Fatalf("a after the stale failure: %+v", w)
	}
	if st, n := status(a.ID); st != storage.DeliveryDelivered || n != 2 {
		t.Fatalf("a: %s attempts %d", st, n)
	}

	// The unfenced claim waits for its lease.
	if n, err := s.RecoverWebhookLeases(ctx, now.Add(30*time.Second)); err != nil || n != 0 {
		t.Fatalf("recovered %d (%v) before the lease ran out", n, err)
	}
	if n, err := s.RecoverWebhookLeases(ctx, now.Add(2*time.Minute)); err != nil || n != 2 {
		t.Fatalf("recovered %d (%v) after the lease, want c's and b's new claim", n, err)
	}
	if st, n := status(c.ID); st != storage.DeliveryPending || n != 1 {
		t.Fatalf("c after its lease: %s attempts %d", st, n)
	}
}
