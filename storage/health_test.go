package storage_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// hcBranch creates county → branch and returns the branch.
func hcBranch(t *testing.T, s *storage.Store) (county, branch domain.Unit) {
	t.Helper()
	ctx := context.Background()
	c, err := s.CreateUnit(ctx, "QA", "乾安县", "county", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateUnit(ctx, "QA-B1", "一支部", "branch", &c.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c, b
}

func hcDone(t *testing.T, s *storage.Store, unit int64) string {
	t.Helper()
	var done string
	err := s.DB().GetContext(context.Background(), &done, `SELECT COALESCE((SELECT done FROM health_units WHERE unit_id = $1), '')`, unit)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func TestHealthDoneKeptByTriggers(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, b := hcBranch(t, s)
	db := s.DB()
	insert := func(items ...string) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRowContext(ctx, `INSERT INTO checkins (branch_id, held_on) VALUES ($1, '2026-01-10') RETURNING id`, b.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			ob, period, _ := strings.Cut(it, " ")
			if _, err := db.ExecContext(ctx, `INSERT INTO checkin_items (checkin_id, obligation, period, unit_id) VALUES ($1, $2, $3, $4)`,
				id, ob, period, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	insert("committee_meeting 2026-01", "general_meeting 2026-Q1", "life_meeting 2025")
	feb := insert("committee_meeting 2026-02")
	insert("committee_meeting 2026-04", "general_meeting 2026-q2")
	insert("committee_meeting 2026-13") // malformed: ignored
	insert("committee_meeting 2026-01") // an extra record
	want := "committee_meeting 2026-01..2026-02,committee_meeting 2026-04,general_meeting 2026-Q1..2026-Q2,life_meeting 2025"
	if got := hcDone(t, s, b.ID); got != want {
		t.Fatalf("done:\n%s\nwant\n%s", got, want)
	}
	// The tree gives the runs as periods.
	var runs []string
	err := s.HealthTree(ctx, b.ID, storage.TreeParts{}, func(r *storage.HealthRow) error {
		if r.ID == b.ID {
			runs = doneStrings(r.Done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRuns := "committee_meeting monthly 2026-01..2026-02,committee_meeting monthly 2026-04..2026-04," +
		"general_meeting quarterly 2026-Q1..2026-Q2,life_meeting yearly 2025..2025"
	if got := strings.Join(runs, ","); got != wantRuns {
		t.Fatalf("tree's done runs:\n%s\nwant\n%s", got, wantRuns)
	}
	// Withdrawn and rejected check-ins do not count; restoring one does.
	for _, col := range []string{"withdrawn_at", "rejected_at"} {
		if _, err := db.ExecContext(ctx, `UPDATE checkins SET `+col+` = now() WHERE id = $1`, feb); err != nil {
			t.Fatal(err)
		}
		if got := hcDone(t, s, b.ID); !strings.HasPrefix(got, "committee_meeting 2026-01,committee_meeting 2026-04,") {
			t.Fatalf("after %s: %s", col, got)
		}
		if _, err := db.ExecContext(ctx, `UPDATE checkins SET `+col+` = NULL WHERE id = $1`, feb); err != nil {
			t.Fatal(err)
		}
		if got := hcDone(t, s, b.ID); got != want {
			t.Fatalf("restored after %s: %s", col, got)
		}
	}
	// Deleting items and updating them are followed too.
	if _, err := db.ExecContext(ctx, `UPDATE checkin_items SET period = '2026-03' WHERE checkin_id = $1`, feb); err != nil {
		t.Fatal(err)
	}
	if got := hcDone(t, s, b.ID); !strings.HasPrefix(got, "committee_meeting 2026-01,committee_meeting 2026-03..2026-04,") {
		t.Fatalf("after update: %s", got)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM checkin_items`); err != nil {
		t.Fatal(err)
	}
	if got := hcDone(t, s, b.ID); got != "" {
		t.Fatalf("after delete: %q", got)
	}
}

func TestHealthDoneConcurrentCheckins(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, b := hcBranch(t, s)
	db := s.DB()
	tx1, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var id1 int64
	if err := tx1.QueryRowContext(ctx, `INSERT INTO checkins (branch_id, held_on) VALUES ($1, '2026-01-10') RETURNING id`, b.ID).Scan(&id1); err != nil {
		t.Fatal(err)
	}
	if _, err := tx1.ExecContext(ctx, `INSERT INTO checkin_items (checkin_id, obligation, period, unit_id) VALUES ($1, 'committee_meeting', '2026-01', $2)`, id1, b.ID); err != nil {
		t.Fatal(err)
	}
	// A second check-in of the same branch commits while the first is
	// open: its summary must wait for the first and include it.
	done := make(chan error, 1)
	go func() {
		tx2, err := db.BeginTxx(ctx, nil)
		if err != nil {
			done <- err
			return
		}
		defer tx2.Rollback() //nolint:errcheck
		var id2 int64
		if err := tx2.QueryRowContext(ctx, `INSERT INTO checkins (branch_id, held_on) VALUES ($1, '2026-02-10') RETURNING id`, b.ID).Scan(&id2); err != nil {
			done <- err
			return
		}
		if _, err := tx2.ExecContext(ctx, `INSERT INTO checkin_items (checkin_id, obligation, period, unit_id) VALUES ($1, 'committee_meeting', '2026-02', $2)`, id2, b.ID); err != nil {
			done <- err
			return
		}
		done <- tx2.Commit()
	}()
	time.Sleep(200 * time.Millisecond)
	if err := tx1.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := hcDone(t, s, b.ID); got != "committee_meeting 2026-01..2026-02" {
		t.Fatalf("done after concurrent check-ins: %q", got)
	}
}

func TestRecordDigestsAtMostOnce(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	c, b := hcBranch(t, s)
	pid, _, err := s.UpsertPerson(ctx, "王书记", "13800000001", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	line := func(slot int64) storage.NoticeLine {
		return storage.NoticeLine{Key: "x/" + string(rune('0'+slot)), PersonID: pid, UnitID: b.ID, Obligation: "committee_meeting",
			Period: "2026-10", Level: "red", Slot: slot, Role: "secretary"}
	}
	digest := func(key string, lines ...storage.NoticeLine) storage.DigestRecord {
		return storage.DigestRecord{DedupeKey: key, PersonID: pid, PersonName: "王书记", ChatID: 100, Level: "red",
			Priority: storage.PriorityRed, Texts: []string{"第一部分", "第二部分"}, Markup: map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "收到", "callback_data": "ack:1:*"}}}},
			Lines: lines}
	}
	err = s.InTx(ctx, func(tx *storage.Store) error {
		n, err := tx.RecordDigests(ctx, at, []storage.DigestRecord{digest("hc:a", line(0))})
		if n != 2 {
			t.Errorf("outbox rows %d, want 2 (two parts)", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same line again, in another digest: refused, nothing written.
	err = s.InTx(ctx, func(tx *storage.Store) error {
		_, err := tx.RecordDigests(ctx, at, []storage.DigestRecord{digest("hc:b", line(1), line(0))})
		var ce *storage.ConflictError
		if !errors.As(err, &ce) || len(ce.Lines) != 1 || ce.Lines[0].Key != "x/0" || !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("second record: %v", err)
		}
		// The transaction is still usable after the savepoint.
		_, err = tx.RecordDigests(ctx, at, []storage.DigestRecord{digest("hc:c", line(1))})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.DB().SelectContext(ctx, &keys, `SELECT dedupe_key FROM outbox ORDER BY dedupe_key`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != "hc:a:1 hc:a:2 hc:c:1 hc:c:2" {
		t.Fatalf("outbox keys %v", keys)
	}
	var markup int
	if err := s.DB().GetContext(ctx, &markup, `SELECT count(*) FROM outbox WHERE payload ? 'reply_markup'`); err != nil || markup != 2 {
		t.Fatalf("buttons on %d rows (want the last part of each digest): %v", markup, err)
	}
	lines, err := s.NoticeLog(ctx, c.ID, at.Add(-time.Hour))
	if err != nil || len(lines) != 2 {
		t.Fatalf("log %v %v", lines, err)
	}
}

func TestHealthTreeRows(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	c, b := hcBranch(t, s)
	pid, _, err := s.UpsertPerson(ctx, "王;书记", "13800000001", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		role string
		unit int64
	}{{"secretary", b.ID}, {"organiser", c.ID}, {"villager", b.ID}} {
		if err := s.AddRole(ctx, pid, r.role, r.unit); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LinkChat(ctx, pid, 555, 555, "w"); err != nil {
		t.Fatal(err)
	}
	// A second secretary, never linked, whose name the array must quote.
	odd := `李 "小",{二}\三`
	pid2, _, err := s.UpsertPerson(ctx, odd, "13800000002", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddRole(ctx, pid2, "secretary", b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.BindGroup(ctx, -100, b.ID, "群", pid); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = s.HealthTree(ctx, b.ID, storage.TreeParts{People: true, Memory: true}, func(r *storage.HealthRow) error {
		got[r.Code] = string(r.Kind) + "|" + holders(r) + "|" + strings.TrimSpace(r.Name)
		if r.Code == "QA-B1" && (r.Above || r.GroupChat != -100 || r.ParentID != c.ID) {
			t.Errorf("branch row %+v", r)
		}
		if r.Code == "QA" && !r.Above {
			t.Errorf("county not marked above the root")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	second := " s" + itoa(pid2) + ":0:" + odd
	if got["QA-B1"] != "branch|s"+itoa(pid)+":555:王;书记"+second+"|一支部" || got["QA"] != "county|o"+itoa(pid)+":555:王;书记|乾安县" {
		t.Fatalf("rows %q", got)
	}
	// Renaming, unbinding the group and removing a role follow through.
	if _, _, err := s.UpsertPerson(ctx, "王书记", "13800000001", b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `DELETE FROM roles WHERE role = 'organiser'`); err != nil {
		t.Fatal(err)
	}
	if err := s.BindGroup(ctx, -100, c.ID, "县群", pid); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	err = s.HealthTree(ctx, 0, storage.TreeParts{People: true}, func(r *storage.HealthRow) error {
		rows[r.Code] = holders(r) + "|" + itoa(r.GroupChat)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows["QA-B1"] != "s"+itoa(pid)+":555:王书记"+second+"|0" || rows["QA"] != "|-100" {
		t.Fatalf("after changes: %q", rows)
	}
	// A person who blocked the bot has no chat.
	if err := s.MarkChatUnreachable(ctx, 555, "blocked"); err != nil {
		t.Fatal(err)
	}
	err = s.HealthTree(ctx, 0, storage.TreeParts{People: true}, func(r *storage.HealthRow) error {
		if r.Code == "QA-B1" && !strings.HasPrefix(holders(r), "s"+itoa(pid)+":0:") {
			t.Errorf("unreachable chat still given: %q", holders(r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// doneStrings prints done runs as "obligation recurrence first..last".
func doneStrings(runs []storage.DoneRun) []string {
	var out []string
	for _, r := range runs {
		out = append(out, string(r.Obligation)+" "+string(r.Recurs)+" "+health.PeriodOfSeq(r.Recurs, r.First).Key()+".."+
			health.PeriodOfSeq(r.Recurs, r.Last).Key())
	}
	return out
}

// The done summary's reader keeps what it can read and skips the rest: a
// run without periods, a malformed key, a range across recurrences or
// running backwards.
func TestDoneRunsSkipsWhatItCannotRead(t *testing.T) {
	got := strings.Join(doneStrings(storage.DoneRuns([]byte(
		"dues 2025-11..2026-05,broken,x 2026-13,y 2026-Q1..2026-03,z 2026-05..2026-04,life_meeting 2025,,theme_day 2026-q2"))), ",")
	want := "dues monthly 2025-11..2026-05,life_meeting yearly 2025..2025,theme_day quarterly 2026-Q2..2026-Q2"
	if got != want {
		t.Fatalf("runs:\n%s\nwant\n%s", got, want)
	}
	if got := storage.DoneRuns(nil); len(got) != 0 {
		t.Fatalf("runs of nothing: %v", got)
	}
	// Reading the runs of every unit on each evaluation allocates nothing.
	raw := []byte("dues 2025-11..2026-05,general_meeting 2025-Q4..2026-Q1,heart_talk 2025")
	runs := storage.DoneRunsInto(raw, nil)
	if n := testing.AllocsPerRun(100, func() { runs = storage.DoneRunsInto(raw, runs) }); n != 0 {
		t.Fatalf("reading the runs allocates %.0f times", n)
	}
}

// holders prints a row's holders as "s<id>:<chat>:<name>" (secretaries)
// and "o…" (organisers), space-separated, for comparing.
func holders(r *storage.HealthRow) string {
	var out []string
	for _, h := range r.Holders {
		out = append(out, h.Role[:1]+itoa(h.PersonID)+":"+itoa(h.ChatID)+":"+h.Name)
	}
	return strings.Join(out, " ")
}

// The read model's SQL numbering of period keys is the domain's Period.Seq:
// the triggers and the engine must agree on every key, or a check-in would
// count for the wrong period. Keys are the domain's parser's (ParseKey, the
// key forms of ParsePeriod) and walks of Next across year boundaries.
func TestPeriodSeqMatchesSQL(t *testing.T) {
	s := testdb.New(t)
	keys := []string{"2026-01", "2026-11", "2026-12", "2027-01", "2026-Q1", "2026-q4", "2027-Q1", "2026", "2028", "9999-12",
		"9999-Q4", "9999", "0001-01", "0001-Q1", "0001", "1999-12", "2000-01", "1999-Q4", "2000-Q1",
		"0000", "0000-01", "0000-Q1", "2026-13", "2026-00", "2026-1", "2026-Q0", "2026-Q5", "20x6", "", "2026-Q4 ", "2026-11-01",
		"２０２６", "2026年11月"}
	for _, rec := range []health.Recurrence{health.Monthly, health.Quarterly, health.Yearly} {
		for p := health.PeriodAt(rec, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), time.UTC); p.Year < 2028; p = p.Next() {
			keys = append(keys, p.Key())
		}
	}
	var got []sql.NullInt32
	if err := s.DB().SelectContext(context.Background(), &got, `SELECT health_period_seq(k) FROM unnest($1::text[]) WITH ORDINALITY AS t(k, i) ORDER BY i`,
		pq.StringArray(keys)); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		p, ok := health.ParseKey([]byte(k))
		switch {
		case ok != got[i].Valid:
			t.Errorf("%q: SQL %v, domain ok=%v", k, got[i], ok)
		case ok && got[i].Int32 != p.Seq():
			t.Errorf("%q: SQL %d, domain %d", k, got[i].Int32, p.Seq())
		}
		if pp, err := health.ParsePeriod(k); ok && (err != nil || pp != p) {
			t.Errorf("%q: ParsePeriod %v %v, ParseKey %v", k, pp, err, p)
		}
		if ok && i > 0 && keys[i-1] != "" {
			if prev, _ := health.ParseKey([]byte(keys[i-1])); prev.Rec == p.Rec && prev.Next() == p && got[i].Int32 != got[i-1].Int32+1 {
				t.Errorf("%s -> %s: SQL %d -> %d, not consecutive", keys[i-1], k, got[i-1].Int32, got[i].Int32)
			}
		}
	}
}

// The migration *_health_holders_json turns the read model's people text
// into json without losing an entry, and back to the same text.
func TestHealthPeopleMigrationKeepsHolders(t *testing.T) {
	ctx := context.Background()
	version := migrationVersion(t, "_health_holders_json.sql")
	db, p := emptyMigrator(t)
	if _, err := p.UpTo(ctx, version-1); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO units (id, code, name, kind) VALUES (1, 'QA', '乾安县', 'county')`)
	exec(`INSERT INTO units (id, code, name, kind, parent_id, path) VALUES (2, 'QA-B1', '一支部', 'branch', 1, '{1,2}'), (3, 'QA-B2', '二支部', 'branch', 1, '{1,3}')`)
	exec(`INSERT INTO people (id, name) VALUES (10, '王书记'), (11, '李 "小",{二}'), (12, '张组织')`)
	exec(`INSERT INTO roles (person_id, role, unit_id) VALUES (10, 'secretary', 2), (11, 'secretary', 2), (12, 'organiser', 1),
		(10, 'organiser', 1), (12, 'villager', 3)`)
	exec(`INSERT INTO chat_links (person_id, tg_user_id, chat_id) VALUES (10, 555, 555), (12, 777, 777)`)
	exec(`UPDATE chat_links SET unreachable_at = now() WHERE person_id = 12`)
	people := func() map[int64]string {
		t.Helper()
		rows, err := db.Query(`SELECT unit_id, people FROM health_units ORDER BY unit_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[int64]string{}
		for rows.Next() {
			var u int64
			var s string
			if err := rows.Scan(&u, &s); err != nil {
				t.Fatal(err)
			}
			m[u] = s
		}
		return m
	}
	before := people()
	sep := string(rune(0x1e))
	if before[2] != "s10:555:王书记"+sep+`s11:0:李 "小",{二}` || before[1] != "o10:555:王书记"+sep+"o12:0:张组织" {
		t.Fatalf("people before the migration: %v", before)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	st := storage.New(db)
	got := map[int64]string{}
	err := st.HealthTree(ctx, 0, storage.TreeParts{People: true}, func(r *storage.HealthRow) error {
		got[r.ID] = holders(r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[2] != `s10:555:王书记 s11:0:李 "小",{二}` || got[1] != "o10:555:王书记 o12:0:张组织" || got[3] != "" {
		t.Fatalf("holders after the migration: %v", got)
	}
	if _, err := p.DownTo(ctx, version-1); err != nil {
		t.Fatal(err)
	}
	if after := people(); !maps.Equal(after, before) {
		t.Fatalf("people after down: %v, want %v", after, before)
	}
}

// emptyMigrator opens an empty database and a goose provider of the
// migrations on it, for tests that migrate step by step.
func emptyMigrator(t *testing.T) (*sqlx.DB, *goose.Provider) {
	t.Helper()
	db, err := sqlx.Open("postgres", testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sub, _ := fs.Sub(storage.Migrations, storage.MigrationsDir)
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatal(err)
	}
	return db, p
}

// migrationVersion is the number of the migration whose file name ends
// with suffix (so that renumbering it at a merge keeps the test right).
func migrationVersion(t *testing.T, suffix string) int64 {
	t.Helper()
	entries, err := storage.Migrations.ReadDir(storage.MigrationsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if num, ok := strings.CutSuffix(e.Name(), suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no migration *%s", suffix)
	return 0
}

// TestMemFieldsSplitsLikeFields: the allocation-free splitter of memory
// entries gives bytes.Fields' answer for every entry shape, and nothing
// for an entry with too many fields.
func TestMemFieldsSplitsLikeFields(t *testing.T) {
	var fs [storage.MaxMemFields][]byte
	for _, entry := range []string{
		"L committee_meeting 2026-05 y",
		"S 11 theme_day 2026-05 r 6",
		"S 1000000 theme_day 2026-05 r 6 o",
		"S 9 * 2026-Q2 g 0",
		"  S  9 *  2026 v 0 ",
		"",
		"   ",
		"L",
	} {
		got := storage.MemFields([]byte(entry), &fs)
		want := bytes.Fields([]byte(entry))
		if len(got) != len(want) {
			t.Fatalf("%q: %d fields, want %d", entry, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: field %d = %q, want %q", entry, i, got[i], want[i])
			}
		}
	}
	if got := storage.MemFields([]byte("S 1 a 2026 r 0 o extra"), &fs); len(got) != 0 {
		t.Fatalf("eight fields: %q, want none", got)
	}
	org := []byte("S 1000000 theme_day 2026-05 r 6 o")
	if n := testing.AllocsPerRun(100, func() { storage.MemFields(org, &fs) }); n != 0 {
		t.Fatalf("memFields allocates %.0f times", n)
	}
}

// A memory written by the engine before its text moved to storage reads
// back entry for entry, and writing what was read gives the same text.
func TestHealthMemoryRoundTrip(t *testing.T) {
	text := "L committee_meeting 2026-05 y;L general_meeting 2026-Q2 r;S 11 theme_day 2026-05 r 6;" +
		"S 1000000 theme_day 2026-05 v 7 o;S 9 * 2026-Q2 g 0;S 9 * 2026 g 3"
	m := storage.ReadMemory([]byte(text))
	var got []string
	for _, l := range m.Lights {
		got = append(got, string(l.Obligation)+"/"+l.Period.Key()+"/"+string(l.Light))
	}
	for _, x := range m.Sent {
		got = append(got, fmt.Sprintf("%d/%s/%s/%s/%d/%v", x.Person, x.Obligation, x.Period.Key(), x.Level, x.Slot, x.Organiser))
	}
	want := "committee_meeting/2026-05/yellow general_meeting/2026-Q2/red 11/theme_day/2026-05/red/6/false " +
		"1000000/theme_day/2026-05/resolved/7/true 9/*/2026-Q2/green/0/false 9/*/2026/green/3/false"
	if strings.Join(got, " ") != want {
		t.Fatalf("read:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if back := storage.EncodeMemory(m); back != text {
		t.Fatalf("written back:\n%s\nwant\n%s", back, text)
	}
	// What it cannot read it skips.
	bad := storage.ReadMemory([]byte("L a 2026-13 y;L a 2026 x;S x a 2026 r 1;S 1 a 2026 q 1;S 1 a 2026 r 1 z;;L b 2026 r"))
	if len(bad.Sent) != 0 || len(bad.Lights) != 1 || string(bad.Lights[0].Obligation) != "b" {
		t.Fatalf("malformed entries read as %+v", bad)
	}
	// Reading the memory of every unit on each evaluation allocates nothing.
	var into storage.HealthMemory
	raw := []byte(text)
	if n := testing.AllocsPerRun(100, func() { storage.ReadMemoryInto(raw, &into) }); n != 0 {
		t.Fatalf("reading the memory allocates %.0f times", n)
	}
}
