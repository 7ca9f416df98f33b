package bot

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/zhibu/zhibu/domain/callback"
)

// The command table is the order people see in /help and the client's menu.
func TestCommandTableOrder(t *testing.T) {
	r := NewRouter(nil, "zhibu_bot", slog.New(slog.DiscardHandler))
	var names []string
	for _, c := range r.Commands() {
		names = append(names, c.Name)
		if c.Handler == nil {
			t.Errorf("/%s has no handler", c.Name)
		}
	}
	want := []string{"start", "help", "bind", "checkin", "undo", "reject", "status", "ack", "exempt", "silence",
		"claim", "points", "rank", "items", "goods", "pending", "deduct", "object", "redeem"}
	if !slices.Equal(names, want) {
		t.Fatalf("commands %v\nwant %v", names, want)
	}
	for _, p := range []string{callback.CheckinBranch, callback.CheckinReject, callback.Ack, callback.ClaimDecision, callback.ClaimPick} {
		if _, ok := r.callbacks[p]; !ok {
			t.Errorf("callback prefix %q not routed", p)
		}
	}
	if len(r.messages) != 1 {
		t.Errorf("%d message hooks, want the album hook", len(r.messages))
	}
}
