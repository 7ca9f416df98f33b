package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func TestAlbumPhotosJoinTheirCheckin(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	b, err := s.CreateUnit(ctx, "B1", "一支部", "branch", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	add := func(id, chat int64, mg, fileID string) {
		t.Helper()
		err := s.InTx(ctx, func(tx *storage.Store) error {
			if err := tx.LockAlbum(ctx, chat, mg); err != nil {
				return err
			}
			return tx.AddAlbumPhoto(ctx, chat, mg, fileID, id)
		})
		if err != nil {
			t.Fatalf("album photo %d: %v", id, err)
		}
	}
	// Before the check-in exists: remembered.
	add(1, -100, "mg1", "a")
	add(2, -100, "mg1", "b")
	add(3, -200, "mg1", "elsewhere") // same album id, other chat
	ids, err := s.AlbumPhotos(ctx, -100, "mg1")
	if err != nil || strings.Join(ids, ",") != "a,b" {
		t.Fatalf("album photos %v %v", ids, err)
	}
	var id int64
	err = s.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.LockAlbum(ctx, -100, "mg1"); err != nil {
			return err
		}
		id, err = tx.InsertCheckin(ctx, storage.NewCheckin{BranchID: b.ID, HeldOn: "2026-11-20", Evidence: ids,
			MediaGroupID: "mg1", Source: "telegram", ChatID: -100, RecordedAt: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// After: appended to the check-in, once.
	add(4, -100, "mg1", "c")
	add(5, -100, "mg1", "c")
	c, err := s.CheckinByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Evidence, ",") != "a,b,c" {
		t.Fatalf("evidence %v", c.Evidence)
	}
}

func TestCheckinStateChangesAreConditional(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	b, _ := s.CreateUnit(ctx, "B1", "一支部", "branch", nil, time.Now())
	pid, _, err := s.UpsertPerson(ctx, "王书记", "13800000001", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	newCheckin := func() int64 {
		id, err := s.InsertCheckin(ctx, storage.NewCheckin{BranchID: b.ID, HeldOn: "2026-11-20", Present: 3, Total: 5,
			Source: "telegram", RecordedBy: pid, RecordedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InsertCheckinItem(ctx, storage.CheckinItem{CheckinID: id, Obligation: "committee_meeting", Period: "2026-11", UnitID: b.ID}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, c := newCheckin(), newCheckin()
	if last, err := s.LastCheckinBy(ctx, pid); err != nil || last.ID != c || *last.Present != 3 || len(last.Items) != 1 {
		t.Fatalf("last %+v %v", last, err)
	}
	if ok, _ := s.WithdrawCheckin(ctx, c, now); !ok {
		t.Fatal("withdraw")
	}
	if ok, _ := s.WithdrawCheckin(ctx, c, now); ok {
		t.Fatal("withdrawn twice")
	}
	if ok, _ := s.RejectCheckin(ctx, c, pid, "x", now); ok {
		t.Fatal("rejected a withdrawn check-in")
	}
	if done, _ := s.CheckinDone(ctx, b.ID, "committee_meeting", "2026-11"); !done {
		t.Fatal("the other check-in still counts")
	}
	if ok, _ := s.RejectCheckin(ctx, a, pid, "缺照片", now); !ok {
		t.Fatal("reject")
	}
	if done, _ := s.CheckinDone(ctx, b.ID, "committee_meeting", "2026-11"); done {
		t.Fatal("a rejected check-in counts")
	}
	if last, err := s.LastCheckinBy(ctx, pid); err == nil {
		t.Fatalf("no active check-in left, got %d", last.ID)
	}
	rows, err := s.CheckinLedger(ctx, 0)
	if err != nil || len(rows) != 2 || rows[0].RejectReason == nil || *rows[0].RejectReason != "缺照片" || rows[1].WithdrawnAt == nil ||
		rows[0].UnitPath != "一支部" || *rows[0].RecordedBy != "王书记" {
		t.Fatalf("ledger %+v %v", rows, err)
	}

	// A pending check-in is used once.
	pend, err := s.CreatePendingCheckin(ctx, pid, 42, map[string]any{"obligations": []string{"committee_meeting"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx *storage.Store) error {
		p, err := tx.LockPendingCheckin(ctx, pend)
		if err != nil || p.PersonID != pid || p.UsedAt != nil || !strings.Contains(string(p.Request), "committee_meeting") {
			t.Fatalf("pending %+v %v", p, err)
		}
		if ok, _ := tx.UsePendingCheckin(ctx, pend, now); !ok {
			t.Fatal("use")
		}
		if ok, _ := tx.UsePendingCheckin(ctx, pend, now); ok {
			t.Fatal("used twice")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBelowQuorumItemsReadOnlyTheFlaggedItems: every evaluation asks for
// the items below quorum; they are found through the partial index, not
// by reading every check-in item (0.11–0.14 s of the 100,000-branch steady
// tick before migration 00024).
func TestBelowQuorumItemsReadOnlyTheFlaggedItems(t *testing.T) {
	s := testdb.New(t)
	_, b := hcBranch(t, s)
	mustExec(t, s, `INSERT INTO checkins (id, branch_id, held_on, present, total)
		SELECT k, $1, date '2020-01-10' + k, CASE WHEN k = 7 THEN 3 END, CASE WHEN k = 7 THEN 25 END
		FROM generate_series(1, 2000) k`, b.ID)
	mustExec(t, s, `INSERT INTO checkin_items (checkin_id, obligation, period, unit_id, below_quorum)
		SELECT k, o, to_char(date '2020-01-10' + k, 'YYYY-MM-DD'), $1, k = 7 AND o = 'general_meeting'
		FROM generate_series(1, 2000) k CROSS JOIN unnest(array['general_meeting', 'theme_day', 'dues', 'party_lecture', 'committee_meeting']) o`, b.ID)
	mustExec(t, s, `ANALYZE checkin_items`)
	got, err := s.BelowQuorumItems(context.Background(), 0)
	if err != nil || len(got) != 1 || got[0].Obligation != "general_meeting" || got[0].Present != 3 || got[0].Total != 25 {
		t.Fatalf("below quorum: %+v %v", got, err)
	}
	var plan []string
	if err := s.DB().Select(&plan, `EXPLAIN SELECT ci.unit_id FROM checkin_items ci WHERE ci.below_quorum`); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); strings.Contains(p, "Seq Scan on checkin_items") || !strings.Contains(p, "checkin_items_below_quorum_idx") {
		t.Fatalf("the below-quorum lookup reads every item:\n%s", p)
	}
}
