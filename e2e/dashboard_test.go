package e2e

import (
	"bytes"
	"context"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/cli"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/web"
)

// The dashboard tests run on a fake clock at 2026-11-26 10:00 (Asia/Shanghai).
// QA-RZ-XZ-B1 owes obligations from October: its October 党费收缴 and
// 主题党日 are red (the latter's check-in was rejected), its October 支委会 was
// checked in late; QA-RZ-XZ-B2 started in November and is only yellow (the
// November 支委会 and 党费收缴 are in their yellow window). The branches have
// no party groups, so they owe no 党小组会. So township
// QA-RZ counts one red and one yellow branch, both in 幸福村.
var (
	dashWang = user(5101, "王") // secretary of B1 and B2
	dashLi   = user(5102, "李") // secretary of B2
	dashZhao = user(5103, "赵") // organiser of township QA-RZ
)

// dashStart starts zhibu with the seeded county, the history above and
// some village points, and returns an organiser token of QA-RZ.
func dashStart(t *testing.T) (*H, string) {
	t.Helper()
	fc := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 10, 0, 0, 0, testdb.Loc))
	h := start(t, withClock(fc))
	h.seed()
	h.startUnits(func(code string) time.Time {
		if code == "QA-RZ-XZ-B2" {
			return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		}
		return time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	})
	h.link("13800000001", dashWang)
	h.link("13800000002", dashLi)
	h.link("13800000003", dashZhao)

	// Check-ins through the bot, as secretaries send them.
	wang, li := h.Fake.PrivateChat(dashWang), h.Fake.PrivateChat(dashLi)
	h.say(li, dashLi, "/checkin 支委会 11-25 7/9 学习二十大精神")
	h.waitMsg(dashLi.ID, "打卡成功")
	h.say(wang, dashWang, "/checkin QA-RZ-XZ-B1 支委会 10-20 6/9 补开十月支委会")
	h.waitMsg(dashWang.ID, "补开十月支委会")
	h.say(wang, dashWang, "/checkin QA-RZ-XZ-B1 主题党日 10-15 5/9 观看电影")
	h.waitMsg(dashWang.ID, "观看电影")
	var themeID int64
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &themeID, `SELECT max(id) FROM checkins WHERE topic = '观看电影'`); err != nil {
		t.Fatal(err)
	}
	h.say(h.Fake.PrivateChat(dashZhao), dashZhao, "/reject "+strconv.FormatInt(themeID, 10)+" 缺少签到表照片")
	h.waitMsg(dashZhao.ID, "已驳回")
	h.say(wang, dashWang, "/ack 党费收缴 11-30")
	h.waitMsg(dashWang.ID, "11-30")

	// Village points of the current settlement period: five for H001, a
	// veto for H002.
	now := fc.Now().Add(-time.Hour)
	var village, h1, h2 int64
	db := h.Srv.Store.DB()
	if err := db.GetContext(h.Ctx, &village, `SELECT id FROM units WHERE code = 'QA-RZ-XZ'`); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(h.Ctx, &h1, `SELECT id FROM households WHERE unit_id = $1 AND code = 'H001'`, village); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(h.Ctx, &h2, `SELECT id FROM households WHERE unit_id = $1 AND code = 'H002'`, village); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(h.Ctx, `INSERT INTO point_ledger (household_id, village_id, kind, points, item_code, item_name, recorded_at, effective_at, actor)
		VALUES ($1, $2, 'award', 5, 'B01', '参加治安巡逻', $3, $3, 'test')`, h1, village, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(h.Ctx, `INSERT INTO claims (village_id, household_id, kind, item_code, item_name, category, points, veto, status, claimed_at, decided_at)
		VALUES ($1, $2, 'deduction', 'E01', '违法犯罪', '否决项目', 0, true, 'approved', $3, $3)`, village, h2, now); err != nil {
		t.Fatal(err)
	}
	return h, h.token("QA-RZ", "organiser")
}

// dashClient is a browser-like client: it keeps cookies and, unless follow
// is set, shows redirects instead of following them.
func dashClient(t *testing.T, follow bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func dashDo(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func dashGet(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dashDo(t, c, req)
}

func dashPost(t *testing.T, c *http.Client, u string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return dashDo(t, c, req)
}

func TestDashboardLogin(t *testing.T) {
	h, org := dashStart(t)
	c := dashClient(t, false)

	// No cookie: every page sends the browser to the login form, and back.
	resp, _ := dashGet(t, c, h.Base+"/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("GET / without a cookie: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = dashGet(t, c, h.Base+"/escalations?unit=QA-RZ-XZ")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next=%2Fescalations%3Funit%3DQA-RZ-XZ" {
		t.Fatalf("GET /escalations without a cookie: %d %q", resp.StatusCode, loc)
	}
	resp, body := dashGet(t, c, h.Base+"/login")
	if resp.StatusCode != 200 {
		t.Fatalf("login form: %d", resp.StatusCode)
	}
	mustContain(t, body, "登录看板", `name="token"`, `href="#sandbox"`, "zhibu token create --unit QA --role admin")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q", csp)
	}

	// Refusals: unknown token, a role that may not see names, another site.
	resp, body = dashPost(t, c, h.Base+"/login", url.Values{"token": {"zb_wrong"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "令牌无效或已被撤销") {
		t.Fatalf("wrong token: %d %s", resp.StatusCode, body)
	}
	resp, body = dashPost(t, c, h.Base+"/login", url.Values{"token": {h.token("QA-RZ-XZ-B1", "secretary")}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "不能查看看板") {
		t.Fatalf("secretary token: %d %s", resp.StatusCode, body)
	}
	resp, _ = dashPost(t, c, h.Base+"/login", url.Values{"token": {org}}, map[string]string{"Origin": "http://evil.example"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login: %d", resp.StatusCode)
	}
	if u, _ := url.Parse(h.Base); len(c.Jar.Cookies(u)) != 0 {
		t.Fatalf("a refused login set cookies: %v", c.Jar.Cookies(u))
	}

	// The form logs in: an HttpOnly, SameSite=Strict cookie, then back to
	// the page asked for; never to another site.
	resp, _ = dashPost(t, c, h.Base+"/login", url.Values{"token": {" " + org + " "}, "next": {"//evil.example/x"}}, map[string]string{"Origin": h.Base})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	sc := resp.Header.Get("Set-Cookie")
	mustContain(t, sc, "zhibu_dashboard=", "HttpOnly", "SameSite=Strict", "Path=/")
	resp, body = dashGet(t, c, h.Base+"/")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("board after login: %d %v", resp.StatusCode, resp.Header)
	}
	mustContain(t, body, "让字镇 · 乡镇党委组织委员", "幸福村") // the header names the token's unit and role

	// The cookie is a session id, never the token.
	if strings.Contains(sc, org) || strings.Contains(sc, strings.TrimPrefix(org, "zb_")) {
		t.Fatalf("the cookie holds the token: %q", sc)
	}

	// Logout is POST only and ends the session.
	if resp, _ = dashGet(t, c, h.Base+"/logout"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /logout: %d, want 404 (POST only)", resp.StatusCode)
	}
	if resp, _ = dashGet(t, c, h.Base+"/"); resp.StatusCode != 200 {
		t.Fatalf("board after GET /logout: %d, want still logged in", resp.StatusCode)
	}
	resp, _ = dashPost(t, c, h.Base+"/logout", nil, map[string]string{"Origin": h.Base})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	if resp, _ = dashGet(t, c, h.Base+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("board after logout: %d", resp.StatusCode)
	}

	// ?token= never logs in: GET /login only shows the form.
	resp, body = dashGet(t, c, h.Base+"/login?token="+url.QueryEscape(org)+"&next="+url.QueryEscape("/?unit=QA-RZ-XZ"))
	if resp.StatusCode != 200 || resp.Header.Get("Set-Cookie") != "" || strings.Contains(body, org) {
		t.Fatalf("login by link: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	mustContain(t, body, `name="token"`, `value="/?unit=QA-RZ-XZ"`)
	if resp, _ = dashGet(t, c, h.Base+"/?unit=QA-RZ-XZ"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("board after login by link: %d, want the login form", resp.StatusCode)
	}

	// A revoked (here: forgotten) token loses access at once.
	resp, _ = dashPost(t, c, h.Base+"/login", url.Values{"token": {org}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login again: %d", resp.StatusCode)
	}
	if _, err := h.Srv.Store.DB().ExecContext(h.Ctx, `DELETE FROM api_tokens`); err != nil {
		t.Fatal(err)
	}
	resp, _ = dashGet(t, c, h.Base+"/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?why=ended" {
		t.Fatalf("revoked token: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Stylesheets come from the binary, not from a CDN.
	resp, body = dashGet(t, c, h.Base+"/assets/dashboard.css")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ".units") {
		t.Fatalf("dashboard.css: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ = dashGet(t, c, h.Base+"/assets/"); resp.StatusCode != 404 {
		t.Fatalf("asset listing: %d", resp.StatusCode)
	}
}

// dashLogin returns a client logged in with token.
func dashLogin(t *testing.T, h *H, token string) *http.Client {
	t.Helper()
	c := dashClient(t, true)
	resp, _ := dashPost(t, c, h.Base+"/login", url.Values{"token": {token}}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return c
}

func TestDashboardBoard(t *testing.T) {
	h, org := dashStart(t)
	c := dashLogin(t, h, org)
	page := func(path string, status int, wants ...string) string {
		t.Helper()
		resp, body := dashGet(t, c, h.Base+path)
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d, want %d\n%s", path, resp.StatusCode, status, body)
		}
		mustContain(t, body, wants...)
		return body
	}

	// The township: its village with one red and one yellow branch.
	body := page("/", 200, "<h1>让字镇</h1>", "评估时间", "2026-11-26 10:00", `href="/?unit=QA-RZ-XZ"`, ">幸福村</a>",
		`data-green="0" data-yellow="1" data-red="1"`, `href="/rankings?unit=QA-RZ-XZ"`, "需关注的支部", "幸福村第一党支部")
	if strings.Contains(body, "大布苏镇") || strings.Contains(body, "和兴村") {
		t.Fatal("the board shows units outside the token's subtree")
	}
	// The village: its branches, each with its light and open items.
	body = page("/?unit=QA-RZ-XZ", 200, `<nav class="crumbs"`, `href="/?unit=QA-RZ">让字镇</a>`, "幸福村第一党支部", "幸福村第二党支部",
		`href="/?unit=QA-RZ-XZ-B1"`, "红灯事项 <b>2</b>", "黄灯事项 <b>2</b>")
	if strings.Contains(body, `href="/?unit=QA">`) {
		t.Fatal("breadcrumbs go above the token's unit")
	}
	// The branch: obligations with lights, due dates and the check-ins
	// behind them, the rejected one marked, the promise; the last
	// check-ins with the late one marked.
	body = page("/?unit=QA-RZ-XZ-B1", 200, "幸福村第一党支部", "规定动作", "支部委员会", "党费收缴", "主题党日",
		"2026年10月", "2026年11月", "2026-10-31", "支部委员会 2026年10月（补开）", "6/9", "补开十月支委会",
		"已驳回", "缺少签到表照片", "逾期 26 天", "确认收到", "承诺 2026-11-30 前完成", "最近打卡", "观看电影", "王书记")
	if n := strings.Count(body, `<tr class="item light-red">`); n != 2 {
		t.Fatalf("branch page lists %d red items, want 2 (October 党费收缴 and 主题党日)", n)
	}
	page("/?unit=QA-RZ-XZ-B2", 200, "2026-11-25 召开", "出席 7/9", "学习二十大精神", "黄灯")

	// Outside the subtree, unknown.
	page("/?unit=QA-DB", 403, "无权查看", "不在您的管辖范围内")
	page("/?unit=QA", 403, "无权查看")
	page("/escalations?unit=QA-DB-HX", 403, "无权查看")
	page("/rankings?unit=QA-DB-HX", 403, "无权查看")
	page("/?unit=NOPE", 404, "找不到", "没有编码为 NOPE 的单位")

	// The red list, longest overdue first, with who acknowledged.
	page("/escalations", 200, "红灯督办", `class="esc-count">2</b>`, "幸福村第一党支部", "党费收缴", "主题党日",
		"2026-10-31", "26 天", "王书记", "承诺 2026-11-30 前完成", "未确认")
	page("/escalations?unit=QA-RZ-XZ-B2", 200, "目前没有红灯事项")

	// Rankings: above villages, the villages; a village, its households.
	page("/rankings", 200, `href="/rankings?unit=QA-RZ-XZ"`, "幸福村")
	body = page("/rankings?unit=QA-RZ-XZ", 200, "积分排名", "2026年11月结算期", "H001", "周村民", "H002", "吴村民", "一票否决")
	if i, j := strings.Index(body, "H001"), strings.Index(body, "H002"); i < 0 || j < i {
		t.Fatal("the vetoed household should come last")
	}
	mustContain(t, body, `<td class="num">5</td>`)
}

// The sandbox console parses every template of web with no funcs: the
// dashboard's templates must parse that way too (they format through
// methods), or `make run` would not start.
func TestDashboardTemplatesNeedNoFuncs(t *testing.T) {
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("web.Templates without funcs: %v", v)
		}
	}()
	tmpl := web.Templates(template.FuncMap{})
	for _, name := range []string{"dashboard_board", "dashboard_escalations", "dashboard_rankings", "dashboard_login", "dashboard_error", "sandbox"} {
		if tmpl.Lookup(name) == nil {
			t.Errorf("template %s missing", name)
		}
	}
}

// In the offline sandbox (telegram.mode sandbox) the login page says how to get a
// token for the demo county, and the board shows it. The sandbox runs on
// a fake clock on the last day of a year, where "three months back" is
// 1 September (not 31 September = 1 October).
func TestDashboardSandbox(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 12, 31, 23, 59, 0, 0, testdb.Loc))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dbURL := testdb.URL(t)
	cfg := config.Default()
	cfg.Database.URL = dbURL
	cfg.Telegram.Mode = "sandbox"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Healthcheck.Every = 0
	var logs bytes.Buffer
	srv, err := cli.StartServer(ctx, cfg, slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs}, nil)), fc)
	if err != nil {
		t.Fatalf("start the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(10 * time.Second) })
	base := "http://" + srv.Addr
	var out, errb bytes.Buffer
	if code := cli.Run(ctx, []string{"token", "create", "--unit", "QA", "--role", "admin"},
		cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: []string{"ZHIBU_DATABASE_URL=" + dbURL}, Clock: fc}); code != 0 {
		t.Fatalf("token create: %d %s", code, errb.String())
	}
	c := dashClient(t, true)
	resp, body := dashGet(t, c, base+"/login")
	if resp.StatusCode != 200 {
		t.Fatalf("login form: %d", resp.StatusCode)
	}
	mustContain(t, body, "本服务正运行在<strong>离线沙盒</strong>", "./bin/zhibu token create --unit QA --role admin", `href="/sandbox"`)
	resp, body = dashPost(t, c, base+"/login", url.Values{"token": {strings.TrimSpace(out.String())}}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	mustContain(t, body, "<h1>乾安县</h1>", "让字镇", "大布苏镇", "所字镇", `href="/sandbox">沙盒对话</a>`, "需关注的支部")
	if resp, body = dashGet(t, c, base+"/?unit=QA-RZ-V1-B1"); resp.StatusCode != 200 {
		t.Fatalf("demo branch: %d", resp.StatusCode)
	}
	mustContain(t, body, `<tr class="item light-red">`) // the demo owes from three months back
	if b1, err := srv.Store.UnitByCode(ctx, "QA-RZ-V1-B1"); err != nil || b1.StartedOn.Format(time.DateOnly) != "2026-09-01" {
		t.Fatalf("demo branch starts %v (%v), want 2026-09-01", b1.StartedOn, err)
	}
	if resp, _ = dashGet(t, c, base+"/sandbox"); resp.StatusCode != 200 {
		t.Fatalf("the sandbox console: %d", resp.StatusCode)
	}
}
