package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// The read-ahead of a batch's senders answers what the reads without it
// do: for a sender with several roles, one with none, and one not linked.
func TestPrefetchedActorsAnswerAsTheStoreDoes(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	c, b := hcBranch(t, s)
	many, _, err := s.UpsertPerson(ctx, "王书记", "13800000001", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		role string
		unit int64
	}{{"villager", b.ID}, {"secretary", b.ID}, {"organiser", c.ID}} {
		if err := s.AddRole(ctx, many, r.role, r.unit); err != nil {
			t.Fatal(err)
		}
	}
	none, _, err := s.UpsertPerson(ctx, "李四", "13800000002", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LinkChat(ctx, many, 555, 555, "w"); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkChat(ctx, none, 556, 556, "l"); err != nil {
		t.Fatal(err)
	}
	senders := []int64{555, 556, 999}
	// who describes what the store says of a Telegram user: its person, or
	// that it has none, and the person's roles in order.
	who := func(st *storage.Store, tg int64) string {
		p, err := st.PersonByTelegram(ctx, tg)
		if errors.Is(err, domain.ErrNotFound) {
			return "not linked"
		}
		if err != nil {
			t.Fatal(err)
		}
		rs, err := st.RolesOf(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("person %d, %d roles %v", p, len(rs), rs)
	}
	want := map[int64]string{}
	for _, tg := range senders {
		want[tg] = who(s, tg)
	}
	if want[555] == want[556] || want[999] != "not linked" {
		t.Fatalf("the three senders should differ: %v", want)
	}
	err = s.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.PrefetchActors(ctx, senders); err != nil {
			return err
		}
		for _, tg := range senders {
			if got := who(tx, tg); got != want[tg] {
				t.Errorf("sender %d read ahead: %s, want %s", tg, got, want[tg])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
