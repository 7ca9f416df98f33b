package villagepoints_test

import (
	"slices"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

// The yearly settlement sums the village's months settled already, frozen
// as they were announced, and reads the ledger only for the months no
// settlement covers, village by village.
func TestYearlySettlementSumsSettledMonths(t *testing.T) {
	f := newPointsFixture(t, nil) // points.settle: [month, year]
	xz1, xz2 := f.household("QA-RZ-XZ", "H001"), f.household("QA-RZ-XZ", "H002")
	hx1 := f.household("QA-RZ-HX", "H001")
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, testdb.Loc) }
	add := func(hh storage.Household, kind string, n int, at time.Time) {
		t.Helper()
		if _, err := f.a.Store.AppendPointEntry(f.ctx, storage.PointEntry{HouseholdID: hh.ID, VillageID: hh.VillageID, Kind: kind, Points: n,
			ItemCode: "B01", RecordedAt: at, EffectiveAt: at, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	settle := func(at time.Time, want ...string) {
		t.Helper()
		res, err := villagepoints.Of(f.a).Settle(f.ctx, domain.System, at)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res.Runs {
			if r.Settled > 0 {
				got = append(got, r.Period)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("settle at %s settled %v, want %v (%+v)", at, got, want, res)
		}
	}
	add(xz2, storage.EntryAward, 5, day(time.January, 10))   // January: never settled, read from the ledger
	add(xz1, storage.EntryAward, 2, day(time.March, 3))      // March: never settled in 幸福村
	add(xz1, storage.EntryAward, 3, day(time.June, 5))       // June: settled
	add(xz1, storage.EntryRedemption, -1, day(time.June, 6)) // redemptions do not count
	add(xz1, storage.EntryDeduction, -2, day(time.June, 7))
	add(hx1, storage.EntryAward, 4, day(time.March, 9))
	add(hx1, storage.EntryAward, 6, day(time.October, 9)) // October: never settled
	add(xz1, storage.EntryAward, 4, day(time.November, 2))
	f.set(day(time.December, 10))
	add(xz1, storage.EntryAward, 1, day(time.December, 10))
	add(xz2, storage.EntryAward, 2, day(time.December, 11))

	settle(time.Date(2026, 7, 1, 0, 5, 0, 0, testdb.Loc), "2026-06")
	settle(time.Date(2026, 12, 1, 0, 5, 0, 0, testdb.Loc), "2026-11")
	// 和兴村 alone has March settled, frozen at 7 where its ledger says 4.
	hx, err := f.a.Store.UnitByCode(f.ctx, "QA-RZ-HX")
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, testdb.Loc)
	if _, ok, err := f.a.Store.InsertSettlement(f.ctx, storage.Settlement{VillageID: hx.ID, Period: "2026-03", Kind: "monthly",
		Start: march, End: march.AddDate(0, 1, 0), ClosedAt: march.AddDate(0, 1, 0)},
		[]storage.SettlementRow{{Rank: 1, Household: "H001", Points: 7}}); err != nil || !ok {
		t.Fatalf("March settlement %v %v", ok, err)
	}
	// An entry appended to June after June was settled: the year keeps
	// June as it was announced.
	add(xz1, storage.EntryAward, 100, day(time.June, 20))

	settle(time.Date(2027, 1, 1, 0, 5, 0, 0, testdb.Loc), "2026-12", "2026")
	points := map[string]int{}
	for _, village := range []string{"QA-RZ-XZ", "QA-RZ-HX"} {
		ss, err := villagepoints.Of(f.a).Settlements(f.ctx, domain.Operator, village, "2026")
		if err != nil || len(ss) != 1 || ss[0].Kind != "yearly" {
			t.Fatalf("%s yearly %+v %v", village, ss, err)
		}
		rows, err := ss[0].Ranking()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			points[village+" "+r.Household] = r.Points
		}
	}
	want := map[string]int{
		"QA-RZ-XZ H001": 2 + 3 - 2 + 4 + 1, // March (ledger) + June (settled) + November (settled) + December (settled)
		"QA-RZ-XZ H002": 5 + 2,             // January (ledger) + December (settled)
		"QA-RZ-HX H001": 7 + 6,             // March (settled) + October (ledger)
	}
	if len(points) != len(want) {
		t.Fatalf("yearly points %v, want %v", points, want)
	}
	for k, n := range want {
		if points[k] != n {
			t.Fatalf("yearly points %v, want %v", points, want)
		}
	}
}
