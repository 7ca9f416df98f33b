package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// A chat has one binding: as the villagers' (公示) group or as the bound
// group; a village's public posts fall back to its bound group; the 公示
// binding follows a group that became a supergroup and is marked
// unreachable with it.
func TestPublicGroupBindings(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, v, _ := pointsVillage(t, s)
	if err := s.BindGroup(ctx, -1, v.ID, "评议群", 0); err != nil {
		t.Fatal(err)
	}
	if g, err := s.PublicGroupOfUnit(ctx, v.ID); err != nil || g.ChatID != -1 {
		t.Fatalf("fallback %+v %v", g, err)
	}
	if err := s.BindPublicGroup(ctx, -2, v.ID, "村民群", 0); err != nil {
		t.Fatal(err)
	}
	if g, err := s.PublicGroupOfUnit(ctx, v.ID); err != nil || g.ChatID != -2 {
		t.Fatalf("public %+v %v", g, err)
	}
	if g, err := s.GroupOfUnit(ctx, v.ID); err != nil || g.ChatID != -1 {
		t.Fatalf("reviewers' group %+v %v", g, err)
	}
	// Binding the reviewers' chat as the 公示 group moves it.
	if err := s.BindPublicGroup(ctx, -1, v.ID, "评议群", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GroupByChat(ctx, -1); err == nil {
		t.Fatal("the chat kept its bound-group binding")
	}
	if _, err := s.PublicGroupByChat(ctx, -2); err == nil {
		t.Fatal("the village kept two 公示 groups")
	}
	if moved, err := s.MigrateGroup(ctx, -1, -1001); err != nil || !moved {
		t.Fatalf("migrate %v %v", moved, err)
	}
	if g, err := s.PublicGroupOfUnit(ctx, v.ID); err != nil || g.ChatID != -1001 {
		t.Fatalf("after migration %+v %v", g, err)
	}
	if err := s.MarkChatUnreachable(ctx, -1001, "kicked"); err != nil {
		t.Fatal(err)
	}
	gs, err := s.PublicGroups(ctx)
	if err != nil || len(gs) != 1 || !gs[0].Unreachable {
		t.Fatalf("public groups %+v %v", gs, err)
	}
}

// One open objection per claim, decided once.
func TestObjectionsOpenOnceDecidedOnce(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	_, v, hh := pointsVillage(t, s)
	at := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	id, err := s.InsertClaim(ctx, storage.NewClaim{VillageID: v.ID, HouseholdID: hh, Kind: storage.ClaimKindClaim, ItemCode: "B01",
		ItemName: "孝老爱亲", Category: "道德建设类", Points: 5, Status: storage.ClaimApproved, ClaimedAt: at, Source: "telegram"})
	if err != nil {
		t.Fatal(err)
	}
	oid, ok, err := s.InsertObjection(ctx, storage.Objection{ClaimID: id, Reason: "不对", CreatedAt: at})
	if err != nil || !ok {
		t.Fatalf("first objection %v %v", ok, err)
	}
	if _, ok, err := s.InsertObjection(ctx, storage.Objection{ClaimID: id, Reason: "也不对", CreatedAt: at}); err != nil || ok {
		t.Fatalf("second open objection %v %v", ok, err)
	}
	if ok, err := s.DecideObjection(ctx, oid, storage.ObjectionDismissed, at, "孙评议"); err != nil || !ok {
		t.Fatalf("decide %v %v", ok, err)
	}
	if ok, err := s.DecideObjection(ctx, oid, storage.ObjectionUpheld, at, "钱评议"); err != nil || ok {
		t.Fatalf("decided twice %v %v", ok, err)
	}
	// Closed, a new objection may be opened.
	if _, ok, err := s.InsertObjection(ctx, storage.Objection{ClaimID: id, Reason: "又有问题", CreatedAt: at}); err != nil || !ok {
		t.Fatalf("objection after the first was closed %v %v", ok, err)
	}
}
