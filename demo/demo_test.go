package demo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/demo"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// ciLoc is the county's zone, Asia/Shanghai.
var ciLoc = testdb.Loc

// demoApp is an App on a fresh database whose clock stands at now.
func demoApp(t *testing.T, now time.Time) (*app.App, *storage.Store) {
	t.Helper()
	st := testdb.New(t)
	return app.New(st, config.Default(), func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil))), st
}

// The demo county owes from the first day of the month three months back,
// also when today is a day that month does not have (12-31 → 09-01, not
// "09-31" = 10-01), and by the local calendar (00:00 on 1 March in
// Shanghai is still February in UTC). A second load changes nothing.
func TestDemoStartsThreeMonthsBack(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 12, 31, 23, 59, 0, 0, ciLoc), "2026-09-01"},
		{time.Date(2026, 5, 31, 12, 0, 0, 0, ciLoc), "2026-02-01"},
		{time.Date(2027, 3, 1, 0, 0, 0, 0, ciLoc), "2026-12-01"},
	}
	for _, tc := range cases {
		a, st := demoApp(t, tc.now)
		if _, err := demo.Of(a).LoadDemo(ctx, domain.Operator); err != nil {
			t.Fatal(err)
		}
		before := demoCounts(t, st)
		if d, err := demo.Of(a).LoadDemo(ctx, domain.Operator); err != nil || !d.Existing {
			t.Fatalf("second load: existing %v, %v", d.Existing, err)
		}
		if after := demoCounts(t, st); after != before {
			t.Fatalf("a second load changed the county: %s, then %s", before, after)
		}
		units, err := st.AllUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range units {
			if got := u.StartedOn.Format(time.DateOnly); got != tc.want {
				t.Fatalf("demo loaded at %s: %s starts %s, want %s", tc.now, u.Code, got, tc.want)
			}
		}
	}
}

// demoCounts counts what a demo load wrote.
func demoCounts(t *testing.T, st *storage.Store) string {
	t.Helper()
	var out string
	for _, table := range []string{"units", "people", "roles", "households", "checkins", "checkin_items", "claims", "point_ledger", "chat_links"} {
		var n int
		if err := st.DB().Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out += fmt.Sprintf("%s=%d ", table, n)
	}
	return out
}

// demoMix counts the lights of the county's items (every listed period of
// every obligation of every branch and party group) and branches at the
// App's clock.
func demoMix(t *testing.T, a *app.App, st *storage.Store) (items, branches health.Counts) {
	t.Helper()
	ev, err := healthcheck.Of(a).Evaluate(context.Background(), domain.System, a.Now(), "QA")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ev.Lights {
		items.Add(l.Light)
	}
	return items, ev.Counts
}

// The same seed gives the same county, with the same lights at the same
// instant; another seed another county.
func TestDemoDeterministic(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 16, 10, 0, 0, 0, ciLoc)
	type result struct {
		counts          string
		units           []string
		items, branches health.Counts
	}
	load := func(seed uint64) result {
		a, st := demoApp(t, now)
		if _, err := demo.Of(a).LoadDemoSeed(ctx, domain.Operator, seed); err != nil {
			t.Fatal(err)
		}
		var units []string
		if err := st.DB().Select(&units, `SELECT concat_ws('|', code, name, kind, branch_type, members, committee, theme_day, theme_weekday, term_end)
			FROM units ORDER BY code`); err != nil {
			t.Fatal(err)
		}
		r := result{counts: demoCounts(t, st), units: units}
		r.items, r.branches = demoMix(t, a, st)
		return r
	}
	first, second := load(demo.DemoSeed), load(demo.DemoSeed)
	if first.counts != second.counts {
		t.Fatalf("two loads of one seed wrote\n%s\n%s", first.counts, second.counts)
	}
	if !slices.Equal(first.units, second.units) {
		t.Fatal("two loads of one seed made different units")
	}
	if first.items != second.items || first.branches != second.branches {
		t.Fatalf("two loads of one seed light differently: items %+v / %+v, branches %+v / %+v", first.items, second.items, first.branches, second.branches)
	}
	rows := func(x, y [][]string) bool {
		return slices.EqualFunc(x, y, func(a, b []string) bool { return slices.Equal(a, b) })
	}
	if !rows(demo.BuildDemoSeed(7).People, demo.BuildDemoSeed(7).People) {
		t.Fatal("BuildDemoSeed(7) differs from itself")
	}
	if other := demo.BuildDemoSeed(demo.DemoSeed + 1); rows(other.Units, demo.BuildDemo().Units) {
		t.Fatal("another seed gives the same units")
	}
}

// The county is shaped like Qian'an (SPEC §7.6), and at a fixed instant
// its board is mostly green, with some yellow and a few red.
func TestDemoShapeAndMix(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 16, 10, 0, 0, 0, ciLoc)
	a, st := demoApp(t, now)
	if _, err := demo.Of(a).LoadDemo(ctx, domain.Operator); err != nil {
		t.Fatal(err)
	}
	units, err := st.AllUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var townships []string
	kinds := map[string]int{}
	types := map[string]int{}
	byID := map[int64]domain.Unit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	village := regexp.MustCompile(`^\p{Han}字村$`)
	noCommittee, groups := 0, map[int64]int{}
	for _, u := range units {
		kinds[u.Kind]++
		switch u.Kind {
		case domain.KindTownship:
			townships = append(townships, u.Name)
		case domain.KindVillage:
			if !village.MatchString(u.Name) {
				t.Errorf("village %s is named %q, not by a 千字文 character", u.Code, u.Name)
			}
		case domain.KindGroup:
			groups[*u.ParentID]++
		case domain.KindBranch:
			if u.BranchType != nil {
				types[*u.BranchType]++
			}
			if u.Committee != nil && !*u.Committee {
				noCommittee++
				if u.Members == nil || *u.Members >= 7 {
					t.Errorf("%s has no committee but %v members", u.Code, u.Members)
				}
			}
			if u.BranchType != nil && *u.BranchType == "compound" && byID[*u.ParentID].Kind != domain.KindCommunity {
				t.Errorf("compound branch %s is not under a community", u.Code)
			}
		}
	}
	slices.Sort(townships)
	want := []string{"乾安镇", "大布苏镇", "水字镇", "让字镇", "所字镇", "安字镇", "余字乡", "道字乡", "严字乡", "赞字乡"}
	slices.Sort(want)
	if !slices.Equal(townships, want) {
		t.Fatalf("townships %v, want %v", townships, want)
	}
	if kinds[domain.KindBranch] != 446 || types["compound"] != 122 {
		t.Fatalf("%d branches of which %d compound, want 446 and 122 (%v)", kinds[domain.KindBranch], types["compound"], types)
	}
	if types["property"] == 0 || types["enterprise"] == 0 || types["institution"] == 0 || types["community"] == 0 {
		t.Fatalf("branch types %v: want property, enterprise, institution and community branches too", types)
	}
	if v := kinds[domain.KindVillage]; v < 150 || v > 250 || kinds[domain.KindCommunity] == 0 {
		t.Fatalf("%d villages and %d communities", v, kinds[domain.KindCommunity])
	}
	if noCommittee < 20 || len(groups) < 20 {
		t.Fatalf("%d branches without a committee and %d with party groups: want both", noCommittee, len(groups))
	}
	for id, n := range groups {
		if b := byID[id]; n < 2 || b.Members == nil || *b.Members < 25 {
			t.Errorf("%s has %d party groups and %v members", b.Code, n, b.Members)
		}
	}
	var headless, households, pending, approved, publicity, redemptions int
	db := st.DB()
	for q, dst := range map[string]*int{
		`SELECT count(*) FROM households`:                             &households,
		`SELECT count(*) FROM households WHERE head_id IS NULL`:       &headless,
		`SELECT count(*) FROM claims WHERE status = 'pending'`:        &pending,
		`SELECT count(*) FROM claims WHERE status = 'approved'`:       &approved,
		`SELECT count(*) FROM point_ledger WHERE effective_at > $1`:   &publicity,
		`SELECT count(*) FROM point_ledger WHERE kind = 'redemption'`: &redemptions,
	} {
		args := []any{}
		if regexp.MustCompile(`\$1`).MatchString(q) {
			args = append(args, now)
		}
		if err := db.Get(dst, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if households < 1000 || headless != 0 || pending == 0 || approved == 0 || publicity == 0 || redemptions == 0 {
		t.Fatalf("%d households (%d without a head), claims %d pending, %d approved, %d entries in 公示, %d redemptions",
			households, headless, pending, approved, publicity, redemptions)
	}
	var negative int
	if err := db.Get(&negative, `SELECT count(*) FROM (SELECT household_id FROM point_ledger WHERE effective_at <= $1
		GROUP BY household_id HAVING sum(points) < 0) x`, now); err != nil || negative != 0 {
		t.Fatalf("%d households below zero (%v)", negative, err)
	}

	items, branches := demoMix(t, a, st)
	t.Logf("items %+v, branches %+v", items, branches)
	n := items.Total()
	if n == 0 || items.Green*100 <= 70*n || items.Yellow == 0 || items.Red == 0 || items.Red*100 >= 10*n {
		t.Fatalf("item lights %+v: want green > 70%%, some yellow, red > 0 and < 10%%", items)
	}
	if m := branches.Total(); m != 446 || branches.Green*2 <= m || branches.Yellow == 0 || branches.Red == 0 || branches.Red*100 >= 15*m {
		t.Fatalf("branch lights %+v: want 446 branches, most green, some yellow, a few red", branches)
	}
}

// The mix holds on the awkward days too: New Year's night, when every
// yearly period of the year just ended falls due, and the last evening of a
// quarter.
func TestDemoMixOnEdgeDays(t *testing.T) {
	ctx := context.Background()
	for _, now := range []time.Time{
		time.Date(2027, 1, 1, 0, 30, 0, 0, ciLoc),
		time.Date(2026, 9, 30, 22, 0, 0, 0, ciLoc),
	} {
		a, st := demoApp(t, now)
		if _, err := demo.Of(a).LoadDemo(ctx, domain.Operator); err != nil {
			t.Fatal(err)
		}
		items, branches := demoMix(t, a, st)
		t.Logf("%s: items %+v, branches %+v", now, items, branches)
		n, m := items.Total(), branches.Total()
		if items.Green*100 <= 70*n || items.Yellow == 0 || items.Red == 0 || items.Red*100 >= 10*n {
			t.Errorf("%s: item lights %+v", now, items)
		}
		if m != 446 || branches.Green*2 <= m || branches.Red == 0 || branches.Red*100 >= 15*m {
			t.Errorf("%s: branch lights %+v", now, branches)
		}
	}
}
