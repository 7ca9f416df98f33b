package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
)

// TestOfficialCalendarFromOutside: the shipped calendar holds notices on a
// weekend; `zhibu import holidays` replaces a year, and the health check
// follows it.
func TestOfficialCalendarFromOutside(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 12, 5, 10, 0, 0, 0, testdb.Loc)) // a Saturday
	h := start(t, withClock(fc), withConfig(func(c *config.Config) { c.Healthcheck.Calendar = "official" }))
	h.seed()

	out := h.mustCLI("healthcheck", "--dry-run")
	if !strings.Contains(out, "休息日（2026-12-05）") {
		t.Fatalf("Saturday not held:\n%s", out)
	}

	file := filepath.Join(t.TempDir(), "2026.csv")
	if err := os.WriteFile(file, []byte("date,kind,name\n2026-12-05,workday,测试调休\n2026-10-01,holiday,国庆节\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := h.mustCLI("import", "holidays", file); !strings.Contains(out, "2 rows imported") {
		t.Fatalf("import: %s", out)
	}
	if out := h.mustCLI("healthcheck", "--dry-run"); strings.Contains(out, "休息日") {
		t.Fatalf("a 调休 Saturday still held:\n%s", out)
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("date,kind\n2027-01-04,workday\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := h.cli("import", "holidays", bad); code == 0 || !strings.Contains(errs, "weekend") {
		t.Fatalf("a Monday workday accepted: %d %s", code, errs)
	}
}
