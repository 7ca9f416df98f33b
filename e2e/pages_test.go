package e2e

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// pageAll walks a list route page by page and returns each item's key in
// the order served; it fails on a page larger than limit or a loop.
// between, when given, runs after each page (writes while paging).
func pageAll(t *testing.T, h *H, path, field, token string, limit int, key func(map[string]any) string, between ...func()) []string {
	t.Helper()
	var keys []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: no end of pages", path)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		q := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		code, body := h.api("GET", q, token, nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %v", q, code, body)
		}
		items, _ := body[field].([]any)
		if len(items) > limit {
			t.Fatalf("GET %s: %d items on a page of %d", q, len(items), limit)
		}
		for _, it := range items {
			keys = append(keys, key(it.(map[string]any)))
		}
		next, present := body["next_cursor"]
		if !present {
			t.Fatalf("GET %s: no next_cursor field", q)
		}
		if next == nil {
			return keys
		}
		if len(items) != limit {
			t.Fatalf("GET %s: a short page (%d) that is not the last", q, len(items))
		}
		cursor = next.(string)
		for _, f := range between {
			f()
		}
	}
}

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func num(m map[string]any, k string) string { return fmt.Sprint(m[k]) }

// exactlyOnce checks got has every want key once, in want's order.
func exactlyOnce(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d items over the pages, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: item %d is %s, want %s", what, i, got[i], want[i])
		}
	}
}

// Paging through 250 rows of each kind of list gives each row exactly once,
// in the list's order, whatever the page size (SPEC §7.5 "Doors left open").
func TestPaginationEveryRowOnce(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC))
	h := start(t, withClock(fc))
	h.seed()
	db := h.Srv.Store.DB()
	// 250 villagers (people are listed by unit, role, name).
	var csv strings.Builder
	csv.WriteString("name,phone,role,unit_code,household\n")
	for i := 0; i < 250; i++ {
		fmt.Fprintf(&csv, "村民%03d,139%08d,villager,QA-RZ-XZ,P%03d\n", i, i, i)
	}
	file := filepath.Join(t.TempDir(), "villagers.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("import", "people", file)
	// 250 check-ins over 5 days (ties on the date are ordered by id), 250
	// claims, 250 audit entries.
	if _, err := db.ExecContext(h.Ctx, `
		INSERT INTO checkins (branch_id, held_on, topic, source)
		SELECT (SELECT id FROM units WHERE code = 'QA-RZ-XZ-B1'), DATE '2026-12-01' + (g % 5), '学习' || g, 'api'
		FROM generate_series(1, 250) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(h.Ctx, `
		INSERT INTO claims (village_id, household_id, item_code, item_name, category, points, claimed_at)
		SELECT h.unit_id, h.id, 'B02', '参加志愿服务', '道德建设类', 2, now()
		FROM households h CROSS JOIN generate_series(1, 2) g
		WHERE h.code LIKE 'P%' AND h.code <= 'P124'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(h.Ctx, `
		INSERT INTO audit_log (actor_id, actor, action, subject, allowed, details)
		SELECT (SELECT id FROM people WHERE phone = '13800000010'), 'tg:1', 'test.page', 'n:' || g, true, '{}'
		FROM generate_series(1, 250) g`); err != nil {
		t.Fatal(err)
	}
	admin := h.token("QA", "admin")

	var want []string
	rows, err := db.QueryContext(h.Ctx, `SELECT id FROM checkins ORDER BY held_on DESC, id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		want = append(want, fmt.Sprint(id))
	}
	rows.Close()
	if len(want) != 250 {
		t.Fatalf("%d check-ins seeded", len(want))
	}
	for _, limit := range []int{100, 7} {
		exactlyOnce(t, "checkins", pageAll(t, h, "/api/v1/checkins?unit=QA", "checkins", admin, limit, func(m map[string]any) string { return num(m, "id") }), want)
	}

	want = want[:0]
	if err := db.SelectContext(h.Ctx, &want, `SELECT id::text AS k FROM claims ORDER BY claims.id DESC`); err != nil || len(want) != 250 {
		t.Fatalf("claims seeded: %d %v", len(want), err)
	}
	exactlyOnce(t, "claims", pageAll(t, h, "/api/v1/claims?unit=QA", "claims", admin, 100, func(m map[string]any) string { return num(m, "id") }), want)

	want = want[:0]
	if err := db.SelectContext(h.Ctx, &want, `SELECT id::text AS k FROM audit_log WHERE action = 'test.page' ORDER BY audit_log.id DESC`); err != nil || len(want) != 250 {
		t.Fatalf("audit seeded: %d %v", len(want), err)
	}
	// Entries written while paging (newer than the first page) neither
	// repeat nor push one out.
	more := func() {
		if _, err := db.ExecContext(h.Ctx, `INSERT INTO audit_log (actor_id, actor, action, subject, allowed, details)
			SELECT (SELECT id FROM people WHERE phone = '13800000010'), 'tg:1', 'test.page', 'late', true, '{}'`); err != nil {
			t.Fatal(err)
		}
	}
	exactlyOnce(t, "audit", pageAll(t, h, "/api/v1/audit?action=test.page", "entries", admin, 100, func(m map[string]any) string { return num(m, "id") }, more), want)

	// People: the whole list in one page is the order the pages must keep.
	code, all := h.api("GET", "/api/v1/people?unit=QA-RZ-XZ&role=villager&limit=1000", admin, nil)
	if code != 200 || all["next_cursor"] != nil {
		t.Fatalf("one page of people: %d %v", code, all["next_cursor"])
	}
	want = want[:0]
	for _, it := range all["people"].([]any) {
		m := it.(map[string]any)
		want = append(want, num(m, "person_id"))
	}
	if len(want) < 250 {
		t.Fatalf("%d villagers listed", len(want))
	}
	exactlyOnce(t, "people", pageAll(t, h, "/api/v1/people?unit=QA-RZ-XZ&role=villager", "people", admin, 100, func(m map[string]any) string { return num(m, "person_id") }), want)

	// Lists computed whole are cut after the cursor's item: small pages
	// give the one-page list again.
	for _, l := range []struct {
		path, field string
		key         func(map[string]any) string
	}{
		{"/api/v1/lights?unit=QA", "lights", func(m map[string]any) string {
			return num(m, "branch") + "|" + num(m, "group") + "|" + num(m, "obligation") + "|" + num(m, "period")
		}},
		{"/api/v1/units?unit=QA", "units", func(m map[string]any) string { return num(m, "code") }},
	} {
		code, whole := h.api("GET", l.path+"&limit=1000", admin, nil)
		if code != 200 || whole["next_cursor"] != nil {
			t.Fatalf("%s: %d %v", l.path, code, whole["next_cursor"])
		}
		want = want[:0]
		for _, it := range whole[l.field].([]any) {
			want = append(want, l.key(it.(map[string]any)))
		}
		if len(want) < 8 {
			t.Fatalf("%s: only %d items", l.path, len(want))
		}
		exactlyOnce(t, l.path, pageAll(t, h, l.path, l.field, admin, 3, l.key), want)
	}

	// Bad paging is a 400 with a reason, never a 500.
	for _, q := range []string{"/api/v1/people?limit=0", "/api/v1/people?limit=1001", "/api/v1/people?limit=x",
		"/api/v1/people?cursor=!!!", "/api/v1/checkins?cursor=" + encodeCursor("2026-13-01/5"), "/api/v1/claims?cursor=" + encodeCursor("abc"),
		"/api/v1/audit?cursor=" + encodeCursor("-3"), "/api/v1/people?cursor=" + encodeCursor("no such person")} {
		if code, body := h.api("GET", q, admin, nil); code != 400 || body["error"] == "" {
			t.Errorf("GET %s: %d %v, want 400 with a reason", q, code, body["error"])
		}
	}
}
