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
	if err := s.CreateBindCode(ctx, pid, old[:], now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeBindCode(ctx, h[:], now)
	if err != nil || got != pid {
		t.Fatalf("consume: %d %v", got, err)
	}
	if _, err := s.ConsumeBindCode(ctx, h[:], now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := s.ConsumeBindCode(ctx, old[:], now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
}

func TestEnqueueIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	m := storage.OutMessage{DedupeKey: "k1", ChatID: 42, Payload: map[string]any{"text": "你好"}}
	id1, ins1, err := s.Enqueue(ctx, m)
	if err != nil || !ins1 {
		t.Fatalf("first: %v %v", ins1, err)
	}
	id2, ins2, err := s.Enqueue(ctx, m)
	if err != nil || ins2 || id2 != id1 {
		t.Fatalf("second: %d %v %v", id2, ins2, err)
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
