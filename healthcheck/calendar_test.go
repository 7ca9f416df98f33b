package healthcheck_test

import (
	"strings"
	"testing"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/tabular"
)

func hcOfficialCalendar(c *config.Config) { c.Healthcheck.Calendar = "official" }

// TestNoticesFollowTheOfficialCalendar: October 2026 ends on a Saturday, so
// its 支委会 is due at the end of Monday 2 November; nothing goes out at the
// weekend; the county is added after 5 working days red.
func TestNoticesFollowTheOfficialCalendar(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 2, 10, 0), hcOfficialCalendar)

	_, ds := f.run(hcAt(2026, 11, 2, 10, 0))
	for name, d := range ds {
		if strings.Contains(hcLevels(d), "red") {
			t.Fatalf("Monday 2 November: %s got %s before the moved due time", name, hcLevels(d))
		}
	}
	_, ds = f.run(hcAt(2026, 11, 3, 10, 0))
	hcExpect(t, "first red", ds, map[string]string{"王书记": "red", "李副书记": "red", "赵委员": "red@0"})
	if !strings.Contains(ds["王书记"].Texts()[0], "截止 2026-11-02") {
		t.Errorf("the moved due date is not shown: %q", ds["王书记"].Texts()[0])
	}

	ev, ds := f.run(hcAt(2026, 11, 7, 10, 0))
	if !ev.Deferred || len(ds) != 0 {
		t.Fatalf("Saturday: deferred %v, %d digests", ev.Deferred, len(ds))
	}
	// 3, 4, 5, 6 and 9 November are the 5 working days.
	_, ds = f.run(hcAt(2026, 11, 9, 10, 0))
	if _, ok := ds["钱部长"]; ok {
		t.Fatal("the county was told after 4 working days")
	}
	_, ds = f.run(hcAt(2026, 11, 10, 10, 0))
	if d, ok := ds["钱部长"]; !ok || hcLevels(d) != "red@1" || !strings.Contains(d.Texts()[0], "逾期超过 5 个工作日") {
		t.Fatalf("county on the 6th working day: %+v", ds["钱部长"])
	}
}

// TestFirstRedAndEscalationNeverTogether: a county evaluated for the first
// time long after a due time gets the level-0 notices first.
func TestFirstRedAndEscalationNeverTogether(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 20, 10, 0))
	_, ds := f.run(hcAt(2026, 11, 20, 10, 0))
	if _, ok := ds["钱部长"]; ok || !strings.Contains(hcLevels(ds["赵委员"]), "red@0") {
		t.Fatalf("first evaluation: county %v, township %q", ok, hcLevels(ds["赵委员"]))
	}
	_, ds = f.run(hcAt(2026, 11, 20, 10, 15))
	if d, ok := ds["钱部长"]; !ok || hcLevels(d) != "red@1" {
		t.Fatalf("next evaluation: county %+v", ds)
	}
}

// TestMissingCalendarToldOnce: from December on, the top unit's organisers
// hear once that next year's 放假调休 is missing; an import ends it.
func TestMissingCalendarToldOnce(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 30, 10, 0), hcOfficialCalendar)
	count := func() (n int, text string) {
		t.Helper()
		rows, err := f.st.DB().QueryContext(f.ctx, `SELECT chat_id, payload->>'text' FROM outbox WHERE kind = 'calendar_missing'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var chat int64
			if err := rows.Scan(&chat, &text); err != nil {
				t.Fatal(err)
			}
			if chat != 900 {
				t.Fatalf("told chat %d, want the county organiser's 900", chat)
			}
			n++
		}
		return n, text
	}
	f.run(hcAt(2026, 11, 30, 10, 0))
	if n, _ := count(); n != 0 {
		t.Fatalf("told in November: %d", n)
	}
	f.run(hcAt(2026, 12, 1, 10, 0))
	f.run(hcAt(2026, 12, 2, 10, 0))
	n, text := count()
	if n != 1 || !strings.Contains(text, "2027年的放假调休安排") {
		t.Fatalf("told %d times: %q", n, text)
	}

	tab, err := tabular.ReadCSV(strings.NewReader("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-20,班,春节调休\n"), "2027.csv")
	if err != nil {
		t.Fatal(err)
	}
	res, err := healthcheck.Of(f.app).ImportHolidays(f.ctx, domain.Operator, tab)
	if err != nil || res.Rows != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	cal, err := healthcheck.Of(f.app).Calendar(f.ctx)
	if err != nil || !cal.Knows(2027) {
		t.Fatalf("2027 not known after import: %v %v", cal, err)
	}
}

func TestImportHolidaysRefusesBadRows(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 30, 10, 0), hcOfficialCalendar)
	for _, tt := range []struct{ csv, want string }{
		{"date,kind\n2027-13-01,holiday\n", "2027-13-01"},
		{"date,kind\n2027-01-01,maybe\n", "maybe"},
		{"date,kind\n2027-01-04,workday\n", "weekend"},
		{"date,kind\n2027-01-01,holiday\n2027-01-01,holiday\n", "row 2"},
		{"day,kind\n2027-01-01,holiday\n", "date"},
	} {
		tab, err := tabular.ReadCSV(strings.NewReader(tt.csv), "x.csv")
		if err == nil {
			_, err = healthcheck.Of(f.app).ImportHolidays(f.ctx, domain.Operator, tab)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want an error naming %q", tt.csv, err, tt.want)
		}
	}
	cal, err := healthcheck.Of(f.app).Calendar(f.ctx)
	if err != nil || cal.Knows(2027) {
		t.Fatalf("a refused import left 2027 behind: %v", err)
	}
}
