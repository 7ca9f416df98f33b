package storage_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func TestGoodsUpsertAndStock(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	county, v, hh := pointsVillage(t, s)
	five := 5
	created, updated, err := s.UpsertGoods(ctx, []storage.GoodsRow{
		{VillageID: v.ID, Code: "G01", Name: "洗衣粉", Points: 20, Stock: &five, Active: true},
		{VillageID: v.ID, Code: "G02", Name: "酱油", Points: 5, Active: true},
		{VillageID: v.ID, Code: "G09", Name: "旧货", Points: 1, Active: false},
	})
	if err != nil || created != 3 || updated != 0 {
		t.Fatalf("upsert: %d %d %v", created, updated, err)
	}
	if _, err := s.GoodsByCode(ctx, v.ID, "G77"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	all, err := s.GoodsList(ctx, storage.GoodsFilter{RootID: county.ID})
	if err != nil || len(all) != 3 {
		t.Fatalf("list: %v %v", all, err)
	}
	active, err := s.GoodsList(ctx, storage.GoodsFilter{VillageIDs: []int64{v.ID}, ActiveOnly: true})
	if err != nil || len(active) != 2 || active[0].Code != "G01" || active[0].VillageName != "幸福村" {
		t.Fatalf("active: %+v %v", active, err)
	}
	// The database refuses a price of 0 and negative stock whatever the caller.
	zero, neg := 0, -1
	if _, _, err := s.UpsertGoods(ctx, []storage.GoodsRow{{VillageID: v.ID, Code: "G03", Name: "x", Points: 0, Stock: &zero}}); err == nil {
		t.Fatal("price 0 stored")
	}
	if _, _, err := s.UpsertGoods(ctx, []storage.GoodsRow{{VillageID: v.ID, Code: "G03", Name: "x", Points: 1, Stock: &neg}}); err == nil {
		t.Fatal("negative stock stored")
	}

	g, _ := s.GoodsByCode(ctx, v.ID, "G01")
	left, ok, err := s.TakeStock(ctx, g.ID, 2)
	if err != nil || !ok || left == nil || *left != 3 {
		t.Fatalf("take 2 of 5: %v %v %v", left, ok, err)
	}
	left, ok, err = s.TakeStock(ctx, g.ID, 4)
	if err != nil || ok || left == nil || *left != 3 {
		t.Fatalf("take 4 of 3: %v %v %v", left, ok, err)
	}
	// Concurrent takers never oversell: of 20 takers of 1 piece, 3 win.
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, err := s.TakeStock(ctx, g.ID, 1); err != nil {
				t.Error(err)
			} else if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 3 {
		t.Fatalf("%d takers won 3 pieces", won.Load())
	}
	if g, _ := s.GoodsByCode(ctx, v.ID, "G01"); *g.Stock != 0 {
		t.Fatalf("stock %d", *g.Stock)
	}
	// Unlimited goods take nothing and are always ok.
	g2, _ := s.GoodsByCode(ctx, v.ID, "G02")
	if left, ok, err := s.TakeStock(ctx, g2.ID, 100); err != nil || !ok || left != nil {
		t.Fatalf("unlimited: %v %v %v", left, ok, err)
	}
	// Re-import updates by code.
	created, updated, err = s.UpsertGoods(ctx, []storage.GoodsRow{{VillageID: v.ID, Code: "G01", Name: "洗衣粉", Points: 25, Stock: &five, Active: true}})
	if err != nil || created != 0 || updated != 1 {
		t.Fatalf("re-upsert: %d %d %v", created, updated, err)
	}

	// The household head.
	pid, _, err := s.UpsertPerson(ctx, "张三", "13800000001", v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetHousehold(ctx, pid, hh); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHouseholdHead(ctx, hh, pid); err != nil {
		t.Fatal(err)
	}
	h, err := s.HouseholdByID(ctx, hh)
	if err != nil || h.Head != "张三" || h.Label() != "张三户" {
		t.Fatalf("household %+v %v", h, err)
	}
	snap, err := s.HouseholdPoints(ctx, hh, 0, time.Now(), 5)
	if err != nil || snap.Head != "张三" {
		t.Fatalf("snapshot head %q %v", snap.Head, err)
	}
}
