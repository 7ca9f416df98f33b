package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// ledgerSums compares every household's maintained total (point_totals)
// with the sum of its ledger entries, and fails on any difference or on a
// household with entries and no total.
func ledgerSums(t *testing.T, s *storage.Store) map[int64]int {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), `
		SELECT l.household_id, sum(l.points)::int, t.points
		FROM point_ledger l LEFT JOIN point_totals t ON t.household_id = l.household_id
		GROUP BY l.household_id, t.points ORDER BY l.household_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	sums := map[int64]int{}
	for rows.Next() {
		var hh int64
		var sum int
		var total *int
		if err := rows.Scan(&hh, &sum, &total); err != nil {
			t.Fatal(err)
		}
		if total == nil || *total != sum {
			t.Errorf("household %d: ledger sum %d, maintained total %v", hh, sum, total)
		}
		sums[hh] = sum
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var orphans int
	if err := s.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM point_totals t
		WHERE NOT EXISTS (SELECT 1 FROM point_ledger l WHERE l.household_id = t.household_id)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("totals without entries: %d %v", orphans, err)
	}
	return sums
}

func TestPointTotalsEqualTheLedgerSum(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, v, hh := pointsVillage(t, s)
	other, err := s.EnsureHousehold(ctx, v.ID, "H002")
	if err != nil {
		t.Fatal(err)
	}
	empty, err := s.EnsureHousehold(ctx, v.ID, "H003")
	if err != nil {
		t.Fatal(err)
	}
	// The instant /points reads at: the last minute of a quarter, whatever
	// the test's date.
	at := time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC)
	add := func(hh int64, kind string, pts int, effective time.Time, reverses *int64) int64 {
		t.Helper()
		id, err := s.AppendPointEntry(ctx, storage.PointEntry{HouseholdID: hh, VillageID: v.ID, Kind: kind, Points: pts,
			Reverses: reverses, RecordedAt: at.Add(-48 * time.Hour), EffectiveAt: effective, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	past, future := at.Add(-time.Hour), at.Add(72*time.Hour)
	add(hh, storage.EntryAward, 5, past, nil)
	ded := add(hh, storage.EntryDeduction, -3, past, nil)
	add(hh, storage.EntryReversal, 3, past, &ded) // the deduction cancelled
	add(hh, storage.EntryRedemption, -2, at, nil) // effective exactly at: counted in the balance
	add(hh, storage.EntryVeto, 0, past, nil)
	award := add(hh, storage.EntryAward, 4, future, nil) // in publicity (公示)
	add(hh, storage.EntryAward, 6, future, nil)
	add(hh, storage.EntryReversal, -4, future, &award) // an objection upheld during publicity
	add(other, storage.EntryAward, 7, past, nil)
	// One statement for two households, one of them twice: the trigger adds
	// per household and statement.
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO point_ledger (household_id, village_id, kind, points, recorded_at, effective_at, actor)
		VALUES ($1, $3, 'award', 2, $4, $4, 'bulk'), ($2, $3, 'deduction', -1, $4, $4, 'bulk'), ($1, $3, 'award', 1, $5, $5, 'bulk')`,
		hh, other, v.ID, past, future); err != nil {
		t.Fatal(err)
	}

	sums := ledgerSums(t, s)
	// 5 -3 +3 -2 +0 +2 in effect; 4 +6 -4 +1 in publicity.
	if sums[hh] != 12 || sums[other] != 6 {
		t.Fatalf("ledger sums %v", sums)
	}
	if b, p, err := s.PointBalance(ctx, hh, at); err != nil || b != 5 || p != 7 {
		t.Fatalf("PointBalance: balance %d publicity %d %v, want 5 and 7", b, p, err)
	}
	snap, err := s.HouseholdPoints(ctx, hh, 0, at, 3)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Balance != 5 || snap.Publicity != 7 || snap.Code != "H001" || len(snap.Entries) != 3 {
		t.Fatalf("snapshot %+v", snap)
	}
	// Newest first: the bulk statement's entries, then the reversal.
	if e := snap.Entries[0]; e.Points != 1 || e.Actor != "bulk" || !e.EffectiveAt.Equal(future) || e.HouseholdCode != "H001" {
		t.Fatalf("newest entry %+v", e)
	}
	if e := snap.Entries[2]; e.Kind != storage.EntryReversal || e.Reverses == nil || *e.Reverses != award || e.Points != -4 ||
		!e.RecordedAt.Equal(at.Add(-48*time.Hour)) || e.ClaimID != nil {
		t.Fatalf("third entry %+v", e)
	}
	// Later, once publicity is over, everything is in the balance.
	if snap, err := s.HouseholdPoints(ctx, hh, 0, future.Add(time.Second), 1); err != nil || snap.Balance != 12 || snap.Publicity != 0 {
		t.Fatalf("after publicity: %+v %v", snap, err)
	}
	// Earlier, before the first entry took effect, nothing is.
	if b, p, err := s.PointBalance(ctx, hh, past.Add(-time.Second)); err != nil || b != 0 || p != 12 {
		t.Fatalf("before: balance %d publicity %d %v", b, p, err)
	}
	if snap, err := s.HouseholdPoints(ctx, empty, 0, at, 3); err != nil || snap.Balance != 0 || snap.Publicity != 0 || len(snap.Entries) != 0 {
		t.Fatalf("household without entries: %+v %v", snap, err)
	}
}

func TestPointTotalsUnderConcurrentInserts(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, v, hh := pointsVillage(t, s)
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	const workers, each = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Half the workers write several entries per transaction.
			err := s.InTx(ctx, func(tx *storage.Store) error {
				for i := 0; i < each; i++ {
					st := tx
					if w%2 == 0 {
						st = s // its own transaction per entry
					}
					pts, eff := w+i, at.Add(-time.Hour)
					if i%3 == 0 {
						eff = at.Add(time.Duration(i) * time.Hour) // in publicity
					}
					if _, err := st.AppendPointEntry(ctx, storage.PointEntry{HouseholdID: hh, VillageID: v.ID, Kind: storage.EntryAward,
						Points: pts, RecordedAt: at, EffectiveAt: eff, Actor: "test"}); err != nil {
						return err
					}
				}
				return nil
			})
			errs <- err
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := 0
	for w := 0; w < workers; w++ {
		for i := 0; i < each; i++ {
			want += w + i
		}
	}
	if sums := ledgerSums(t, s); sums[hh] != want {
		t.Fatalf("ledger sum %d, want %d", sums[hh], want)
	}
	snap, err := s.HouseholdPoints(ctx, hh, 0, at.Add(24*time.Hour), 5)
	if err != nil || snap.Balance != want || snap.Publicity != 0 || len(snap.Entries) != 5 {
		t.Fatalf("snapshot %+v %v", snap, err)
	}
}
