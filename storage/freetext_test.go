package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// pendingTextStore is a fresh store with one branch and its secretary.
func pendingTextStore(t *testing.T) (*storage.Store, int64, time.Time) {
	t.Helper()
	ctx := context.Background()
	s := testdb.New(t)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	b, err := s.CreateUnit(ctx, "B1", "一支部", "branch", nil, at)
	if err != nil {
		t.Fatal(err)
	}
	pid, _, err := s.UpsertPerson(ctx, "李书记", "13800000002", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s, pid, at
}

// A reading of free text is kept once per message and used once.
func TestPendingTextOncePerMessage(t *testing.T) {
	ctx := context.Background()
	s, pid, at := pendingTextStore(t)
	p := storage.PendingText{ChatID: -100, MessageID: 7, PersonID: pid, Kind: storage.PendingTextCheckin, CreatedAt: at}
	id, err := s.SavePendingText(ctx, p, map[string]string{"command": "打卡 支委会"})
	if err != nil {
		t.Fatal(err)
	}
	// The same message again (a redelivered update): the first reading and id.
	again, err := s.SavePendingText(ctx, p, map[string]string{"command": "changed"})
	if err != nil || again != id {
		t.Fatalf("again: %d %v, want %d", again, err, id)
	}
	other, err := s.SavePendingText(ctx, storage.PendingText{ChatID: -100, MessageID: 8, PersonID: pid, Kind: storage.PendingTextClaim, CreatedAt: at}, map[string]string{})
	if err != nil || other == id {
		t.Fatalf("another message: %d %v", other, err)
	}
	var got storage.PendingText
	err = s.InTx(ctx, func(tx *storage.Store) error {
		if got, err = tx.LockPendingText(ctx, id); err != nil {
			return err
		}
		ok, err := tx.UsePendingText(ctx, id, "confirmed", at.Add(time.Minute))
		if !ok && err == nil {
			t.Error("first use refused")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]string
	if err := json.Unmarshal(got.Reading, &r); err != nil || r["command"] != "打卡 支委会" || got.UsedAt != nil || got.PersonID != pid {
		t.Fatalf("kept %+v %v", got, err)
	}
	if ok, err := s.UsePendingText(ctx, id, "cancelled", at.Add(2*time.Minute)); ok || err != nil {
		t.Fatalf("second use: %v %v", ok, err)
	}
	used, err := s.LockPendingText(ctx, id)
	if err != nil || used.UsedAt == nil || used.Outcome == nil || *used.Outcome != "confirmed" {
		t.Fatalf("used %+v %v", used, err)
	}
	if _, err := s.UsePendingText(ctx, other, "maybe", at); err == nil {
		t.Fatal("an unknown outcome was stored")
	}
	if _, err := s.LockPendingText(ctx, 999999); err == nil {
		t.Fatal("a missing reading was found")
	}
}

// An album is found by the media group of a check-in's request or of a claim.
func TestAlbumHasPendingText(t *testing.T) {
	ctx := context.Background()
	s, pid, at := pendingTextStore(t)
	save := func(msg int64, kind string, reading any) {
		t.Helper()
		if _, err := s.SavePendingText(ctx, storage.PendingText{ChatID: -100, MessageID: msg, PersonID: pid, Kind: kind, CreatedAt: at}, reading); err != nil {
			t.Fatal(err)
		}
	}
	save(1, storage.PendingTextCheckin, map[string]any{"request": map[string]string{"media_group_id": "g-checkin"}})
	save(2, storage.PendingTextClaim, map[string]string{"media_group_id": "g-claim"})
	save(3, storage.PendingTextClaim, map[string]string{"code": "B05"})
	for _, tc := range []struct {
		chat  int64
		group string
		want  bool
	}{
		{-100, "g-checkin", true}, {-100, "g-claim", true}, {-100, "g-other", false}, {-200, "g-checkin", false},
	} {
		if got, err := s.AlbumHasPendingText(ctx, tc.chat, tc.group); err != nil || got != tc.want {
			t.Errorf("chat %d album %s: %v %v, want %v", tc.chat, tc.group, got, err, tc.want)
		}
	}
}

// A reply finds the reading by the card it answers; the reading is replaced
// until it is used.
func TestPendingTextOfCard(t *testing.T) {
	ctx := context.Background()
	s, pid, at := pendingTextStore(t)
	id, err := s.SavePendingText(ctx, storage.PendingText{ChatID: -100, MessageID: 7, PersonID: pid, Kind: storage.PendingTextCheckin, CreatedAt: at},
		map[string]string{"command": "打卡 支委会"})
	if err != nil {
		t.Fatal(err)
	}
	// The card, and another message of the bot in the chat, both sent.
	for _, m := range []struct {
		key string
		tg  int64
	}{{storage.PendingTextKey(id), 51}, {"upd:9:1", 52}} {
		if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: m.key, ChatID: -100, Priority: storage.PriorityReply, Kind: "reply",
			Payload: map[string]any{"text": "x"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, `UPDATE outbox SET status = 'sent', tg_message_id = $2 WHERE dedupe_key = $1`, m.key, m.tg); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.PendingTextOfCard(ctx, -100, 51); err != nil || got != id {
		t.Fatalf("the card: %d %v, want %d", got, err, id)
	}
	for _, c := range []struct{ chat, msg int64 }{{-100, 52}, {-100, 7}, {-200, 51}} {
		if got, err := s.PendingTextOfCard(ctx, c.chat, c.msg); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("message %d in %d: %d %v, want not found", c.msg, c.chat, got, err)
		}
	}
	if ok, err := s.UpdatePendingText(ctx, id, map[string]string{"command": "打卡 支委会 8/9"}); !ok || err != nil {
		t.Fatalf("update: %v %v", ok, err)
	}
	p, err := s.LockPendingText(ctx, id)
	if err != nil || !strings.Contains(string(p.Reading), "8/9") {
		t.Fatalf("updated %s %v", p.Reading, err)
	}
	if _, err := s.UsePendingText(ctx, id, "confirmed", at); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.UpdatePendingText(ctx, id, map[string]string{"command": "late"}); ok || err != nil {
		t.Fatalf("update after use: %v %v", ok, err)
	}
}
