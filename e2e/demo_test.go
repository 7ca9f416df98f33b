package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/internal/testdb"
)

// zhibu demo loads the Qian'an-shaped county once, says what it loaded, and
// leaves a database that holds it alone; a bad --seed is refused.
func TestDemoCommand(t *testing.T) {
	h := start(t, withClock(clockwork.NewFakeClockAt(time.Date(2026, 11, 16, 10, 0, 0, 0, testdb.Loc))))
	out := h.mustCLI("demo", "--seed", "20260")
	if want := "demo county loaded: 1074 units, 3692 people, 37 sandbox accounts, 10 group chats\n"; out != want {
		t.Fatalf("zhibu demo printed %q, want %q", out, want)
	}
	if out := h.mustCLI("demo"); !strings.HasPrefix(out, "demo county already loaded: nothing changed") {
		t.Fatalf("a second zhibu demo printed %q", out)
	}
	if _, errs, code := h.cli("demo", "--seed", "abc"); code == 0 || !strings.Contains(errs, "seed") {
		t.Fatalf("zhibu demo --seed abc: exit %d: %s", code, errs)
	}
	var branches, compound int
	if err := h.Srv.Store.DB().Get(&branches, `SELECT count(*) FROM units WHERE kind = 'branch'`); err != nil {
		t.Fatal(err)
	}
	if err := h.Srv.Store.DB().Get(&compound, `SELECT count(*) FROM units WHERE branch_type = 'compound'`); err != nil {
		t.Fatal(err)
	}
	if branches != 446 || compound != 122 {
		t.Fatalf("%d branches, %d compound", branches, compound)
	}
}
