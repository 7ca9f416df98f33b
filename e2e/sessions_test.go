package e2e

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
)

// SPEC §7.5: tokens are listed, revoked and expire from the CLI; the
// dashboard keeps a server-side session, never the token; tokens read by
// role as well as by unit; refusals name nobody outside the caller's scope.

// sessionsStart starts zhibu on the evening of the last day of a year
// (Shanghai time), with the test county.
func sessionsStart(t *testing.T) (*H, *clockwork.FakeClock) {
	t.Helper()
	fc := clockwork.NewFakeClockAt(time.Date(2026, 12, 31, 20, 0, 0, 0, testdb.Loc))
	h := start(t, withClock(fc))
	h.seed()
	return h, fc
}

// tokenList runs `zhibu token list` and returns its CSV rows by id.
func tokenList(t *testing.T, h *H, args ...string) (header []string, rows map[string][]string, raw string) {
	t.Helper()
	raw = h.mustCLI(append([]string{"token", "list"}, args...)...)
	recs, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("token list: %v %q", err, raw)
	}
	rows = map[string][]string{}
	for _, r := range recs[1:] {
		rows[r[0]] = r
	}
	return recs[0], rows, raw
}

func tokenID(t *testing.T, h *H, token string) string {
	t.Helper()
	var id int64
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &id, `SELECT id FROM api_tokens WHERE token_hash = $1`, accounts.Hash(token)); err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}

func TestTokenListRevokeExpires(t *testing.T) {
	h, fc := sessionsStart(t)

	// A role that is not a role, and expiries that make no sense, are refused.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--unit", "QA-RZ", "--role", "boss"}, "没有角色 boss"},
		{[]string{"--unit", "QA-RZ", "--role", "Admin"}, "没有角色 Admin"},
		{[]string{"--unit", "QA-RZ", "--role", "admin", "--expires", "30"}, "有效期 30 写法不对"},
		{[]string{"--unit", "QA-RZ", "--role", "admin", "--expires", "0d"}, "必须大于零"},
		{[]string{"--unit", "QA-RZ", "--role", "admin", "--expires", "2026-12-30"}, "已经过去"},
		{[]string{"--unit", "NOPE", "--role", "admin"}, "没有编码为 NOPE 的单位"},
	} {
		out, errs, code := h.cli(append([]string{"token", "create"}, c.args...)...)
		if code != 1 || out != "" || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("token create %v: exit %d, stdout %q, stderr %q; want exit 1 saying %q", c.args, code, out, errs, c.want)
		}
	}
	var n int
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM api_tokens`); err != nil || n != 0 {
		t.Fatalf("refused creates stored %d tokens (%v)", n, err)
	}

	// The existing form still prints the token alone.
	admin := h.token("QA-RZ", "admin")
	monthly := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-RZ-XZ", "--role", "reviewer", "--expires", "30d"))
	today := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-DB", "--role", "organiser", "--expires", "2026-12-31"))
	for _, tok := range []string{admin, monthly, today} {
		if !strings.HasPrefix(tok, "zb_") || strings.ContainsAny(tok, " \n") {
			t.Fatalf("token create printed %q", tok)
		}
	}
	if code, _ := h.api("GET", "/api/v1/units", admin, nil); code != 200 {
		t.Fatalf("admin token: %d", code)
	}

	// token list: the contract's columns, no secret, times in the zone.
	header, rows, raw := tokenList(t, h)
	if strings.Join(header, ",") != "id,unit,role,created_at,expires_at,last_used_at" {
		t.Fatalf("token list header %v", header)
	}
	for _, tok := range []string{admin, monthly, today} {
		if strings.Contains(raw, tok) || strings.Contains(raw, strings.TrimPrefix(tok, "zb_")) {
			t.Fatal("token list shows a secret")
		}
	}
	ida, idm, idt := tokenID(t, h, admin), tokenID(t, h, monthly), tokenID(t, h, today)
	if got := strings.Join(rows[ida], ","); got != ida+",QA-RZ,admin,2026-12-31T20:00:00+08:00,,2026-12-31T20:00:00+08:00" {
		t.Fatalf("admin row %q", got)
	}
	if got := strings.Join(rows[idm], ","); got != idm+",QA-RZ-XZ,reviewer,2026-12-31T20:00:00+08:00,2027-01-30T20:00:00+08:00," {
		t.Fatalf("30d row %q", got)
	}
	if got := rows[idt][4]; got != "2027-01-01T00:00:00+08:00" {
		t.Fatalf("a token for today expires %q, want at the end of the day", got)
	}
	if _, rows, _ = tokenList(t, h, "--unit", "QA-RZ"); len(rows) != 2 || rows[idt] != nil {
		t.Fatalf("token list --unit QA-RZ: %v", rows)
	}
	if _, errs, code := h.cli("token", "list", "--unit", "NOPE"); code != 1 || !strings.Contains(errs, "NOPE") {
		t.Fatalf("token list --unit NOPE: %d %q", code, errs)
	}

	// An expired token is refused with 401 and says so.
	if code, _ := h.api("GET", "/api/v1/units", today, nil); code != 200 {
		t.Fatalf("today's token before midnight: %d", code)
	}
	fc.Advance(4 * time.Hour) // midnight: 2027-01-01 00:00
	code, out := h.api("GET", "/api/v1/units", today, nil)
	if code != 401 || !strings.Contains(out["error"].(string), "已过期") {
		t.Fatalf("expired token: %d %v", code, out)
	}
	if code, _ := h.api("GET", "/api/v1/units", monthly, nil); code != 200 {
		t.Fatalf("30-day token on day one: %d", code)
	}

	// token revoke: the token is refused at once and leaves the list.
	if got := h.mustCLI("token", "revoke", ida); got != "token "+ida+" revoked\n" {
		t.Fatalf("revoke: %q", got)
	}
	code, out = h.api("GET", "/api/v1/units", admin, nil)
	if code != 401 || strings.Contains(out["error"].(string), "已过期") {
		t.Fatalf("revoked token: %d %v", code, out)
	}
	if _, rows, _ = tokenList(t, h); rows[ida] != nil || rows[idm] == nil || rows[idt] == nil {
		t.Fatalf("token list after revoke: %v", rows)
	}
	if got := h.mustCLI("token", "revoke", ida); got != "token "+ida+" was already revoked\n" {
		t.Fatalf("revoke again: %q", got)
	}
	if _, errs, code := h.cli("token", "revoke", "999999"); code != 1 || !strings.Contains(errs, "没有编号为 999999 的令牌") {
		t.Fatalf("revoke unknown: %d %q", code, errs)
	}
	for _, args := range [][]string{{"token", "revoke"}, {"token", "revoke", "x"}, {"token", "revoke", ida, "--role", "admin"}, {"token", "list", "extra"}, {"token", "drop"}} {
		if _, errs, code := h.cli(args...); code == 0 || errs == "" {
			t.Errorf("zhibu %v: exit %d", args, code)
		}
	}
	var audited int
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &audited, `SELECT count(*) FROM audit_log WHERE action = 'token.revoke' AND subject = $1`, "token:"+ida); err != nil || audited != 1 {
		t.Fatalf("token.revoke audited %d times (%v)", audited, err)
	}
}

func sessionCount(t *testing.T, h *H, tokenID string) int {
	t.Helper()
	return testdb.Count(t, h.Srv.Store, `SELECT count(*) FROM dashboard_sessions WHERE token_id = $1`, tokenID)
}

// sessionCookie logs a client in and returns the session cookie's value.
func sessionCookie(t *testing.T, h *H, c *http.Client, token string, header map[string]string) (*http.Response, string) {
	t.Helper()
	resp, _ := dashPost(t, c, h.Base+"/login", url.Values{"token": {token}}, header)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "zhibu_dashboard" {
			return resp, ck.Value
		}
	}
	t.Fatal("login set no session cookie")
	return nil, ""
}

func TestDashboardSessions(t *testing.T) {
	h, fc := sessionsStart(t)
	org := h.token("QA-RZ", "organiser")
	id := tokenID(t, h, org)
	c := dashClient(t, false)

	// GET /login?token= shows the form and opens no session.
	resp, body := dashGet(t, c, h.Base+"/login?token="+url.QueryEscape(org))
	if resp.StatusCode != 200 || len(resp.Cookies()) != 0 || strings.Contains(body, org) || sessionCount(t, h, id) != 0 {
		t.Fatalf("GET /login?token=: %d %v", resp.StatusCode, resp.Cookies())
	}
	mustContain(t, body, "不接受放在链接里的令牌", `name="token"`)

	// POST /login: the cookie is a session id, stored only as its hash.
	resp, sid := sessionCookie(t, h, c, org, nil)
	if sid == org || strings.Contains(sid, strings.TrimPrefix(org, "zb_")) || len(sid) < 40 {
		t.Fatalf("the cookie %q is (or holds) the token", sid)
	}
	sc := resp.Header.Get("Set-Cookie")
	mustContain(t, sc, "HttpOnly", "SameSite=Strict", "Max-Age=604800")
	if strings.Contains(sc, "Secure") {
		t.Fatalf("plain HTTP set a Secure cookie: %q", sc)
	}
	var stored struct {
		Hash    []byte    `db:"session_hash"`
		Created time.Time `db:"created_at"`
		Expires time.Time `db:"expires_at"`
		Seen    time.Time `db:"last_seen_at"`
	}
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &stored, `SELECT session_hash, created_at, expires_at, last_seen_at FROM dashboard_sessions WHERE token_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if string(stored.Hash) != string(accounts.Hash(sid)) || !stored.Created.Equal(fc.Now()) || !stored.Expires.Equal(fc.Now().Add(7*24*time.Hour)) {
		t.Fatalf("stored session %+v", stored)
	}
	fc.Advance(time.Hour)
	if resp, _ = dashGet(t, c, h.Base+"/"); resp.StatusCode != 200 {
		t.Fatalf("board with the session: %d", resp.StatusCode)
	}
	var seen time.Time
	_ = h.Srv.Store.DB().GetContext(h.Ctx, &seen, `SELECT last_seen_at FROM dashboard_sessions WHERE token_id = $1`, id)
	if !seen.Equal(fc.Now()) {
		t.Fatalf("last seen %v, want %v", seen, fc.Now())
	}
	// The token itself is no cookie: a browser that sends it gets the form.
	forged := dashClient(t, false)
	u, _ := url.Parse(h.Base)
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: "zhibu_dashboard", Value: org}})
	if resp, _ = dashGet(t, forged, h.Base+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the token as a cookie: %d", resp.StatusCode)
	}

	// Logging in again replaces this browser's session.
	_, sid2 := sessionCookie(t, h, c, org, nil)
	if sid2 == sid || sessionCount(t, h, id) != 1 {
		t.Fatalf("second login: same id %v, %d sessions", sid2 == sid, sessionCount(t, h, id))
	}

	// POST /logout from another site is refused; from the page it ends
	// the session, and the old cookie no longer works.
	if resp, _ = dashPost(t, c, h.Base+"/logout", nil, map[string]string{"Origin": "http://evil.example"}); resp.StatusCode != http.StatusForbidden || sessionCount(t, h, id) != 1 {
		t.Fatalf("cross-site logout: %d", resp.StatusCode)
	}
	if resp, _ = dashPost(t, c, h.Base+"/logout", nil, map[string]string{"Origin": h.Base}); resp.StatusCode != http.StatusSeeOther || sessionCount(t, h, id) != 0 {
		t.Fatalf("logout: %d, %d sessions left", resp.StatusCode, sessionCount(t, h, id))
	}
	replay := dashClient(t, false)
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "zhibu_dashboard", Value: sid2}})
	if resp, _ = dashGet(t, replay, h.Base+"/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?why=ended" {
		t.Fatalf("a logged-out session id: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Revoking the token ends its sessions (two browsers here).
	other := dashClient(t, false)
	_, _ = sessionCookie(t, h, c, org, nil)
	_, _ = sessionCookie(t, h, other, org, nil)
	if n := sessionCount(t, h, id); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
	h.mustCLI("token", "revoke", id)
	if n := sessionCount(t, h, id); n != 0 {
		t.Fatalf("revoke left %d sessions", n)
	}
	for _, cl := range []*http.Client{c, other} {
		if resp, _ = dashGet(t, cl, h.Base+"/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("board after revoke: %d", resp.StatusCode)
		}
	}
	resp, body = dashPost(t, c, h.Base+"/login", url.Values{"token": {org}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "令牌无效或已被撤销") {
		t.Fatalf("login with a revoked token: %d", resp.StatusCode)
	}

	// An expiring token: the session ends with it, and the login form says
	// why the token is refused afterwards.
	short := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-RZ", "--role", "admin", "--expires", "2h"))
	resp, _ = sessionCookie(t, h, c, short, nil)
	mustContain(t, resp.Header.Get("Set-Cookie"), "Max-Age=7200")
	if resp, _ = dashGet(t, c, h.Base+"/"); resp.StatusCode != 200 {
		t.Fatalf("board with the 2h token: %d", resp.StatusCode)
	}
	fc.Advance(2 * time.Hour)
	if resp, _ = dashGet(t, c, h.Base+"/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?why=ended" {
		t.Fatalf("board after the token expired: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := sessionCount(t, h, tokenID(t, h, short)); n != 0 {
		t.Fatalf("an expired token's session is still stored (%d)", n)
	}
	resp, body = dashPost(t, c, h.Base+"/login", url.Values{"token": {short}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "令牌已过期") || len(resp.Cookies()) != 0 {
		t.Fatalf("login with an expired token: %d", resp.StatusCode)
	}

	// X-Forwarded-Proto from anyone but a trusted proxy does not make the
	// cookie Secure (none is configured here).
	admin := h.token("QA-RZ", "admin")
	resp, _ = sessionCookie(t, h, dashClient(t, false), admin, map[string]string{"X-Forwarded-Proto": "https"})
	if strings.Contains(resp.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("an untrusted X-Forwarded-Proto made the cookie Secure: %q", resp.Header.Get("Set-Cookie"))
	}
}

// Behind a trusted proxy that says https, the cookie is Secure.
func TestDashboardSecureCookieBehindProxy(t *testing.T) {
	h := start(t, withConfig(func(c *config.Config) { c.HTTP.TrustedProxies = []string{"127.0.0.1/32"} }))
	h.seed()
	admin := h.token("QA-RZ", "admin")
	resp, _ := sessionCookie(t, h, dashClient(t, false), admin, map[string]string{"X-Forwarded-Proto": "https"})
	mustContain(t, resp.Header.Get("Set-Cookie"), "Secure", "HttpOnly")
	resp, _ = sessionCookie(t, h, dashClient(t, false), admin, nil)
	if strings.Contains(resp.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("plain HTTP through the proxy: %q", resp.Header.Get("Set-Cookie"))
	}
}

func TestReadsByRole(t *testing.T) {
	h, _ := sessionsStart(t)
	// Tokens that may not list people: their reads of names, phones and
	// households are refused, at their own unit too.
	for _, c := range []struct{ unit, role string }{{"QA-RZ-XZ", "villager"}, {"QA-RZ-XZ", "reviewer"}, {"QA-RZ-XZ", "shopkeeper"}, {"QA-RZ", "reviewer"}} {
		tok := h.token(c.unit, c.role)
		for _, path := range []string{"/api/v1/people", "/api/v1/people?unit=QA-RZ-XZ&role=villager", "/api/v1/escalations",
			"/api/v1/notifications/misses", "/api/v1/checkins", "/api/v1/audit"} {
			code, out := h.api("GET", path, tok, nil)
			if code != 403 {
				t.Errorf("%s token of %s: GET %s = %d %v, want 403", c.role, c.unit, path, code, out)
				continue
			}
			if msg, _ := out["error"].(string); strings.Contains(msg, "138") || strings.Contains(msg, c.role) {
				t.Errorf("%s: refusal %q names a phone or a role code", path, msg)
			}
		}
		// The unit tree and the lights name no people.
		for _, path := range []string{"/api/v1/units", "/api/v1/lights"} {
			if code, out := h.api("GET", path, tok, nil); code != 200 {
				t.Errorf("%s token: GET %s = %d %v", c.role, path, code, out)
			}
		}
	}
	if code, _ := h.api("GET", "/api/v1/claims", h.token("QA-RZ-XZ", "villager"), nil); code != 403 {
		t.Errorf("villager token listed claims: %d", code)
	}
	// Those who look after people may.
	for _, c := range []struct{ unit, role string }{{"QA-RZ-XZ-B1", "secretary"}, {"QA-RZ", "organiser"}, {"QA-RZ", "admin"}} {
		code, out := h.api("GET", "/api/v1/people", h.token(c.unit, c.role), nil)
		if code != 200 || len(out["people"].([]any)) == 0 {
			t.Errorf("%s token: people %d %v", c.role, code, out)
		}
	}
	var refusals int
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &refusals, `SELECT count(*) FROM audit_log WHERE action = 'people.list' AND NOT allowed`); err != nil || refusals != 8 {
		t.Errorf("people.list refusals logged: %d (%v), want 8", refusals, err)
	}
}

// Refusals name nobody outside the caller's scope: a bind code for a phone
// nobody has and for a phone of someone in another township get the same
// answer, and so do redemptions for such phones.
func TestRefusalsNameNobodyOutside(t *testing.T) {
	h, _ := sessionsStart(t)
	admin := h.token("QA-RZ", "admin")
	c1, out1 := h.api("POST", "/api/v1/bind-codes", admin, map[string]string{"phone": "13800000009"}) // 冯书记, QA-DB
	c2, out2 := h.api("POST", "/api/v1/bind-codes", admin, map[string]string{"phone": "13899999999"}) // nobody
	m1, _ := out1["error"].(string)
	m2, _ := out2["error"].(string)
	if c1 != 403 || c1 != c2 || strings.ReplaceAll(m1, "13800000009", "P") != strings.ReplaceAll(m2, "13899999999", "P") {
		t.Fatalf("bind code: outside %d %q, nobody %d %q; want the same answer", c1, m1, c2, m2)
	}
	if strings.Contains(m1, "冯书记") {
		t.Fatalf("the refusal names the person: %q", m1)
	}

	// The points ledger of a phone outside the token's villages.
	rev := h.token("QA-RZ-XZ", "reviewer")
	c1, out1 = h.api("GET", "/api/v1/ledger?household=13800000009", rev, nil)
	c2, out2 = h.api("GET", "/api/v1/ledger?household=13899999999", rev, nil)
	m1, _ = out1["error"].(string)
	m2, _ = out2["error"].(string)
	if c1 != c2 || strings.ReplaceAll(m1, "13800000009", "P") != strings.ReplaceAll(m2, "13899999999", "P") || strings.Contains(m1, "冯书记") {
		t.Fatalf("ledger: outside %d %q, nobody %d %q; want the same answer", c1, m1, c2, m2)
	}
	// Inside, the household is found.
	if code, out := h.api("GET", "/api/v1/ledger?household=13800000006", rev, nil); code != 200 {
		t.Fatalf("ledger of a villager of the village: %d %v", code, out)
	}
}

// The audit log shows an admin token only its subtree: entries of a person
// who holds a role outside it too (who may have acted there) are for an
// admin over all of their roles.
func TestAuditLogSubtreeOnly(t *testing.T) {
	h, _ := sessionsStart(t)
	rz, county := h.token("QA-RZ", "admin"), h.token("QA", "admin")
	db := h.Srv.Store.DB()
	// 王书记 (QA-RZ-XZ-B1 and -B2) and 冯书记 (QA-DB-HX-B1), then 王书记 also in QA-DB.
	for _, e := range []struct{ phone, subject string }{{"13800000001", "rz-only"}, {"13800000009", "db-only"}} {
		if _, err := db.ExecContext(h.Ctx, `INSERT INTO audit_log (actor_id, actor, action, subject, allowed, details)
			SELECT id, 'tg:1', 'test.audit', $2, true, '{}' FROM people WHERE phone = $1`, e.phone, e.subject); err != nil {
			t.Fatal(err)
		}
	}
	subjects := func(tok string) string {
		t.Helper()
		code, out := h.api("GET", "/api/v1/audit?action=test.audit", tok, nil)
		if code != 200 {
			t.Fatalf("audit: %d %v", code, out)
		}
		es, ok := out["entries"].([]any)
		if !ok {
			t.Fatalf("audit entries %v, want a list", out["entries"])
		}
		var s []string
		for _, e := range es {
			s = append(s, e.(map[string]any)["subject"].(string))
		}
		return strings.Join(s, ",")
	}
	if got := subjects(rz); got != "rz-only" {
		t.Fatalf("QA-RZ admin sees %q", got)
	}
	if got := subjects(county); got != "db-only,rz-only" {
		t.Fatalf("county admin sees %q", got)
	}
	if _, err := db.ExecContext(h.Ctx, `INSERT INTO roles (person_id, role, unit_id) SELECT p.id, 'secretary', u.id FROM people p, units u
		WHERE p.phone = '13800000001' AND u.code = 'QA-DB-HX-B1'`); err != nil {
		t.Fatal(err)
	}
	if got := subjects(rz); got != "" {
		t.Fatalf("QA-RZ admin sees %q of someone who also serves in QA-DB", got)
	}
	if got := subjects(county); got != "db-only,rz-only" {
		t.Fatalf("county admin sees %q", got)
	}
}
