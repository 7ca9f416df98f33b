package storage_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// retentionNow is the fake clock of the retention tests: fixed, and before
// the database's own clock whatever the date the tests run on.
var retentionNow = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

var days180 = storage.RetentionWindows{
	storage.TableUpdates:         180 * 24 * time.Hour,
	storage.TableOutbox:          180 * 24 * time.Hour,
	storage.TableWebhookAttempts: 180 * 24 * time.Hour,
}

func month(t time.Time) string { return storage.MonthOf(t).Format(time.DateOnly) }

func mustExec(t *testing.T, s *storage.Store, q string, args ...any) {
	t.Helper()
	if _, err := s.DB().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestExpired(t *testing.T) {
	p := storage.Partition{Month: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)}
	day := 24 * time.Hour
	for _, c := range []struct {
		now    time.Time
		window time.Duration
		want   bool
	}{
		{time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), 180 * day, true},   // window starts 1 Oct: the month ended
		{time.Date(2026, 3, 29, 23, 0, 0, 0, time.UTC), 180 * day, false}, // 30 Sep 23:00 is still kept
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), 0, false},           // 0 keeps forever
	} {
		if got := storage.Expired(p, c.now, c.window); got != c.want {
			t.Errorf("Expired(%s, %s, %s) = %v, want %v", p.Month.Format("2006-01"), c.now, c.window, got, c.want)
		}
	}
	if got := storage.PartitionName("outbox", time.Date(2026, 12, 31, 23, 0, 0, 0, time.FixedZone("CST", -8*3600))); got != "outbox_p202701" {
		t.Errorf("name by UTC month: %s", got)
	}
}

// Rows 200 days old are gone after the job, rows 10 days old stay, and an
// old partition holding an outbox row not delivered yet is kept; keys kept
// in any partition are still refused.
func TestRetentionDropsOldPartitions(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	old, older, recent := retentionNow.AddDate(0, 0, -200), retentionNow.AddDate(0, 0, -230), retentionNow.AddDate(0, 0, -10)
	for _, table := range storage.RetainedTables {
		for _, m := range []time.Time{old, older, recent} {
			if _, err := s.EnsurePartition(ctx, table, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	ins := func(id int64, m time.Time, processed bool) {
		mustExec(t, s, `INSERT INTO updates (update_id, raw, kind, part_month, processed_at) VALUES ($1, '{}', 'message', $2, CASE WHEN $3 THEN now() END)`, id, month(m), processed)
	}
	ins(1, old, true)
	ins(2, old, true)
	ins(3, recent, true)
	enq := func(key string, m time.Time, status string) {
		mustExec(t, s, `INSERT INTO outbox (dedupe_key, chat_id, payload, status, part_month) VALUES ($1, 7, '{}', $2, $3)`, key, status, month(m))
	}
	enq("old-sent", old, "sent")
	enq("old-failed", old, "failed")
	enq("older-pending", older, "pending")
	enq("older-sent", older, "sent")
	enq("recent-sent", recent, "sent")

	tree := webhookTree(t, s)
	subscribe(t, s, tree["QA"])
	eventID(t, s, "checkin.created", tree["QA-RZ-XZ-B1"])
	fanOutAll(t, s)
	var delivery int64
	if err := s.DB().Get(&delivery, `SELECT id FROM webhook_deliveries LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	for i, m := range []time.Time{old, recent} {
		mustExec(t, s, `INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms, part_month) VALUES ($1, $2, $3, 5, $4)`, delivery, i+1, m, month(m))
	}

	// A duplicate within the window is refused from another month's partition.
	if n, err := s.InsertUpdates(ctx, []storage.NewUpdate{{ID: 1, Raw: []byte(`{}`)}, {ID: 3, Raw: []byte(`{}`)}, {ID: 4, Raw: []byte(`{}`)}}); err != nil || len(n) != 1 || !n[4] {
		t.Fatalf("insert updates 1, 3, 4: new %v, %v", n, err)
	}
	if ok, err := s.InsertUpdate(ctx, 2, []byte(`{}`), 0, 0, "message"); err != nil || ok {
		t.Fatalf("update 2 stored twice: %v %v", ok, err)
	}
	// An outbox key is refused from the previous month's partition (by the
	// database's clock, which sets part_month): the live months.
	dbNow, err := s.DatabaseNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsurePartition(ctx, storage.TableOutbox, storage.MonthOf(dbNow).AddDate(0, -1, 0)); err != nil {
		t.Fatal(err)
	}
	enq("live-prev", storage.MonthOf(dbNow).AddDate(0, -1, 0), "sent")
	if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: "live-prev", ChatID: 7, Payload: map[string]string{"text": "x"}}); err != nil {
		t.Fatal(err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox WHERE dedupe_key = 'live-prev'`); n != 1 {
		t.Fatalf("outbox key of the previous month stored %d times, want once", n)
	}
	mustExec(t, s, `DELETE FROM outbox WHERE dedupe_key = 'live-prev'`)

	rep, err := s.ApplyRetention(ctx, retentionNow, days180, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	for _, name := range []string{"updates_p" + old.Format("200601"), "outbox_p" + old.Format("200601"), "webhook_attempts_p" + old.Format("200601"),
		"updates_p" + older.Format("200601"), "webhook_attempts_p" + older.Format("200601")} {
		if !slices.Contains(rep.Dropped, name) {
			t.Errorf("%s not dropped: %v", name, rep)
		}
	}
	if want := "outbox_p" + older.Format("200601"); !slices.Equal(rep.Kept, []string{want}) {
		t.Errorf("kept %v, want [%s] (a pending row)", rep.Kept, want)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM updates WHERE update_id IN (1, 2)`); n != 0 {
		t.Errorf("%d updates 200 days old left", n)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM updates WHERE update_id IN (3, 4)`); n != 2 {
		t.Errorf("%d of the recent updates left, want 2", n)
	}
	var keys []string
	if err := s.DB().Select(&keys, `SELECT dedupe_key FROM outbox ORDER BY dedupe_key`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"older-pending", "older-sent", "recent-sent"}) {
		t.Errorf("outbox keys after retention: %v", keys)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM webhook_attempts`); n != 1 {
		t.Errorf("%d webhook attempts left, want the recent one", n)
	}
	// The months ahead are ready, by the fake clock and by the database's.
	for _, table := range storage.RetainedTables {
		parts, err := s.Partitions(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i <= storage.AheadMonths; i++ {
			name := storage.PartitionName(table, storage.MonthOf(retentionNow).AddDate(0, i, 0))
			if !slices.ContainsFunc(parts, func(p storage.Partition) bool { return p.Name == name }) {
				t.Errorf("no partition %s", name)
			}
		}
	}
	// Once delivered, the pending row's partition goes at the next run.
	mustExec(t, s, `UPDATE outbox SET status = 'sent' WHERE dedupe_key = 'older-pending'`)
	rep, err = s.ApplyRetention(ctx, retentionNow, days180, 2*time.Second)
	if err != nil || !slices.Equal(rep.Dropped, []string{"outbox_p" + older.Format("200601")}) || len(rep.Made) != 0 {
		t.Fatalf("second run: %v, %v", rep, err)
	}
	// A window of 0 keeps everything.
	if rep, err := s.ApplyRetention(ctx, retentionNow.AddDate(5, 0, 0), storage.RetentionWindows{}, time.Second); err != nil || len(rep.Dropped) != 0 {
		t.Fatalf("keep forever: %v, %v", rep, err)
	}
}

// A clock running ahead of the database's never drops what the database
// wrote recently.
func TestRetentionTrustsTheEarlierClock(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: "now", ChatID: 1, Payload: map[string]string{"text": "x"}}); err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, `UPDATE outbox SET status = 'sent'`)
	dbNow, err := s.DatabaseNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.ApplyRetention(ctx, dbNow.AddDate(3, 0, 0), days180, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox`); n != 1 || len(rep.Dropped) != 0 {
		t.Fatalf("a clock 3 years ahead dropped %v; %d rows left", rep.Dropped, n)
	}
}

// A row of a month without its partition lands in the default partition;
// making the partition later moves it there.
func TestEnsurePartitionMovesStrayRows(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	far := time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
	mustExec(t, s, `INSERT INTO outbox (dedupe_key, chat_id, payload, part_month) VALUES ('far', 1, '{"edit_of": "x"}', $1)`, month(far))
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox_default`); n != 1 {
		t.Fatalf("default partition holds %d rows", n)
	}
	made, err := s.EnsurePartition(ctx, storage.TableOutbox, far)
	if err != nil || !made {
		t.Fatalf("ensure: %v %v", made, err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox_p203105 WHERE dedupe_key = 'far' AND edit_of = 'x'`); n != 1 {
		t.Fatalf("row not moved: %d", n)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox_default`); n != 0 {
		t.Fatalf("default partition still holds %d rows", n)
	}
	if made, err := s.EnsurePartition(ctx, storage.TableOutbox, far.AddDate(0, 0, 20)); err != nil || made {
		t.Fatalf("made twice: %v %v", made, err)
	}
	if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: "far", ChatID: 1, Payload: map[string]string{"text": "x"}}); err != nil {
		t.Fatal(err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox`); n != 1 {
		t.Fatalf("key of the moved row enqueued again: %d rows", n)
	}
}

// Migration 00018 turns the tables of an existing database into
// partitioned ones without losing a row, and back.
func TestRetentionMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	db, p := emptyMigrator(t)
	if _, err := p.UpTo(ctx, 17); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO updates (update_id, raw, kind, received_at) VALUES (10, '{"a":1}', 'message', '2025-11-20T10:00:00Z'), (11, '{}', 'message', now())`)
	exec(`INSERT INTO outbox (dedupe_key, chat_id, payload, status, created_at) VALUES
		('k-old', 5, '{"text":"a"}', 'sent', '2025-10-31T23:30:00Z'), ('k-new', 5, '{"edit_of":"k-old"}', 'pending', now())`)
	exec(`INSERT INTO units (code, name, kind) VALUES ('QA', '乾安县', 'county')`)
	exec(`INSERT INTO events (type, unit_id) SELECT 'checkin.created', id FROM units`)
	exec(`INSERT INTO webhook_subscriptions (url, secret, unit_id, created_by) SELECT 'https://example.com/h', 's', id, 'test' FROM units`)
	exec(`INSERT INTO webhook_deliveries (subscription_id, event_id) SELECT s.id, e.id FROM webhook_subscriptions s, events e`)
	exec(`INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms) SELECT id, 1, '2025-09-02T00:00:00Z', 3 FROM webhook_deliveries`)

	if err := storage.Migrate(ctx, db.DB, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	s := storage.New(db)
	if n := testdb.Count(t, s, `SELECT count(*) FROM updates_p202511 WHERE update_id = 10 AND raw::text = '{"a":1}'`); n != 1 {
		t.Errorf("update 10 not in its month's partition")
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox_p202510 WHERE dedupe_key = 'k-old'`); n != 1 {
		t.Errorf("k-old not in its month's partition (October, UTC)")
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox WHERE dedupe_key = 'k-new' AND edit_of = 'k-old' AND status = 'pending'`); n != 1 {
		t.Errorf("k-new lost its columns")
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM webhook_attempts_p202509`); n != 1 {
		t.Errorf("webhook attempt not in its month's partition")
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM updates`) + testdb.Count(t, s, `SELECT count(*) FROM outbox`); n != 4 {
		t.Errorf("%d rows after the migration, want 4", n)
	}
	// Keys, sequences and defaults carry over.
	if ok, err := s.InsertUpdate(ctx, 10, []byte(`{}`), 0, 0, "message"); err != nil || ok {
		t.Errorf("update 10 stored again: %v %v", ok, err)
	}
	if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: "k-old", ChatID: 5, Payload: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: "k-3", ChatID: 5, Payload: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox WHERE id > (SELECT id FROM outbox WHERE dedupe_key = 'k-new') AND dedupe_key = 'k-3'`); n != 1 {
		t.Errorf("outbox ids do not go on from the old sequence")
	}
	// k-old is in October 2025, before the live months (the previous
	// month and later, by the database's clock): an outbox key is refused
	// only within them (docs/ARCHITECTURE.md, Retention).
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox`); n != 4 {
		t.Errorf("%d outbox rows, want 4 (k-old again: outside the live months)", n)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'outbox'::regclass`); n < 4 {
		t.Errorf("outbox has %d partitions, want default, October, this month and the next", n)
	}

	// And back: every row stays, keys without part_month.
	if _, err := p.DownTo(ctx, 17); err != nil {
		t.Fatal(err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox`) + testdb.Count(t, s, `SELECT count(*) FROM updates`) + testdb.Count(t, s, `SELECT count(*) FROM webhook_attempts`); n != 7 {
		t.Errorf("%d rows after down, want 7", n)
	}
	// The older k-old took its month as a suffix, to keep the key unique.
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox WHERE dedupe_key IN ('k-old', 'k-old#2025-10')`); n != 2 {
		t.Errorf("%d of k-old's two rows after down, want 2", n)
	}
	if _, err := db.Exec(`INSERT INTO updates (update_id, raw) VALUES (10, '{}') ON CONFLICT (update_id) DO NOTHING`); err != nil {
		t.Errorf("update_id is no longer the key after down: %v", err)
	}
	if err := storage.Migrate(ctx, db.DB, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

// The hot statements search the live months first (storage/livemonths.go);
// rows of a past month are still found: an update not processed yet is
// locked and finished, its update_id refused again, and a message still
// pending there is claimed and marked sent.
func TestPastMonthsRowsAreStillFound(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	dbNow, err := s.DatabaseNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	past := storage.MonthOf(dbNow).AddDate(0, -3, 0)
	for _, table := range storage.RetainedTables {
		if _, err := s.EnsurePartition(ctx, table, past); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, s, `INSERT INTO updates (update_id, raw, kind, part_month) VALUES (500, '{}', 'message', $1)`, month(past))
	mustExec(t, s, `INSERT INTO outbox (dedupe_key, chat_id, payload, part_month) VALUES ('past-pending', 7, '{"text":"x"}', $1)`, month(past))

	if n, err := s.InsertUpdates(ctx, []storage.NewUpdate{{ID: 500, Raw: []byte(`{}`)}, {ID: 501, Raw: []byte(`{}`)}}); err != nil || len(n) != 1 || !n[501] {
		t.Fatalf("insert updates 500 (stored three months ago) and 501: new %v, %v", n, err)
	}
	err = s.InTx(ctx, func(tx *storage.Store) error {
		locked, err := tx.LockUpdates(ctx, []int64{500, 501}, nil)
		if err != nil {
			return err
		}
		if len(locked) != 2 || string(locked[500].Raw) != `{}` {
			t.Errorf("locked %v, want updates 500 and 501", locked)
		}
		// Each its own outcome, one found in the live months, one after.
		return tx.FinishUpdates(ctx, []storage.Outcome{{UpdateID: 500, Outcome: "ok"}, {UpdateID: 501, Outcome: "ignored"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM updates WHERE processed_at IS NOT NULL AND outcome = CASE update_id WHEN 500 THEN 'ok' WHEN 501 THEN 'ignored' END`); n != 2 {
		t.Errorf("%d updates finished with their outcomes, want 2", n)
	}

	rows, err := s.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: dbNow.Add(time.Minute), Lease: time.Minute, ByPriority: 10})
	if err != nil || len(rows) != 1 || rows[0].DedupeKey != "past-pending" {
		t.Fatalf("claim: %v, %v; want the message pending since three months ago", rows, err)
	}
	if ok, err := s.OutboxSent(ctx, rows[0].ID, rows[0].Attempts, []int64{42}, dbNow); err != nil || !ok {
		t.Fatalf("sent: %v, %v", ok, err)
	}
	if n := testdb.Count(t, s, `SELECT count(*) FROM outbox WHERE dedupe_key = 'past-pending' AND status = 'sent' AND tg_message_id = 42`); n != 1 {
		t.Errorf("the past month's message is not marked sent")
	}
}

// The inserts' duplicate checks (update log, outbox) never read this
// month's partition, even in a cached generic plan: ON CONFLICT refuses a
// duplicate there. A generic plan made while the partition was young
// scanned it in full for every batch (BENCHMARKS.md, 2026-12-03, third
// session). The other live months are still searched.
func TestInsertsDuplicateChecksSkipThisMonthsPartition(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	dbNow := withPartitions(t, s, -1)
	prev := storage.MonthOf(dbNow).AddDate(0, -1, 0)
	plans, err := s.GenericInsertPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, table := range []string{"updates", "updates", "outbox"} {
		// The duplicate check is the statement's one InitPlan (ARRAY(SELECT …)).
		read := initPlanRelations(t, plans[i])
		if slices.Contains(read, table+"_p"+dbNow.Format("200601")) {
			t.Errorf("plan %d's duplicate check reads %s of this month: %v", i, table, read)
		}
		if !slices.Contains(read, table+"_p"+prev.Format("200601")) || !strings.Contains(plans[i], `"Subplans Removed": 1`) {
			t.Errorf("plan %d's duplicate check does not read %s of the previous month (%v), or prunes nothing at its start:\n%s", i, table, read, plans[i])
		}
	}
	// The behaviour stays: a duplicate of this month and one of the
	// previous month are both refused.
	mustExec(t, s, `INSERT INTO updates (update_id, raw, kind, part_month) VALUES (600, '{}', 'message', $1)`, month(prev))
	if n, err := s.InsertUpdates(ctx, []storage.NewUpdate{{ID: 601, Raw: []byte(`{}`)}}); err != nil || !n[601] {
		t.Fatalf("insert 601: %v, %v", n, err)
	}
	if n, err := s.InsertUpdates(ctx, []storage.NewUpdate{{ID: 600, Raw: []byte(`{}`)}, {ID: 601, Raw: []byte(`{}`)}, {ID: 602, Raw: []byte(`{}`)}}); err != nil || len(n) != 1 || !n[602] {
		t.Fatalf("insert 600 (last month), 601 (this month), 602: new %v, %v; want 602 only", n, err)
	}
}

// initPlanRelations returns the relations read under the InitPlans of an
// EXPLAIN (FORMAT JSON) plan.
func initPlanRelations(t *testing.T, plan string) []string {
	var out []string
	walkPlan(t, plan, func(n map[string]any, underInit bool) {
		if rel, ok := n["Relation Name"].(string); ok && underInit {
			out = append(out, rel)
		}
	})
	return out
}

// walkPlan calls visit for every node of an EXPLAIN (FORMAT JSON) plan,
// saying whether it is under an InitPlan.
func walkPlan(t *testing.T, plan string, visit func(n map[string]any, underInit bool)) {
	t.Helper()
	var doc []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan: %v\n%s", err, plan)
	}
	var walk func(n map[string]any, under bool)
	walk = func(n map[string]any, under bool) {
		if name, _ := n["Subplan Name"].(string); strings.HasPrefix(name, "InitPlan") {
			under = true
		}
		visit(n, under)
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				walk(m, under)
			}
		}
	}
	walk(doc[0].Plan, false)
}

// An edit carries its original's month (edit_of_month, migration 00026),
// so the claim looks the original up in that month's partition only, not
// in every month's: found in the live months, in the same statement, or
// (once, at enqueue) in a past month.
func TestAnEditsOriginalIsLookedUpInItsMonthOnly(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	dbNow := withPartitions(t, s, -3, -4)
	past, other := storage.MonthOf(dbNow).AddDate(0, -3, 0), storage.MonthOf(dbNow).AddDate(0, -4, 0)
	mustExec(t, s, `INSERT INTO outbox (dedupe_key, chat_id, payload, status, tg_message_id, part_month) VALUES
		('card', 9, '{"text":"待审核"}', 'sent', 77, $1), ('unrelated', 9, '{"text":"x"}', 'sent', 78, $2)`, month(past), month(other))
	edit := func(key, of string) storage.OutMessage {
		return storage.OutMessage{DedupeKey: key, ChatID: 9, Method: "editMessageText", Payload: map[string]string{"edit_of": of, "text": "已通过"}}
	}
	if err := s.Enqueue(ctx, edit("card:edit", "card")); err != nil {
		t.Fatal(err)
	}
	err := s.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Enqueue(ctx, storage.OutMessage{DedupeKey: "new", ChatID: 10, Payload: map[string]string{"text": "新"}}); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, edit("new:edit", "new")); err != nil {
			return err
		}
		return tx.Enqueue(ctx, edit("none:edit", "none"))
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"card:edit": month(past), "new:edit": month(dbNow), "none:edit": ""} {
		var got string
		if err := s.DB().Get(&got, `SELECT COALESCE(edit_of_month::text, '') FROM outbox WHERE dedupe_key = $1`, key); err != nil || got != want {
			t.Errorf("%s: edit_of_month %q (%v), want %q", key, got, err, want)
		}
	}

	plan, err := s.ExplainClaim(ctx, "telegram", dbNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	loops := relationLoops(t, plan)
	if n := loops["outbox_p"+other.Format("200601")]; n != 0 {
		t.Errorf("the claim searched the month holding no original %d times:\n%s", n, plan)
	}
	if n := loops["outbox_p"+past.Format("200601")]; n == 0 {
		t.Errorf("the claim never searched the original's month:\n%s", plan)
	}
	rows, err := s.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: dbNow.Add(time.Minute), Lease: time.Minute, ByPriority: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]storage.OutboxRow{}
	for _, r := range rows {
		got[r.DedupeKey] = r
	}
	if r, ok := got["card:edit"]; !ok || r.OrigMessageID.Int64 != 77 || r.OrigStatus.String != "sent" || r.OrigChatID.Int64 != 9 {
		t.Errorf("the edit of the past month's card: %+v (claimed %v), want its original's message 77", r, ok)
	}
	if _, ok := got["none:edit"]; ok {
		t.Error("an edit without an original was claimed")
	}
	if _, ok := got["new"]; !ok {
		t.Errorf("claimed %v, want the new message", slices.Collect(maps.Keys(got)))
	}
}

// relationLoops sums, per relation, the Actual Loops of the nodes reading
// it in an EXPLAIN (ANALYZE, FORMAT JSON) plan.
func relationLoops(t *testing.T, plan string) map[string]int {
	out := map[string]int{}
	walkPlan(t, plan, func(n map[string]any, _ bool) {
		if rel, ok := n["Relation Name"].(string); ok {
			l, _ := n["Actual Loops"].(float64)
			out[rel] += int(l)
		}
	})
	return out
}

// withPartitions makes the retained tables' partitions of the months
// these many months before the database's current one, and returns the
// database's now.
func withPartitions(t *testing.T, s *storage.Store, monthsBack ...int) time.Time {
	t.Helper()
	ctx := context.Background()
	dbNow, err := s.DatabaseNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, back := range monthsBack {
		for _, table := range storage.RetainedTables {
			if _, err := s.EnsurePartition(ctx, table, storage.MonthOf(dbNow).AddDate(0, back, 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dbNow
}
