package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// pointsVillage makes county QA > village QA-XZ with household H001.
func pointsVillage(t *testing.T, s *storage.Store) (county, village domain.Unit, hh int64) {
	t.Helper()
	ctx := context.Background()
	var err error
	if county, err = s.CreateUnit(ctx, "QA", "乾安县", "county", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if village, err = s.CreateUnit(ctx, "QA-XZ", "幸福村", "village", &county.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if hh, err = s.EnsureHousehold(ctx, village.ID, "H001"); err != nil {
		t.Fatal(err)
	}
	return county, village, hh
}

func TestPointLedgerIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, v, hh := pointsVillage(t, s)
	now := time.Now()
	id, err := s.AppendPointEntry(ctx, storage.PointEntry{HouseholdID: hh, VillageID: v.ID, Kind: storage.EntryAward, Points: 5,
		RecordedAt: now, EffectiveAt: now, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE point_ledger SET points = 500 WHERE id = $1`,
		`DELETE FROM point_ledger WHERE id = $1`,
		`TRUNCATE point_ledger`,
	} {
		var err error
		if strings.Contains(q, "$1") {
			_, err = s.DB().ExecContext(ctx, q, id)
		} else {
			_, err = s.DB().ExecContext(ctx, q)
		}
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: want the append-only refusal, got %v", q, err)
		}
	}
	if b, _, err := s.PointBalance(ctx, hh, now); err != nil || b != 5 {
		t.Fatalf("balance %d %v", b, err)
	}
	// A correction is a reversing entry, at most one per entry.
	rev := storage.PointEntry{HouseholdID: hh, VillageID: v.ID, Kind: storage.EntryReversal, Points: -5, Reverses: &id,
		RecordedAt: now, EffectiveAt: now, Actor: "test"}
	if _, err := s.AppendPointEntry(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendPointEntry(ctx, rev); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("second reversal: %v", err)
	}
	// The schema's own checks: a redemption spends, a veto is worth 0.
	if _, err := s.AppendPointEntry(ctx, storage.PointEntry{HouseholdID: hh, VillageID: v.ID, Kind: storage.EntryRedemption, Points: 3,
		RecordedAt: now, EffectiveAt: now}); err == nil {
		t.Fatal("a positive redemption was stored")
	}
}

func TestSettlementsAreStoredOnceAndNeverChange(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, v, _ := pointsVillage(t, s)
	now := time.Now()
	st := storage.Settlement{VillageID: v.ID, Period: "2026-11", Kind: "monthly", Start: now.Add(-time.Hour), End: now, ClosedAt: now}
	id, ins, err := s.InsertSettlement(ctx, st, []storage.SettlementRow{{Rank: 1, Household: "H001", Points: 5}})
	if err != nil || !ins || id == 0 {
		t.Fatalf("first: %d %v %v", id, ins, err)
	}
	if _, ins, err := s.InsertSettlement(ctx, st, nil); err != nil || ins {
		t.Fatalf("second: %v %v", ins, err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE settlements SET households = 9`); err == nil {
		t.Fatal("a settlement was updated")
	}
	ss, err := s.Settlements(ctx, storage.SettlementFilter{})
	if err != nil || len(ss) != 1 {
		t.Fatalf("settlements %v %v", ss, err)
	}
	rows, err := ss[0].Ranking()
	if err != nil || len(rows) != 1 || rows[0].Household != "H001" || rows[0].Points != 5 {
		t.Fatalf("ranking %+v %v", rows, err)
	}
}

func TestCatalogScopes(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	county, v, _ := pointsVillage(t, s)
	if _, _, err := s.CatalogFor(ctx, v.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("nothing imported: %v", err)
	}
	def := points.DefaultCatalog()
	save := func(unit *int64, items []points.Item) {
		t.Helper()
		if err := s.InTx(ctx, func(tx *storage.Store) error { _, err := tx.SaveCatalog(ctx, unit, "x.csv", items); return err }); err != nil {
			t.Fatal(err)
		}
	}
	save(nil, def)
	got, src, err := s.CatalogFor(ctx, v.ID)
	if err != nil || len(got) != 39 || src.UnitID != nil {
		t.Fatalf("global: %d %+v %v", len(got), src, err)
	}
	// Round trip keeps caps, aliases and flags.
	if got[0].Code != "A01" || len(got[0].Caps) != 2 || got[0].Caps[1] != (points.Cap{N: 8, Per: points.Month}) || len(got[0].Aliases) != 3 || !got[0].Claimable {
		t.Fatalf("A01 round trip: %+v", got[0])
	}
	save(&county.ID, def[:10])
	save(&v.ID, def[:3])
	if got, _, _ := s.CatalogFor(ctx, v.ID); len(got) != 3 {
		t.Fatalf("village override: %d items", len(got))
	}
	if got, _, _ := s.CatalogFor(ctx, county.ID); len(got) != 10 {
		t.Fatalf("county: %d items", len(got))
	}
	if err := s.ClearCatalog(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.CatalogFor(ctx, v.ID); len(got) != 10 {
		t.Fatalf("after clearing the override: %d items", len(got))
	}
}
