package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func ptr[T any](v T) *T { return &v }

// A branch's attributes: written by an import, kept when a re-import does
// not give them, read back by the unit lookups and the health tree in
// typed columns (any character in a name survives).
func TestUnitBranchAttributes(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	term := time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
	rows := []storage.UnitRow{
		{Code: "QA", Name: "乾安县", Kind: "county"},
		{Code: "QA-B1", Name: "一支部\x1f\x1e", Kind: "branch", ParentCode: "QA", BranchType: ptr("property"), Members: ptr(5),
			Committee: ptr(false), Theme: true, ThemeWeekday: ptr("first-fri"), TermEnd: &term},
		{Code: "QA-B2", Name: "二支部", Kind: "branch", ParentCode: "QA"},
	}
	if _, _, err := s.UpsertUnits(ctx, rows, start); err != nil {
		t.Fatal(err)
	}
	check := func(when string, members, committee int, weekday string, day int) {
		t.Helper()
		u, err := s.UnitByCode(ctx, "QA-B1")
		if err != nil {
			t.Fatal(err)
		}
		if u.BranchType == nil || *u.BranchType != "property" || u.Members == nil || *u.Members != members || u.TermEnd == nil ||
			!u.TermEnd.Equal(term) || u.Committee == nil || (*u.Committee) != (committee == 1) {
			t.Fatalf("%s: unit %+v", when, u)
		}
		found := false
		err = s.HealthTree(ctx, 0, storage.TreeParts{}, func(r *storage.HealthRow) error {
			switch r.Code {
			case "QA-B1":
				found = true
				if r.Name != "一支部\x1f\x1e" || string(r.BranchType) != "property" || r.Members != members ||
					int(r.Committee) != committee || string(r.ThemeWeekday) != weekday || r.ThemeDay != day ||
					!r.TermEnd.Equal(term) || !r.StartedOn.Equal(start) {
					t.Errorf("%s: health row %+v", when, r)
				}
			case "QA-B2":
				if len(r.BranchType) != 0 || r.Members != -1 || r.Committee != -1 || !r.TermEnd.IsZero() || len(r.ThemeWeekday) != 0 || r.ThemeDay != 0 {
					t.Errorf("%s: a branch without attributes reads %+v", when, r)
				}
			}
			return nil
		})
		if err != nil || !found {
			t.Fatalf("%s: health tree: %v (found %v)", when, err, found)
		}
	}
	check("imported", 5, 0, "first-fri", 0)
	// A re-import without the attributes keeps them.
	if _, _, err := s.UpsertUnits(ctx, []storage.UnitRow{{Code: "QA-B1", Name: "一支部\x1f\x1e", Kind: "branch", ParentCode: "QA"}}, start); err != nil {
		t.Fatal(err)
	}
	check("re-imported bare", 5, 0, "first-fri", 0)
	// A day of the month replaces the weekday rule; members change alone.
	if _, _, err := s.UpsertUnits(ctx, []storage.UnitRow{{Code: "QA-B1", Name: "一支部\x1f\x1e", Kind: "branch", ParentCode: "QA",
		Members: ptr(9), Theme: true, ThemeDay: ptr(15)}}, start); err != nil {
		t.Fatal(err)
	}
	check("new day and members", 9, 0, "", 15)
}
