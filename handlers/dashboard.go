package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/dashboard"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/web"
)

// dash is what the dashboard says (internal/texts/dashboard.yaml).
var dash = texts.Dashboard

// Dashboard (SPEC §5): server-rendered pages in Chinese, readable on a
// phone, with no script and no external resource:
//
//	GET  /                 the traffic-light board; ?unit=CODE drills down
//	                       (county → township → village → branch)
//	GET  /escalations      the red list by township, longest overdue first
//	                       (?unit=CODE, filters ?obligation= ?township=, ?page=N)
//	GET  /rankings         a village's live points ranking (?unit=VILLAGE);
//	                       above villages, the villages to pick from
//	GET  /login            the token form (it never takes a token itself)
//	POST /login            form fields token, next: opens a session
//	POST /logout           ends the session
//	GET  /assets/*file     the embedded stylesheets (web/static)
//
// The pages show people's names, so they are not public: one logs in with an
// organiser or admin API token (zhibu token create --unit CODE --role
// organiser). The login opens a server-side session (SPEC §7.5): the
// HttpOnly, SameSite=Strict cookie holds a random session id, never the
// token, and only the id's hash is stored. Every request resolves the
// session and its token again (logging out, revoking or expiring the token
// ends it at once) and sees only the token's unit subtree: a unit outside it
// answers 403, an unknown one 404, both as pages. Login and logout are POST
// only and refuse a form posted from another site.

const (
	dashCookie  = "zhibu_dashboard"
	dashAssets  = "/assets"
	dashMaxForm = 4 << 10
)

type dashboardPages struct {
	app     *app.App
	log     *slog.Logger
	tmpl    *template.Template
	sandbox func() bool
	assets  map[string]string // file name -> version (content hash)
	fmt     dashFmt
	proxies []netip.Prefix // whose X-Forwarded-Proto is believed
}

func registerDashboard(r *gin.Engine, d Deps) {
	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		panic(err)
	}
	h := &dashboardPages{app: d.App, log: d.Log, assets: map[string]string{}, proxies: parseProxies(d.TrustedProxies)}
	_ = fs.WalkDir(static, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if b, err := fs.ReadFile(static, p); err == nil {
				sum := sha256.Sum256(b)
				h.assets[p] = hex.EncodeToString(sum[:4])
			}
		}
		return nil
	})
	// The offline sandbox registers its console after the feature routes;
	// its presence is what tells the login page to explain the demo token.
	h.sandbox = sync.OnceValue(func() bool { return hasRoute(r, http.MethodGet, "/sandbox") })
	h.fmt = dashFmt{loc: d.App.Loc, app: d.App, assets: h.assets}
	h.tmpl = web.Templates(template.FuncMap{})
	if !hasRoute(r, http.MethodGet, dashAssets+"/*filepath") {
		files := http.FileServer(http.FS(static))
		r.GET(dashAssets+"/*filepath", func(c *gin.Context) {
			name := strings.TrimPrefix(c.Param("filepath"), "/")
			if _, ok := h.assets[name]; !ok {
				c.String(http.StatusNotFound, "not found")
				return
			}
			c.Header("Cache-Control", "public, max-age=86400")
			c.Header("X-Content-Type-Options", "nosniff")
			c.Request.URL.Path = "/" + name
			files.ServeHTTP(c.Writer, c.Request)
		})
	}
	pages := r.Group("/", h.secure)
	pages.GET("/", h.page(h.board))
	pages.GET("/escalations", h.page(h.escalations))
	pages.GET("/rankings", h.page(h.rankings))
	pages.GET("/login", h.loginForm)
	pages.POST("/login", h.login)
	pages.POST("/logout", h.logout)
}

func hasRoute(r *gin.Engine, method, path string) bool {
	for _, ri := range r.Routes() {
		if ri.Method == method && ri.Path == path {
			return true
		}
	}
	return false
}

// secure sets the headers every dashboard page carries: nothing cached
// (names), nothing framed, nothing loaded from elsewhere, no script at all.
func (h *dashboardPages) secure(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Next()
}

// page wraps a page handler with the login check.
func (h *dashboardPages) page(fn func(*gin.Context, domain.Actor, dashPage)) gin.HandlerFunc {
	return func(c *gin.Context) {
		sid, err := c.Cookie(dashCookie)
		if err != nil || sid == "" {
			h.toLogin(c, "")
			return
		}
		actor, err := accounts.Of(h.app).DashboardActor(c.Request.Context(), sid)
		if errors.Is(err, domain.ErrNotFound) {
			h.clearCookie(c)
			h.toLogin(c, "ended")
			return
		}
		if errors.Is(err, accounts.ErrNoDashboard) {
			h.clearCookie(c)
			h.toLogin(c, "role")
			return
		}
		if err != nil {
			h.fail(c, dashPage{}, err)
			return
		}
		p := dashPage{Who: whoLabel(actor), Sandbox: h.sandbox(), At: h.app.Now(), F: h.fmt}
		fn(c, actor, p)
	}
}

// toLogin redirects to the login form, coming back to this page afterwards.
func (h *dashboardPages) toLogin(c *gin.Context, why string) {
	q := url.Values{}
	if next := c.Request.URL.RequestURI(); next != "/" {
		q.Set("next", next)
	}
	if why != "" {
		q.Set("why", why)
	}
	target := "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
}

// dashPage is what the shared header, breadcrumbs and footer show.
type dashPage struct {
	Title   string
	Nav     string // board, escalations, rankings
	Who     string // the token's unit and role
	At      time.Time
	Unit    domain.Unit   // the unit in view (zero on the login page)
	Path    []domain.Unit // breadcrumbs
	Sandbox bool
	Status  int
	Message string
	F       dashFmt
}

// RankUnit is the unit the nav's ranking link opens: the unit in view, or
// for a branch the nearest unit above it (normally its village).
func (p dashPage) RankUnit() string {
	for i := len(p.Path) - 1; i >= 0; i-- {
		if k := p.Path[i].Kind; k != domain.KindBranch && k != domain.KindGroup {
			return p.Path[i].Code
		}
	}
	return p.Unit.Code
}

func whoLabel(a domain.Actor) string {
	for _, r := range a.Roles {
		return r.UnitName + " · " + domain.RoleLabel(r.Role, r.UnitKind)
	}
	return ""
}

type boardPage struct {
	dashPage
	Board dashboard.Board
}

func (h *dashboardPages) board(c *gin.Context, actor domain.Actor, p dashPage) {
	b, err := dashboard.Of(h.app).Board(c.Request.Context(), actor, c.Query("unit"))
	if err != nil {
		h.fail(c, p, err)
		return
	}
	p.Title, p.Nav, p.Unit, p.Path, p.At = b.Unit.Name, "board", b.Unit, b.Path, b.At
	h.render(c, http.StatusOK, "dashboard_board", boardPage{dashPage: p, Board: b})
}

type escalationsPage struct {
	dashPage
	Esc dashboard.EscalationsBoard
}

// escalations is the red list: ?unit=CODE, ?obligation=CODE (a filter),
// ?township=CODE (a filter), ?page=N.
func (h *dashboardPages) escalations(c *gin.Context, actor domain.Actor, p dashPage) {
	f := dashboard.EscalationFilter{Obligation: c.Query("obligation"), Township: c.Query("township")}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			h.fail(c, p, domain.Refuse(domain.ErrInvalid, "%s", dash.T("refuse.page", "page", v)))
			return
		}
		f.Page = n
	}
	b, err := dashboard.Of(h.app).DashboardEscalations(c.Request.Context(), actor, c.Query("unit"), f)
	if err != nil {
		h.fail(c, p, err)
		return
	}
	p.Title, p.Nav, p.Unit, p.Path = dash.T("title.escalations", "unit", b.Unit.Name), "escalations", b.Unit, b.Path
	h.render(c, http.StatusOK, "dashboard_escalations", escalationsPage{dashPage: p, Esc: b})
}

// EscURL is the escalations page of the unit in view with a filter and a
// page ("" and 0 leave them out).
func (p escalationsPage) EscURL(obligation, township string, page int) string {
	q := url.Values{}
	q.Set("unit", p.Esc.Unit.Code)
	if obligation != "" {
		q.Set("obligation", obligation)
	}
	if township != "" {
		q.Set("township", township)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	return "/escalations?" + q.Encode()
}

// PageURL is another page of the same filter.
func (p escalationsPage) PageURL(page int) string {
	return p.EscURL(p.Esc.Filter.Obligation, p.Esc.Filter.Township, page)
}

// OpenGroups says whether the township groups start expanded: when there
// is one, or the page's rows are few.
func (p escalationsPage) OpenGroups() bool { return len(p.Esc.Townships) <= 1 || p.Esc.Rows() <= 20 }

type rankingsPage struct {
	dashPage
	Ranking dashboard.RankingBoard
}

func (h *dashboardPages) rankings(c *gin.Context, actor domain.Actor, p dashPage) {
	rb, err := dashboard.Of(h.app).DashboardRanking(c.Request.Context(), actor, c.Query("unit"))
	if err != nil {
		h.fail(c, p, err)
		return
	}
	p.Title, p.Nav, p.Unit, p.Path, p.At = dash.T("title.rankings", "unit", rb.Unit.Name), "rankings", rb.Unit, rb.Path, rb.At
	h.render(c, http.StatusOK, "dashboard_rankings", rankingsPage{dashPage: p, Ranking: rb})
}

type loginPage struct {
	dashPage
	Next  string
	Error string
}

var loginReasons = map[string]string{
	"revoked": dash.T("login.revoked"),
	"expired": dash.T("login.expired"),
	"link":    dash.T("login.link"),
	"ended":   dash.T("login.ended"),
	"role":    dash.T("login.role"),
}

// loginForm shows the form. It never logs in, even with ?token= (a link
// would put the token in history and logs, and log a victim in as someone
// else): the token is only taken from the POSTed form.
func (h *dashboardPages) loginForm(c *gin.Context) {
	p := loginPage{dashPage: dashPage{Title: dash.T("title.login"), Sandbox: h.sandbox(), F: h.fmt}, Next: localPath(c.Query("next")), Error: loginReasons[c.Query("why")]}
	if c.Query("token") != "" {
		p.Error = loginReasons["link"]
	}
	h.render(c, http.StatusOK, "dashboard_login", p)
}

func (h *dashboardPages) login(c *gin.Context) {
	// A login form posted from another site would log the victim in as
	// someone else (login CSRF): browsers name the page's origin.
	if h.crossSite(c) {
		h.fail(c, dashPage{}, domain.Refuse(domain.ErrForbidden, "%s", dash.T("login.cross_site")))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, dashMaxForm)
	h.tryLogin(c, c.PostForm("token"), c.PostForm("next"))
}

// crossSite reports a form posted from another site: browsers name the
// page's origin (no Origin, or "null", is let through: older browsers and
// privacy settings; SameSite=Strict keeps the session cookie home anyway).
func (h *dashboardPages) crossSite(c *gin.Context) bool {
	o := c.GetHeader("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	return err != nil || u.Host != c.Request.Host
}

// tryLogin checks a token and, when it may see the dashboard, opens a
// session, keeps its id in the cookie and goes on to next (a local path;
// default the board).
func (h *dashboardPages) tryLogin(c *gin.Context, token, next string) {
	token = strings.TrimSpace(token)
	again := func(msg string) {
		p := loginPage{dashPage: dashPage{Title: dash.T("title.login"), Sandbox: h.sandbox(), F: h.fmt}, Next: localPath(next), Error: msg}
		h.render(c, http.StatusUnauthorized, "dashboard_login", p)
	}
	if token == "" {
		again(dash.T("login.empty"))
		return
	}
	s, err := accounts.Of(h.app).DashboardLogin(c.Request.Context(), token)
	switch {
	case errors.Is(err, accounts.ErrTokenExpired):
		h.log.Warn("dashboard: refused login", slog.String("reason", "expired token"))
		again(loginReasons["expired"])
		return
	case errors.Is(err, domain.ErrNotFound):
		h.log.Warn("dashboard: refused login", slog.String("reason", "unknown token"))
		again(loginReasons["revoked"])
		return
	case errors.Is(err, accounts.ErrNoDashboard):
		h.log.Warn("dashboard: refused login", slog.String("reason", "role"))
		again(loginReasons["role"])
		return
	case err != nil:
		h.fail(c, dashPage{}, err)
		return
	}
	// A session this browser had before ends: one login, one session.
	if old, err := c.Cookie(dashCookie); err == nil && old != "" {
		if err := accounts.Of(h.app).DashboardLogout(c.Request.Context(), old); err != nil {
			h.log.Warn("dashboard: end previous session", slog.Any("err", err))
		}
	}
	maxAge := int(s.Expires.Sub(h.app.Now()).Seconds())
	http.SetCookie(c.Writer, &http.Cookie{Name: dashCookie, Value: s.ID, Path: "/", MaxAge: max(maxAge, 1),
		HttpOnly: true, Secure: h.https(c), SameSite: http.SameSiteStrictMode})
	h.log.Info("dashboard: login", slog.String("actor", s.Actor.Label))
	target := localPath(next)
	if target == "" {
		target = "/"
	}
	c.Redirect(http.StatusSeeOther, target)
}

// logout ends the session (POST only, from this site) and forgets the
// cookie.
func (h *dashboardPages) logout(c *gin.Context) {
	if h.crossSite(c) {
		h.fail(c, dashPage{}, domain.Refuse(domain.ErrForbidden, "%s", dash.T("logout.cross_site")))
		return
	}
	if sid, err := c.Cookie(dashCookie); err == nil && sid != "" {
		if err := accounts.Of(h.app).DashboardLogout(c.Request.Context(), sid); err != nil {
			h.fail(c, dashPage{}, err)
			return
		}
	}
	h.clearCookie(c)
	c.Redirect(http.StatusSeeOther, "/login")
}

func (h *dashboardPages) clearCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: dashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.https(c), SameSite: http.SameSiteStrictMode})
}

// https reports whether the browser reached us over TLS: directly, through
// a trusted proxy (http.trusted_proxies) that says X-Forwarded-Proto:
// https, or as the configured public URL says. Anyone else's
// X-Forwarded-Proto is ignored.
func (h *dashboardPages) https(c *gin.Context) bool {
	if c.Request.TLS != nil || strings.HasPrefix(h.app.Cfg.HTTP.PublicURL, "https://") {
		return true
	}
	return strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") && h.fromTrustedProxy(c)
}

func (h *dashboardPages) fromTrustedProxy(c *gin.Context) bool {
	ap, err := netip.ParseAddrPort(c.Request.RemoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range h.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// parseProxies reads http.trusted_proxies (addresses or CIDRs, validated
// by config); what does not parse is left out.
func parseProxies(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

// localPath keeps next only when it is a path on this site (no open
// redirect); "" otherwise.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/login") {
		return ""
	}
	return next
}

// fail renders a refusal or failure as a page in Chinese.
func (h *dashboardPages) fail(c *gin.Context, p dashPage, err error) {
	var ue *domain.UserError
	msg := ""
	if errors.As(err, &ue) {
		msg = ue.Msg // the refusal's own words; the kinds' defaults follow
	}
	p.Status = statusOf(err)
	switch p.Status {
	case http.StatusForbidden:
		p.Title = dash.T("error.forbidden.title")
		if msg == "" {
			msg = dash.T("error.forbidden")
		}
	case http.StatusNotFound:
		p.Title = dash.T("error.not_found.title")
		if msg == "" {
			msg = dash.T("error.not_found")
		}
	case http.StatusBadRequest, http.StatusConflict:
		p.Title = dash.T("error.bad.title")
		if msg == "" {
			msg = dash.T("error.bad")
		}
	default:
		h.log.Error("dashboard failed", slog.String("path", c.FullPath()), slog.Any("err", err))
		p.Status, p.Title, msg = http.StatusInternalServerError, dash.T("error.internal.title"), dash.T("error.internal")
	}
	p.Message, p.F = msg, h.fmt
	h.render(c, p.Status, "dashboard_error", p)
}

func (h *dashboardPages) render(c *gin.Context, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("dashboard: render", slog.String("template", name), slog.Any("err", err))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(dash.T("error.render")))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// barView is a stacked bar of light counts, in percent of the total.
type barView struct {
	Green, Yellow, Red float64
	RedX               float64 // where the red part starts
	Empty              bool
}

// dashFmt formats values for the templates. Its methods, not template
// funcs, do it: the sandbox console parses every template of web with no
// funcs, and a method is only looked up when a page runs.
type dashFmt struct {
	loc    *time.Location
	app    *app.App
	assets map[string]string
}

// Asset is the URL of an embedded static file, versioned by its content.
func (f dashFmt) Asset(name string) string { return dashAssets + "/" + name + "?v=" + f.assets[name] }

// Kind is the Chinese name of a unit kind.
func (f dashFmt) Kind(k string) string { return domain.KindNames[k] }

// DT is a date and time in the configured zone.
func (f dashFmt) DT(t time.Time) string { return t.In(f.loc).Format("2006-01-02 15:04") }

// Day is a date in the configured zone.
func (f dashFmt) Day(t time.Time) string { return t.In(f.loc).Format(time.DateOnly) }

// MD is a short date and time in the configured zone.
func (f dashFmt) MD(t time.Time) string { return t.In(f.loc).Format("01-02 15:04") }

// LastDay is the last day before a due instant (the first instant after a
// period).
func (f dashFmt) LastDay(t time.Time) string { return f.Day(t.Add(-time.Second)) }

// Civil is a promised date, a civil date kept at UTC midnight.
func (f dashFmt) Civil(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// Bar is the stacked bar of counts.
func (f dashFmt) Bar(c health.Counts) barView {
	n := c.Total()
	if n == 0 {
		return barView{Empty: true}
	}
	pct := func(k int) float64 { return float64(k) * 100 / float64(n) }
	return barView{Green: pct(c.Green), Yellow: pct(c.Yellow), Red: pct(c.Red), RedX: pct(c.Green + c.Yellow)}
}

// Attendance is "present/total", or "" when not given.
func (f dashFmt) Attendance(present, total *int) string {
	if present == nil || total == nil || *total == 0 {
		return ""
	}
	return strconv.Itoa(*present) + "/" + strconv.Itoa(*total)
}

// Period is the Chinese name of a period key (2026-11 → 2026年11月).
func (f dashFmt) Period(key string) string {
	if p, err := health.ParsePeriod(key); err == nil {
		return p.Label()
	}
	return key
}

// Obligation is the Chinese name of an obligation code.
func (f dashFmt) Obligation(code string) string {
	if ob, ok := healthcheck.Of(f.app).Obligation(code); ok {
		return ob.Name
	}
	return code
}

// PageSize is how many red items a page lists.
func (p escalationsPage) PageSize() int { return dashboard.EscPageSize }
