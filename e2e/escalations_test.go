package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zhibu/zhibu/internal/testdb"
)

// The red list of the demo county (SPEC §7.6) is grouped by township,
// filtered by obligation and township, and paged, 50 rows a page.

var (
	escCountRe = regexp.MustCompile(`class="esc-count">(\d+)</b>`)
	escGroupRe = regexp.MustCompile(`(?s)<section class="card esc-group">\n<details[^>]*>\n<summary><span class="dot red"></span><b>([^<]+)</b> <span class="badge red">(\d+) 项</span>(.*?)</details>`)
	escObRe    = regexp.MustCompile(`<li><a href="([^"]+)">([^<]+)</a> <b>(\d+)</b></li>`)
	escPagerRe = regexp.MustCompile(`第 <b class="esc-page">(\d+)</b> 页，共 (\d+) 页`)
)

// escPage is what one /escalations page shows.
type escPage struct {
	count  int            // the summary's count of matched items
	groups map[string]int // township → its count
	order  []string       // townships in page order
	obs    map[string]map[string]string
	rows   int // table rows on the page
	page   int
	pages  int
	body   string
}

func readEscPage(t *testing.T, body string) escPage {
	t.Helper()
	p := escPage{groups: map[string]int{}, obs: map[string]map[string]string{}, page: 1, pages: 1, body: body}
	m := escCountRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no count on the red list:\n%s", body)
	}
	p.count, _ = strconv.Atoi(m[1])
	for _, g := range escGroupRe.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(g[2])
		p.groups[g[1]] = n
		p.order = append(p.order, g[1])
		p.obs[g[1]] = map[string]string{}
		for _, o := range escObRe.FindAllStringSubmatch(g[3], -1) {
			p.obs[g[1]][o[2]] = o[3] + " " + o[1]
		}
		p.rows += strings.Count(g[3], "<td data-label=\"支部\">")
	}
	if m := escPagerRe.FindStringSubmatch(body); m != nil {
		p.page, _ = strconv.Atoi(m[1])
		p.pages, _ = strconv.Atoi(m[2])
	}
	return p
}

func TestDashboardEscalationsGroupFilterPage(t *testing.T) {
	fc := sandboxClock()
	r := startSandbox(t, testdb.URL(t), fc)
	r.login()
	get := func(path string, status int) escPage {
		t.Helper()
		resp, body := dashGet(t, r.c, r.base+path)
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d, want %d\n%s", path, resp.StatusCode, status, sbText(body))
		}
		if status != 200 {
			return escPage{body: body}
		}
		return readEscPage(t, body)
	}
	sum := func(p escPage) int {
		n := 0
		for _, c := range p.groups {
			n += c
		}
		return n
	}

	// The day the demo was loaded: a few red items, on one page, every
	// group open.
	now := get("/escalations?unit=QA", 200)
	if now.count == 0 || now.count > 50 || now.pages != 1 || now.rows != now.count || sum(now) != now.count {
		t.Fatalf("at load: %d red, %d rows, %d pages, groups %v", now.count, now.rows, now.pages, now.groups)
	}
	if len(now.groups) < 2 {
		t.Fatalf("at load the red items are in %d townships: %v", len(now.groups), now.groups)
	}

	// Eight weeks later nobody has checked in since: hundreds of red
	// items, grouped by township, 50 a page.
	fc.Advance(55 * 24 * time.Hour)
	r.login() // the first session has expired
	all := get("/escalations?unit=QA", 200)
	if all.count <= 100 || sum(all) != all.count || len(all.groups) != 10 {
		t.Fatalf("later: %d red in %d townships (%v, sum %d)", all.count, len(all.groups), all.groups, sum(all))
	}
	t.Logf("at load %d red %v; later %d red %v", now.count, now.groups, all.count, all.groups)
	wantPages := (all.count + 49) / 50
	if all.pages != wantPages || all.page != 1 || all.rows != 50 {
		t.Fatalf("page 1: %d rows, page %d of %d, want 50 rows of %d pages", all.rows, all.page, all.pages, wantPages)
	}
	if strings.Contains(all.body, "<details open>") {
		t.Fatal("with ten townships and a full page the groups start closed")
	}
	mustContain(t, all.body, `rel="next"`, "下一页")
	last := get("/escalations?unit=QA&page="+strconv.Itoa(wantPages), 200)
	if want := all.count - 50*(wantPages-1); last.rows != want || last.page != wantPages || strings.Contains(last.body, `rel="next"`) {
		t.Fatalf("last page: %d rows (want %d), page %d", last.rows, want, last.page)
	}
	if past := get("/escalations?unit=QA&page=9999", 200); past.page != wantPages || past.rows != last.rows {
		t.Fatalf("a page past the last shows page %d with %d rows", past.page, past.rows)
	}
	// Paging covers every item once: the pages' rows add up.
	rows := 0
	for p := 1; p <= wantPages; p++ {
		rows += get("/escalations?unit=QA&page="+strconv.Itoa(p), 200).rows
	}
	if rows != all.count {
		t.Fatalf("the pages list %d rows, the count is %d", rows, all.count)
	}

	// Filters: by township, by obligation, both; the counts agree with the
	// groups' own per-obligation counts.
	town := get("/escalations?unit=QA&township=QA-RZ", 200)
	if len(town.groups) != 1 || town.groups["让字镇"] != all.groups["让字镇"] || town.count != all.groups["让字镇"] {
		t.Fatalf("让字镇 only: %v (count %d), unfiltered 让字镇 %d", town.groups, town.count, all.groups["让字镇"])
	}
	mustContain(t, town.body, "清除筛选", `<option value="QA-RZ" selected>`)
	committee, ok := all.obs["让字镇"]["支部委员会"]
	if !ok {
		t.Fatalf("让字镇 has no red 支部委员会 later: %v", all.obs["让字镇"])
	}
	n, link, _ := strings.Cut(committee, " ")
	both := get(strings.ReplaceAll(link, "&amp;", "&"), 200)
	if strconv.Itoa(both.count) != n || len(both.groups) != 1 || strings.Count(both.body, `<span class="dot red"></span>支部委员会</td>`) != both.rows {
		t.Fatalf("让字镇 × 支部委员会: %d items (the group said %s), groups %v, %d rows", both.count, n, both.groups, both.rows)
	}
	ob := get("/escalations?unit=QA&obligation=committee_meeting", 200)
	if ob.count < both.count || ob.count >= all.count {
		t.Fatalf("支部委员会 only: %d of %d (让字镇: %d)", ob.count, all.count, both.count)
	}

	// Bad filters are refused in Chinese, naming what is wrong.
	mustContain(t, get("/escalations?unit=QA&obligation=nope", 400).body, "没有“nope”这项规定动作")
	mustContain(t, get("/escalations?unit=QA&page=abc", 400).body, "页码“abc”无效")
	mustContain(t, get("/escalations?unit=QA&township=XX", 404).body, "没有要筛选的乡镇")

	// Below the county: one township, one group.
	if rz := get("/escalations?unit=QA-RZ", 200); len(rz.groups) != 1 || rz.count != all.groups["让字镇"] {
		t.Fatalf("the township's own list: %v, %d", rz.groups, rz.count)
	}
}

// On a phone the demo county's red list fits the screen: no horizontal
// scrolling, the township groups open with a tap.
func TestDashboardBrowserEscalations(t *testing.T) {
	fc := sandboxClock()
	r := startSandbox(t, testdb.URL(t), fc)
	fc.Advance(55 * 24 * time.Hour)
	token := r.token()
	ctx := dashBrowser(t)
	dashStep(t, ctx, "log in",
		chromedp.Navigate(r.base+"/login?next=%2Fescalations%3Funit%3DQA"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(".esc-filter")))
	if n := dashEval[int](t, ctx, `document.querySelectorAll('.esc-group details').length`); n != 10 {
		t.Fatalf("%d township groups, want 10", n)
	}
	if n := dashEval[int](t, ctx, `document.querySelectorAll('.esc-group details[open]').length`); n != 0 {
		t.Fatalf("%d groups open at first, want none", n)
	}
	dashFits(t, ctx, "escalations, closed")
	dashShot(t, ctx, "escalations-county.png")
	dashStep(t, ctx, "open the first group", chromedp.Click(chromedp.CSS(`.esc-group details summary`)), chromedp.WaitVisible(chromedp.CSS(`.esc-group details[open] table.esc`)))
	if d := dashEval[string](t, ctx, `getComputedStyle(document.querySelector('table.esc tbody tr')).display`); d != "block" {
		t.Fatalf("a red item on a phone: display %q, want one card per row", d)
	}
	dashFits(t, ctx, "escalations, open")
	dashShot(t, ctx, "escalations-open.png")
	// A smaller phone (375 px) does not scroll sideways either.
	dashStep(t, ctx, "a 375 px phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	if w := dashEval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Fatalf("the open red list is %dpx wide on a 375px phone", w)
	}
	dashStep(t, ctx, "back to the phone", chromedp.EmulateViewport(dashPhoneW, dashPhoneH, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	// Each click navigates: wait for the new document by its address, not
	// for nodes the old one may still show.
	dashStep(t, ctx, "filter", chromedp.Click(chromedp.CSS(`.esc-filter button`)))
	dashWait(t, ctx, "filtered", `location.search.includes('obligation=') && document.readyState === 'complete' && !!document.querySelector('.pager')`)
	dashFits(t, ctx, "escalations, pager")
	dashStep(t, ctx, "next page", chromedp.Click(chromedp.CSS(`.pager a[rel="next"]`)))
	dashWait(t, ctx, "page 2", `document.readyState === 'complete' && !!document.querySelector('.pager a[rel=prev]')`)
	if p := dashEval[string](t, ctx, `document.querySelector('.esc-page').textContent`); p != "2" {
		t.Fatalf("after 下一页 at page %q", p)
	}
	dashFits(t, ctx, "escalations, page 2")
}
