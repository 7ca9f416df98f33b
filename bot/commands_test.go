package bot

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/command"
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
	for _, p := range []string{callback.CheckinBranch, callback.CheckinReject, callback.Ack, callback.ClaimDecision, callback.ClaimPick, callback.FreeText} {
		if _, ok := r.callbacks[p]; !ok {
			t.Errorf("callback prefix %q not routed", p)
		}
	}
	if len(r.messages) != 4 {
		t.Errorf("%d message hooks, want the reply-to-a-card, album, free-text check-in and claim hooks", len(r.messages))
	}
}

// Every command people use has its Chinese words (SPEC §7.3), each word
// belongs to one command, and the parser reads them from the table.
func TestCommandWords(t *testing.T) {
	r := NewRouter(nil, "zhibu_bot", slog.New(slog.DiscardHandler))
	want := map[string]string{
		"打卡": "checkin", "签到": "checkin", "纪实": "checkin", "申报": "claim", "积分": "points",
		"我的积分": "points", "排名": "rank", "积分项目": "items", "兑换": "redeem", "状态": "status",
		"体检": "status", "收到": "ack", "撤回": "undo", "帮助": "help", "绑定": "bind", "驳回": "reject",
		"豁免": "exempt", "静默": "silence", "待审": "pending", "扣分": "deduct", "异议": "object",
	}
	for w, name := range want {
		if got := r.words[w]; got != name {
			t.Errorf("word %q → %q, want /%s", w, got, name)
		}
		c, ok := command.Parse(w+" x", "zhibu_bot", r.words)
		if !ok || c.Name != name || !c.Plain {
			t.Errorf("Parse(%q) = %+v, %v", w+" x", c, ok)
		}
	}
	for _, c := range r.Commands() {
		if c.Name != "start" && len(c.Words) == 0 {
			t.Errorf("/%s has no Chinese word", c.Name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a word given to two commands was accepted")
		}
	}()
	r.Handle(Command{Name: "goods", Description: "x", Handler: helpHandler, Words: []string{"积分"}})
}
