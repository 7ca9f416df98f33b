package storage_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func TestUnitsTreeAndSubtree(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	rows := []storage.UnitRow{
		{Code: "QA-RZ-XZ-B1", Name: "一支部", Kind: "branch", ParentCode: "QA-RZ-XZ"},
		{Code: "QA", Name: "乾安县", Kind: "county"},
		{Code: "QA-RZ", Name: "让字镇", Kind: "township", ParentCode: "QA"},
		{Code: "QA-RZ-XZ", Name: "幸福村", Kind: "village", ParentCode: "QA-RZ"},
	}
	err := s.InTx(ctx, func(tx *storage.Store) error {
		c, u, err := tx.UpsertUnits(ctx, rows, time.Now())
		if c != 4 || u != 0 {
			t.Errorf("created %d updated %d", c, u)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.UnitByCode(ctx, "QA-RZ-XZ-B1")
	if err != nil {
		t.Fatal(err)
	}
	anc, err := s.Ancestors(ctx, b.ID)
	if err != nil || len(anc) != 3 || anc[0].Code != "QA" || anc[2].Code != "QA-RZ-XZ" {
		t.Fatalf("ancestors %+v %v", anc, err)
	}
	county, _ := s.UnitByCode(ctx, "QA")
	sub, err := s.Subtree(ctx, county.ID)
	if err != nil || len(sub) != 4 {
		t.Fatalf("subtree %d %v", len(sub), err)
	}
	// Re-import updates by code.
	rows[0].Name = "第一支部"
	var created, updated int
	if err := s.InTx(ctx, func(tx *storage.Store) (err error) {
		created, updated, err = tx.UpsertUnits(ctx, rows, time.Now())
		return err
	}); err != nil || created != 0 || updated != 4 {
		t.Fatalf("reimport: %d %d %v", created, updated, err)
	}
	if b, _ := s.UnitByCode(ctx, "QA-RZ-XZ-B1"); b.Name != "第一支部" {
		t.Fatalf("name not updated: %q", b.Name)
	}
	if _, err := s.UnitByCode(ctx, "NOPE"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing unit: %v", err)
	}
}

func TestBindCodeSingleUseAndExpiry(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	u, err := s.CreateUnit(ctx, "X", "X县", "county", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pid, _, err := s.UpsertPerson(ctx, "张三", "13800000000", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	h := sha256.Sum256([]byte("code1"))
	old := sha256.Sum256([]byte("code2"))
	if err := s.CreateBindCode(ctx, pid, h[:], now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeBindCode(ctx, h[:], now)
	if err != nil || got != pid {
		t.Fatalf("consume: %d %v", got, err)
	}
	if _, err := s.ConsumeBindCode(ctx, h[:], now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
	if err := s.CreateBindCode(ctx, pid, old[:], now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeBindCode(ctx, old[:], now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
	// A new code revokes the person's older unused ones.
	first, second := sha256.Sum256([]byte("code3")), sha256.Sum256([]byte("code4"))
	for _, c := range [][32]byte{first, second} {
		if err := s.CreateBindCode(ctx, pid, c[:], now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ConsumeBindCode(ctx, first[:], now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("older code after a new one: %v", err)
	}
	if got, err := s.ConsumeBindCode(ctx, second[:], now); err != nil || got != pid {
		t.Fatalf("newest code: %d %v", got, err)
	}
}

func TestEnqueueIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	m := storage.OutMessage{DedupeKey: "k1", ChatID: 42, Payload: map[string]any{"text": "你好"}}
	for range 2 {
		if err := s.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		ID   int64  `db:"id"`
		Key  string `db:"dedupe_key"`
		Chat int64  `db:"chat_id"`
		Text string `db:"text"`
	}
	rows := func() []row {
		var rs []row
		if err := s.DB().Select(&rs, `SELECT id, dedupe_key, chat_id, payload->>'text' AS text FROM outbox ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	if rs := rows(); len(rs) != 1 || rs[0].Text != "你好" {
		t.Fatalf("after two enqueues outside a transaction: %+v", rs)
	}

	// In a transaction the rows are written at commit, in the order
	// enqueued, each key once; a key stored before is left as it was.
	err := s.InTx(ctx, func(tx *storage.Store) error {
		for _, m := range []storage.OutMessage{
			{DedupeKey: "a", ChatID: 7, Payload: map[string]any{"text": "一"}},
			{DedupeKey: "b", ChatID: 7, Payload: map[string]any{"text": "二"}},
			{DedupeKey: "a", ChatID: 7, Payload: map[string]any{"text": "重复"}},
			{DedupeKey: "k1", ChatID: 42, Payload: map[string]any{"text": "覆盖"}},
		} {
			if err := tx.Enqueue(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := rows()
	if len(rs) != 3 || rs[0].Text != "你好" || rs[1].Key != "a" || rs[1].Text != "一" || rs[2].Key != "b" || rs[1].ID > rs[2].ID {
		t.Fatalf("after the transaction: %+v", rs)
	}

	// A rolled-back transaction leaves nothing.
	_ = s.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Enqueue(ctx, storage.OutMessage{DedupeKey: "gone", ChatID: 7, Payload: map[string]any{"text": "x"}}); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if rs := rows(); len(rs) != 3 {
		t.Fatalf("rolled-back enqueue was written: %+v", rs)
	}

	// A group migration later in the same transaction moves the messages
	// enqueued before it.
	u, _ := s.CreateUnit(ctx, "B", "支部", "branch", nil, time.Now())
	if err := s.BindGroup(ctx, -100, u.ID, "群", 0); err != nil {
		t.Fatal(err)
	}
	err = s.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.Enqueue(ctx, storage.OutMessage{DedupeKey: "g", ChatID: -100, Payload: map[string]any{"text": "群消息"}}); err != nil {
			return err
		}
		_, err := tx.MigrateGroup(ctx, -100, -1009)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs := rows(); len(rs) != 4 || rs[3].Key != "g" || rs[3].Chat != -1009 {
		t.Fatalf("message enqueued before the migration: %+v", rs)
	}
}

func TestGroupMigrationKeepsBinding(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	u, _ := s.CreateUnit(ctx, "B", "支部", "branch", nil, time.Now())
	pid, _, _ := s.UpsertPerson(ctx, "李四", "", u.ID)
	if err := s.BindGroup(ctx, -100, u.ID, "群", pid); err != nil {
		t.Fatal(err)
	}
	moved, err := s.MigrateGroup(ctx, -100, -1001234567890)
	if err != nil || !moved {
		t.Fatalf("migrate: %v %v", moved, err)
	}
	g, err := s.GroupOfUnit(ctx, u.ID)
	if err != nil || g.ChatID != -1001234567890 {
		t.Fatalf("group: %+v %v", g, err)
	}
	if moved, _ := s.MigrateGroup(ctx, -100, -1001234567890); moved {
		t.Fatal("second migration moved again")
	}
}
