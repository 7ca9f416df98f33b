package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// The scheduler's retention job (SPEC §7.7), on its fake clock: the month
// partitions of rows 200 days old are dropped, rows 10 days old stay, an old
// month holding an undelivered message stays, the months ahead are made,
// and the bot keeps working throughout.
func TestRetentionJob(t *testing.T) {
	now := time.Date(2026, 3, 15, 18, 0, 0, 0, time.UTC) // before the database's clock on any run date
	fc := clockwork.NewFakeClockAt(now)
	h := start(t, withClock(fc))
	st := h.Srv.Store
	old, older, recent := now.AddDate(0, 0, -200), now.AddDate(0, 0, -230), now.AddDate(0, 0, -10)
	for _, table := range storage.RetainedTables {
		for _, m := range []time.Time{old, older, recent} {
			if _, err := st.EnsurePartition(h.Ctx, table, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := st.DB().ExecContext(h.Ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	month := func(t time.Time) string { return storage.MonthOf(t).Format(time.DateOnly) }
	exec(`INSERT INTO updates (update_id, raw, kind, part_month, processed_at, outcome) VALUES (900000001, '{}', 'message', $1, now(), 'ok'), (900000002, '{}', 'message', $2, now(), 'ok')`, month(old), month(recent))
	exec(`INSERT INTO outbox (dedupe_key, chat_id, payload, status, part_month) VALUES
		('old', 1, '{}', 'sent', $1), ('older-pending', 1, '{}', 'pending', $2), ('recent', 1, '{}', 'sent', $3)`, month(old), month(older), month(recent))
	// Keep the pending row from going out: it stands for one still due.
	exec(`UPDATE outbox SET not_before = now() + interval '1 day' WHERE dedupe_key = 'older-pending'`)

	chat := h.Fake.PrivateChat(stray)
	h.say(chat, stray, "/help")
	h.waitMsg(stray.ID, "还没有绑定账号")

	oldName := func(table string, m time.Time) string { return storage.PartitionName(table, m) }
	gone := func(name string) bool {
		return testdb.Count(t, st, `SELECT count(*) FROM pg_class WHERE relname = $1`, name) == 0
	}
	if err := fc.BlockUntilContext(h.Ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The job runs hourly at minute 23 (scheduler clock).
	for moved := time.Duration(0); !gone(oldName("updates", old)); moved += time.Minute {
		if moved > 90*time.Minute {
			t.Fatal("no retention run within 90 minutes of the scheduler's clock")
		}
		fc.Advance(time.Minute)
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) && !gone(oldName("updates", old)) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !gone(oldName("webhook_attempts", old)) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, name := range []string{oldName("updates", old), oldName("outbox", old), oldName("webhook_attempts", old), oldName("updates", older)} {
		if !gone(name) {
			t.Errorf("%s not dropped", name)
		}
	}
	for _, name := range []string{oldName("outbox", older), oldName("updates", recent), oldName("outbox", recent),
		storage.PartitionName("outbox", storage.MonthOf(now).AddDate(0, storage.AheadMonths, 0))} {
		if gone(name) {
			t.Errorf("%s missing", name)
		}
	}
	var keys []string
	if err := st.DB().SelectContext(h.Ctx, &keys, `SELECT dedupe_key FROM outbox WHERE dedupe_key IN ('old', 'older-pending', 'recent') ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != "older-pending recent" {
		t.Errorf("outbox keys left: %v", keys)
	}
	var ups []int64
	if err := st.DB().SelectContext(h.Ctx, &ups, `SELECT update_id FROM updates WHERE update_id IN (900000001, 900000002)`); err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0] != 900000002 {
		t.Errorf("updates left of 900000001 (200 days old) and 900000002 (10 days): %v", ups)
	}
	// The job logs once its run is over.
	for _, want := range []string{`"msg":"retention: partition dropped","partition":"` + oldName("outbox", old) + `"`,
		`"msg":"retention: partition past its window kept: it holds work not done yet","partition":"` + oldName("outbox", older) + `"`} {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(h.logText(), want) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(h.logText(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
	// The bot still answers after the drop.
	before := len(h.Fake.MessagesTo(stray.ID))
	h.say(chat, stray, "/help")
	for deadline := time.Now().Add(15 * time.Second); len(h.Fake.MessagesTo(stray.ID)) == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no reply after the retention run")
		}
	}
}
