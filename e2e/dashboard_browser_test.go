package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test drives Debian's Chromium (CI installs it with
// scripts/ensure-chromium.sh). Without it the test fails, it never skips:
// the dashboard is only known to work on a phone if a browser has shown it.
// ZHIBU_CHROMIUM names another binary; ZHIBU_SCREENSHOTS names a directory
// that keeps the screenshots (default: the test's temporary directory).

const dashPhoneW, dashPhoneH = 390, 844

func dashChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ZHIBU_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("Chromium not found at /usr/bin/chromium (nor chromium on PATH): install it with scripts/ensure-chromium.sh " +
		"(apt-get install -y chromium) or set ZHIBU_CHROMIUM to a Chromium binary")
	return ""
}

// dashBrowser starts a headless Chromium with a fresh profile, sized like a
// phone; it is stopped when the test ends.
func dashBrowser(t *testing.T) context.Context {
	t.Helper()
	path := dashChromium(t)
	profile := t.TempDir()
	var out bytes.Buffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(dashPhoneW, dashPhoneH),
		chromedp.CombinedOutput(&lockedWriter{w: &out}),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first Do starts the browser: no timeout on it, it would end the
	// browser (see chromedp.Run).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v\n%s", path, err, out.String())
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(dashPhoneW, dashPhoneH, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)); err != nil {
		t.Fatalf("emulate a phone: %v", err)
	}
	return ctx
}

// dashStep runs browser actions with a time limit.
func dashStep(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func dashEval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// dashWait polls js until it is true (10 s at most): after a click that
// navigates, the old document's nodes may still answer a WaitVisible, and
// an evaluation during the navigation may fail, so both are retried.
func dashWait(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s still not true (%v)", what, js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dashShot saves a screenshot of the whole page and returns its path.
func dashShot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("ZHIBU_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// dashFits checks, in the page, that nothing is wider than the phone.
func dashFits(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if w := dashEval[int](t, ctx, `document.documentElement.scrollWidth`); w > dashPhoneW {
		t.Fatalf("%s: the page is %dpx wide on a %dpx phone (horizontal scrolling)", page, w, dashPhoneW)
	}
}

func TestDashboardBrowser(t *testing.T) {
	h, org := dashStart(t)
	ctx := dashBrowser(t)

	// Not logged in: the board sends the browser to the login form.
	dashStep(t, ctx, "open the board", chromedp.Navigate(h.Base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	if loc := dashEval[string](t, ctx, `location.pathname`); loc != "/login" {
		t.Fatalf("not logged in: at %s, want /login", loc)
	}
	dashFits(t, ctx, "login")
	dashShot(t, ctx, "login.png")

	// Log in with the organiser token of the township.
	dashStep(t, ctx, "log in",
		chromedp.SendKeys(chromedp.ID("token"), org),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(".units")))
	if cookie := dashEval[string](t, ctx, `document.cookie`); strings.Contains(cookie, "zhibu_dashboard") {
		t.Fatal("the login cookie is readable from JavaScript (want HttpOnly)")
	}

	// The township board: its village with one red and one yellow branch,
	// coloured dots and a bar per unit.
	if h1 := dashEval[string](t, ctx, `document.querySelector('h1').textContent`); h1 != "让字镇" {
		t.Fatalf("board title %q", h1)
	}
	village := dashEval[string](t, ctx, `document.querySelector('.unit a.unit-link').textContent`)
	red := dashEval[string](t, ctx, `document.querySelector('.unit .counts').dataset.red`)
	yellow := dashEval[string](t, ctx, `document.querySelector('.unit .counts').dataset.yellow`)
	if village != "幸福村" || red != "1" || yellow != "1" {
		t.Fatalf("first unit %q with red %s, yellow %s; want 幸福村 with 1 and 1", village, red, yellow)
	}
	if n := dashEval[int](t, ctx, `document.querySelectorAll('.dot.red').length`); n < 2 {
		t.Fatalf("%d red dots on the board", n)
	}
	if n := dashEval[int](t, ctx, `document.querySelectorAll('.unit svg.bar rect.r').length`); n != 1 {
		t.Fatalf("%d bars with a red part", n)
	}
	// The stylesheet applies: a red dot is red.
	if c := dashEval[string](t, ctx, `getComputedStyle(document.querySelector('.dot.red')).backgroundColor`); c != "rgb(214, 50, 43)" {
		t.Fatalf("red dot colour %q (stylesheet not applied?)", c)
	}
	dashFits(t, ctx, "township board")
	dashShot(t, ctx, "board-township.png")

	// Drill down: the village, then its first branch.
	dashStep(t, ctx, "open the village",
		chromedp.Click(chromedp.CSS(`a.unit-link[href="/?unit=QA-RZ-XZ"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.unit-link[href="/?unit=QA-RZ-XZ-B1"]`)))
	if crumbs := dashEval[string](t, ctx, `document.querySelector('.crumbs').textContent`); crumbs != "让字镇›幸福村" {
		t.Fatalf("breadcrumbs %q", crumbs)
	}
	dashShot(t, ctx, "board-village.png")
	dashStep(t, ctx, "open the branch",
		chromedp.Click(chromedp.CSS(`a.unit-link[href="/?unit=QA-RZ-XZ-B1"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.items")))
	if n := dashEval[int](t, ctx, `document.querySelectorAll('table.items tr.item.light-red').length`); n != 2 {
		t.Fatalf("%d red obligations on the branch page, want 2", n)
	}
	items := dashEval[string](t, ctx, `document.querySelector('table.items').innerText`)
	mustContain(t, items, "党费收缴", "主题党日", "逾期 26 天", "已驳回", "缺少签到表照片", "承诺 2026-11-30 前完成")
	recent := dashEval[string](t, ctx, `document.querySelector('table.recent').innerText`)
	mustContain(t, recent, "补开十月支委会", "6/9")
	// On a phone the tables become one card per row: no header row, and
	// each cell names its column.
	if d := dashEval[string](t, ctx, `getComputedStyle(document.querySelector('table.items thead')).display`); d != "none" {
		t.Fatalf("table header on a phone: display %q", d)
	}
	if d := dashEval[string](t, ctx, `getComputedStyle(document.querySelector('table.items tbody tr')).display`); d != "block" {
		t.Fatalf("table row on a phone: display %q", d)
	}
	dashFits(t, ctx, "branch")
	dashShot(t, ctx, "board-branch.png")

	// The red list and the ranking are one tap away in the header.
	dashStep(t, ctx, "open the red list",
		chromedp.Click(chromedp.CSS(`.dash-nav a[href^="/escalations"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.esc")))
	if n := dashEval[int](t, ctx, `document.querySelectorAll('table.esc tbody tr').length`); n != 2 {
		t.Fatalf("%d escalations, want 2", n)
	}
	dashFits(t, ctx, "escalations")
	dashShot(t, ctx, "escalations.png")
	dashStep(t, ctx, "open the ranking",
		chromedp.Click(chromedp.CSS(`.dash-nav a[href^="/rankings"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.rank")))
	rank := dashEval[string](t, ctx, `document.querySelector('table.rank').innerText`)
	mustContain(t, rank, "H001", "周村民", "5", "H002", "一票否决")
	dashFits(t, ctx, "rankings")
	dashShot(t, ctx, "rankings.png")

	// A unit outside the token's subtree is refused with a page.
	dashStep(t, ctx, "open another township", chromedp.Navigate(h.Base+"/?unit=QA-DB"), chromedp.WaitVisible(chromedp.CSS(".error-page")))
	if msg := dashEval[string](t, ctx, `document.querySelector('.error-page').innerText`); !strings.Contains(msg, "403") || !strings.Contains(msg, "不在您的管辖范围内") {
		t.Fatalf("outside the subtree: %q", msg)
	}

	// Logging out ends the session.
	dashStep(t, ctx, "log out", chromedp.Click(chromedp.CSS(`.who form.logout[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
	dashStep(t, ctx, "open the board again", chromedp.Navigate(h.Base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
}
