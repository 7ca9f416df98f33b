package e2e

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/cli"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/handlers"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
	"github.com/zhibu/zhibu/storage"
)

// The access matrix (SPEC §5, §7.5; tracker issue 13, "the proof"): every
// role × every door (API route, page, bot command, button, CLI subcommand)
// × scope (the actor's own unit, a unit below, a sibling, the unit above) →
// allowed or refused, and every refused change leaves an allowed=false entry
// in the audit log. The doors are read from the tables themselves (the gin
// route table, bot.Router.Commands and Callbacks, cli.Subcommands), so a
// door without a row here fails the test.

type mxOut string

const (
	mxAllow mxOut = "allowed"
	mxDeny  mxOut = "refused"
	mxNA    mxOut = "n/a" // the cell does not exist (no such target, or the role has no way in)
	mxErr   mxOut = "error"
)

var (
	mxRoles  = []string{"secretary", "organiser", "reviewer", "villager", "shopkeeper", "admin", "integration", "operator"}
	mxScopes = []string{"own", "below", "sibling", "above"}
	// The actors' units (the operator's is the whole county).
	mxHome = map[string]string{"secretary": "QA-RZ-XZ-B1", "organiser": "QA-RZ", "reviewer": "QA-RZ-XZ", "villager": "QA-RZ-XZ",
		"shopkeeper": "QA-RZ-XZ", "admin": "QA-RZ", "integration": "QA-RZ", "operator": "QA"}
	mxPhone = map[string]string{"secretary": "13700000001", "organiser": "13700000002", "reviewer": "13700000003",
		"villager": "13700000004", "shopkeeper": "13700000005", "admin": "13700000006"}
	mxChild   = map[string]string{"QA": "QA-RZ", "QA-RZ": "QA-RZ-XZ", "QA-RZ-XZ": "QA-RZ-XZ-B1", "QA-DB": "QA-DB-HX", "QA-DB-HX": "QA-DB-HX-B1"}
	mxSibling = map[string]string{"QA-RZ": "QA-DB", "QA-RZ-XZ": "QA-DB-HX", "QA-RZ-XZ-B1": "QA-RZ-XZ-B2"}
	mxParent  = map[string]string{"QA-RZ": "QA", "QA-RZ-XZ": "QA-RZ", "QA-RZ-XZ-B1": "QA-RZ-XZ"}
	mxKind    = map[string]string{"QA": "county", "QA-RZ": "township", "QA-DB": "township", "QA-RZ-XZ": "village", "QA-DB-HX": "village",
		"QA-RZ-XZ-B1": "branch", "QA-RZ-XZ-B2": "branch", "QA-DB-HX-B1": "branch"}
	// Someone whose every role is at the unit (bind codes).
	mxPersonAt = map[string]string{"QA": "13700000010", "QA-RZ": "13700000002", "QA-RZ-XZ": "13700000003", "QA-RZ-XZ-B1": "13700000001",
		"QA-RZ-XZ-B2": "13700000008", "QA-DB": "13700000012", "QA-DB-HX": "13700000007"}
	// A household of the village that is not the acting villager's.
	mxHousehold = map[string]string{"QA-RZ-XZ": "H002", "QA-DB-HX": "H101"}
)

type mx struct {
	t        *testing.T
	h        *H
	tokens   map[string]string // role -> API token at mxHome
	users    map[string]models.User
	county   string // an admin token over the whole county, to set things up
	igSecret string
	seq      int
	sessions map[string]*http.Client // dashboard clients logged in, by role
	said     string                  // the bot's answers to the last update probed
}

// unitAt is the unit in scope of the role's home: itself, its first child,
// its sibling, its parent ("" when there is none).
func unitAt(role, scope string) string {
	u := mxHome[role]
	switch scope {
	case "own":
		return u
	case "below":
		return mxChild[u]
	case "sibling":
		return mxSibling[u]
	case "above":
		return mxParent[u]
	}
	return ""
}

// target is the unit of kind ("unit" = any) an action in scope aims at: the
// scope's unit, or the first of that kind below it. A branch or village
// cannot lie above a township, so "above" is only for kind "unit"; "own" is
// the home itself only when it is of that kind.
func target(kind, role, scope string) string {
	u := unitAt(role, scope)
	if kind == "unit" || u == "" {
		return u
	}
	if scope == "above" || (scope == "own" && mxKind[u] != kind) {
		return ""
	}
	for u != "" && mxKind[u] != kind {
		u = mxChild[u]
	}
	return u
}

func inScope(scope string) bool { return scope == "own" || scope == "below" }

// by: allowed for these roles over their own unit and below, refused
// otherwise.
func by(roles ...string) func(role, scope string) mxOut {
	return func(role, scope string) mxOut {
		if slices.Contains(roles, role) && inScope(scope) {
			return mxAllow
		}
		return mxDeny
	}
}

// checkinWant: a secretary for their branch, an admin for the branches of
// their subtree (docs/API.md; the bot and the API alike).
func checkinWant(role, scope string) mxOut {
	if (role == "secretary" && scope == "own") || (role == "admin" && inScope(scope)) {
		return mxAllow
	}
	return mxDeny
}

// everyone: a door open to every role that can reach it.
func everyone(string, string) mxOut { return mxAllow }

// nobody: a door no role opens this way.
func nobody(string, string) mxOut { return mxDeny }

var chatRoles = []string{"secretary", "organiser", "reviewer", "villager", "shopkeeper", "admin"}

// ---- the doors' probes ----

func (m *mx) api(role, method, path string, body any) mxOut {
	tok, ok := m.tokens[role]
	if !ok {
		return mxNA
	}
	code, out := m.h.api(method, path, tok, body)
	switch {
	case code >= 200 && code < 300, code == http.StatusConflict: // 409: authorised, refused by the state
		return mxAllow
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusNotFound:
		return mxDeny
	}
	m.t.Errorf("%s %s by %s: unexpected %d %v", method, path, role, code, out)
	return mxErr
}

// bot sends text from the role's account (in chat, or its private chat)
// and reads the update's recorded outcome.
func (m *mx) bot(role string, chat *models.Chat, text string) mxOut {
	u, ok := m.users[role]
	if !ok {
		return mxNA
	}
	c := m.h.Fake.PrivateChat(u)
	if chat != nil {
		c = *chat
	}
	return m.outcome(role, text, m.h.say(c, u, text))
}

func (m *mx) tap(role, data string) mxOut {
	u, ok := m.users[role]
	if !ok {
		return mxNA
	}
	msg := tgfake.Message{ChatID: u.ID, MessageID: 1, Text: "…"}
	return m.outcome(role, data, m.h.send(m.h.Fake.CallbackQuery(u, msg, data)))
}

func (m *mx) outcome(role, what string, id int64) mxOut {
	o, err := m.h.Srv.Store.UpdateOutcome(m.h.Ctx, id)
	if err != nil {
		m.t.Fatal(err)
	}
	m.said = ""
	_ = m.h.Srv.Store.DB().GetContext(m.h.Ctx, &m.said, `SELECT coalesce(string_agg(coalesce(payload->>'text', ''), ' | '), '') FROM outbox WHERE dedupe_key LIKE $1`,
		fmt.Sprintf("upd:%d:%%", id))
	switch o {
	case "ok":
		return mxAllow
	case "refused":
		return mxDeny
	}
	var e string
	_ = m.h.Srv.Store.DB().GetContext(m.h.Ctx, &e, `SELECT coalesce(error, '') FROM updates WHERE update_id = $1`, id)
	m.t.Errorf("%q by %s: outcome %q: %s", what, role, o, e)
	return mxErr
}

// cli runs a subcommand as the operator; it must succeed.
func (m *mx) cli(role string, args ...string) mxOut {
	if role != "operator" {
		return mxNA // the CLI is the operator's: whoever runs it holds the database
	}
	if _, errs, code := m.h.cli(args...); code != 0 {
		m.t.Errorf("zhibu %s: exit %d: %s", strings.Join(args, " "), code, errs)
		return mxErr
	}
	return mxAllow
}

func (m *mx) next() int { m.seq++; return m.seq }

func (m *mx) id(q string, args ...any) int64 {
	m.t.Helper()
	var id int64
	if err := m.h.Srv.Store.DB().GetContext(m.h.Ctx, &id, q, args...); err != nil {
		m.t.Fatalf("%s: %v", q, err)
	}
	return id
}

// claimIn adds a claim of household in village with status (and, when
// approved, in publicity) and returns its id.
func (m *mx) claimIn(village, household, status string) int64 {
	id := m.id(`INSERT INTO claims (village_id, household_id, item_code, item_name, category, points, claimed_at, status, decided_at)
		SELECT u.id, h.id, 'B04', '拾金不昧', '道德建设类', 3, $3::timestamptz - interval '1 hour', $4,
		       CASE WHEN $4 = 'pending' THEN NULL ELSE $3::timestamptz END
		FROM units u JOIN households h ON h.unit_id = u.id WHERE u.code = $1 AND h.code = $2 RETURNING claims.id`,
		village, household, m.h.Clock.Now(), status)
	if status == "approved" { // in publicity: its award takes effect after it
		if _, err := m.h.Srv.Store.DB().ExecContext(m.h.Ctx, `INSERT INTO point_ledger (household_id, village_id, kind, points, claim_id, item_code, item_name, recorded_at, effective_at, actor)
			SELECT household_id, village_id, 'award', points, id, item_code, item_name, $2::timestamptz, $2::timestamptz + interval '3 days', 'test' FROM claims WHERE id = $1`,
			id, m.h.Clock.Now()); err != nil {
			m.t.Fatal(err)
		}
	}
	return id
}

// checkinAt records a committee meeting at branch (as the county admin).
func (m *mx) checkinAt(branch string) int64 {
	code, out := m.h.api("POST", "/api/v1/checkins", m.county, map[string]any{"branch": branch, "obligations": []string{"committee_meeting"},
		"present": 5, "total": 7, "topic": fmt.Sprintf("学习%d", m.next())})
	if code != 201 {
		m.t.Fatalf("check-in at %s: %d %v", branch, code, out)
	}
	return int64(out["checkin"].(map[string]any)["id"].(float64))
}

func (m *mx) webhookAt(unit string) int64 {
	code, out := m.h.api("POST", "/api/v1/webhooks", m.county, map[string]any{"url": "https://hooks.example.com/" + strconv.Itoa(m.next()), "unit": unit})
	if code != 201 {
		m.t.Fatalf("webhook at %s: %d %v", unit, code, out)
	}
	return int64(out["webhook"].(map[string]any)["id"].(float64))
}

func (m *mx) group(title string) *models.Chat {
	c := m.h.Fake.Group(-1_000_000_000_000-int64(m.next()), title)
	return &c
}

// dashboard logs the role's token into the dashboard; nil when refused.
func (m *mx) dashboard(role string) *http.Client {
	if c, ok := m.sessions[role]; ok {
		return c
	}
	tok, ok := m.tokens[role]
	if !ok {
		return nil
	}
	c := dashClient(m.t, false)
	resp, _ := dashPost(m.t, c, m.h.Base+"/login", url.Values{"token": {tok}}, nil)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) == 0 {
		c = nil
	}
	m.sessions[role] = c
	return c
}

func (m *mx) page(role, path string) mxOut {
	if _, ok := m.tokens[role]; !ok {
		return mxNA
	}
	c := m.dashboard(role)
	if c == nil {
		return mxDeny
	}
	resp, _ := dashGet(m.t, c, m.h.Base+path)
	switch resp.StatusCode {
	case http.StatusOK:
		return mxAllow
	case http.StatusSeeOther, http.StatusForbidden, http.StatusNotFound:
		return mxDeny
	}
	m.t.Errorf("GET %s by %s: %d", path, role, resp.StatusCode)
	return mxErr
}

func public(m *mx, role, method, path string) mxOut {
	if role == "operator" {
		return mxNA
	}
	req, _ := http.NewRequest(method, m.h.Base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		return mxAllow
	}
	return mxDeny
}

// ---- the table ----

type mxRow struct {
	door   string // "GET /api/v1/people", "/checkin", "button cl", "cli token"
	change bool   // a refusal must be audited
	want   func(role, scope string) mxOut
	probe  func(m *mx, role, scope string) mxOut
}

// mxUnaudited names, per door, the roles whose refusal is no actor's
// refused change but a request without identity (a 401 at the door).
var mxUnaudited = map[string][]string{
	"POST /api/v1/integrations/checkins": chatRoles, // a bearer token is no signature
}

// get probes a list or view with ?unit= in scope.
func get(path string) func(m *mx, role, scope string) mxOut {
	return func(m *mx, role, scope string) mxOut {
		u := target("unit", role, scope)
		if u == "" {
			return mxNA
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return m.api(role, "GET", path+sep+"unit="+u, nil)
	}
}

func ownOnly(f func(m *mx, role string) mxOut) func(m *mx, role, scope string) mxOut {
	return func(m *mx, role, scope string) mxOut {
		if scope != "own" {
			return mxNA
		}
		return f(m, role)
	}
}

func at(kind string, f func(m *mx, role, unit string) mxOut) func(m *mx, role, scope string) mxOut {
	return func(m *mx, role, scope string) mxOut {
		u := target(kind, role, scope)
		if u == "" {
			return mxNA
		}
		return f(m, role, u)
	}
}

func mxRows() []mxRow {
	today := func(m *mx) string { return m.h.Clock.Now().In(testdb.Loc).Format("2006-01-02") }
	rows := []mxRow{
		// Public doors.
		{"GET /healthz", false, everyone, ownOnly(func(m *mx, r string) mxOut { return public(m, r, "GET", "/healthz") })},
		{"GET /readyz", false, everyone, ownOnly(func(m *mx, r string) mxOut { return public(m, r, "GET", "/readyz") })},
		{"GET /metrics", false, everyone, ownOnly(func(m *mx, r string) mxOut { return public(m, r, "GET", "/metrics") })},
		{"GET /api/v1/openapi.json", false, everyone, ownOnly(func(m *mx, r string) mxOut { return public(m, r, "GET", "/api/v1/openapi.json") })},
		{"GET /assets/*filepath", false, everyone, ownOnly(func(m *mx, r string) mxOut { return public(m, r, "GET", "/assets/style.css") })},
		{"GET /login", false, everyone, ownOnly(func(m *mx, r string) mxOut { return public(m, r, "GET", "/login") })},
		// Telegram's updates need the webhook secret: no role opens it
		// without (the bot rows below come in through it with the secret).
		{"POST /telegram/webhook", false, nobody, ownOnly(func(m *mx, r string) mxOut { return public(m, r, "POST", "/telegram/webhook") })},

		// Dashboard: organiser and admin tokens log in; pages over their subtree.
		{"POST /login", false, by("organiser", "admin"), ownOnly(func(m *mx, r string) mxOut {
			if _, ok := m.tokens[r]; !ok {
				return mxNA
			}
			if m.dashboard(r) == nil {
				return mxDeny
			}
			return mxAllow
		})},
		{"GET /", false, by("organiser", "admin"), at("unit", func(m *mx, r, u string) mxOut { return m.page(r, "/?unit="+u) })},
		{"GET /escalations", false, by("organiser", "admin"), at("unit", func(m *mx, r, u string) mxOut { return m.page(r, "/escalations?unit="+u) })},
		{"GET /rankings", false, by("organiser", "admin"), at("unit", func(m *mx, r, u string) mxOut { return m.page(r, "/rankings?unit="+u) })},
		{"POST /logout", false, by("organiser", "admin"), ownOnly(func(m *mx, r string) mxOut {
			if _, ok := m.tokens[r]; !ok {
				return mxNA
			}
			c := m.dashboard(r)
			if c == nil {
				return mxDeny
			}
			resp, _ := dashPost(m.t, c, m.h.Base+"/logout", url.Values{}, nil)
			delete(m.sessions, r)
			if resp.StatusCode == http.StatusSeeOther {
				return mxAllow
			}
			return mxDeny
		})},

		// API reads. Any token reads units, lights, goods and settlements of
		// its subtree; people and what names them only secretary, organiser
		// and admin tokens (SPEC §7.5).
		{"GET /api/v1/units", false, by(chatRoles...), get("/api/v1/units")},
		{"GET /api/v1/lights", false, by(chatRoles...), get("/api/v1/lights")},
		{"GET /api/v1/goods", false, by(chatRoles...), get("/api/v1/goods")},
		{"GET /api/v1/settlements", false, by(chatRoles...), get("/api/v1/settlements")},
		{"GET /api/v1/people", false, by("secretary", "organiser", "admin"), get("/api/v1/people")},
		{"GET /api/v1/checkins", false, by("secretary", "organiser", "admin"), get("/api/v1/checkins")},
		{"GET /api/v1/escalations", false, by("secretary", "organiser", "admin"), get("/api/v1/escalations")},
		{"GET /api/v1/notifications/misses", false, by("secretary", "organiser", "admin"), get("/api/v1/notifications/misses")},
		{"GET /api/v1/claims", false, by("reviewer", "organiser", "admin"), get("/api/v1/claims")},
		{"GET /api/v1/webhooks", false, by("admin"), get("/api/v1/webhooks")},
		{"GET /api/v1/audit", false, by("admin"), ownOnly(func(m *mx, r string) mxOut { return m.api(r, "GET", "/api/v1/audit", nil) })},
		{"GET /api/v1/ledger", false, by("reviewer", "organiser", "shopkeeper", "admin"), at("village", func(m *mx, r, v string) mxOut {
			return m.api(r, "GET", "/api/v1/ledger?unit="+v+"&household="+mxHousehold[v], nil)
		})},
		{"GET /api/v1/webhooks/:id/attempts", false, by("admin"), at("unit", func(m *mx, r, u string) mxOut {
			if _, ok := m.tokens[r]; !ok {
				return mxNA
			}
			return m.api(r, "GET", fmt.Sprintf("/api/v1/webhooks/%d/attempts", m.webhookAt(u)), nil)
		})},

		// API changes.
		{"POST /api/v1/bind-codes", true, by("admin"), at("unit", func(m *mx, r, u string) mxOut {
			return m.api(r, "POST", "/api/v1/bind-codes", map[string]any{"phone": mxPersonAt[u]})
		})},
		{"POST /api/v1/checkins", true, checkinWant, at("branch", func(m *mx, r, b string) mxOut {
			return m.api(r, "POST", "/api/v1/checkins", map[string]any{"branch": b, "obligations": []string{"party_lecture"}, "present": 5, "total": 7, "topic": "党课"})
		})},
		{"POST /api/v1/exemptions", true, by("organiser", "admin"), at("branch", func(m *mx, r, b string) mxOut {
			return m.api(r, "POST", "/api/v1/exemptions", map[string]any{"branch": b, "obligation": "theme_day", "period": m.h.Clock.Now().In(testdb.Loc).Format("2006-01"), "reason": "抗洪"})
		})},
		{"POST /api/v1/exemptions/:id/revoke", true, by("organiser", "admin"), at("branch", func(m *mx, r, b string) mxOut {
			if _, ok := m.tokens[r]; !ok {
				return mxNA
			}
			code, out := m.h.api("POST", "/api/v1/exemptions", m.county, map[string]any{"branch": b, "obligation": "general_meeting", "period": "2026-Q4", "reason": "抗洪"})
			if code != 201 && code != 200 && code != 409 { // 409: still standing from a refused revoke
				m.t.Fatalf("exemption at %s: %d %v", b, code, out)
			}
			id := m.id(`SELECT e.id FROM health_exemptions e JOIN units u ON u.id = e.unit_id
				WHERE u.code = $1 AND e.obligation = 'general_meeting' AND e.revoked_at IS NULL`, b)
			return m.api(r, "POST", fmt.Sprintf("/api/v1/exemptions/%d/revoke", id), map[string]any{"reason": "误报"})
		})},
		{"POST /api/v1/silences", true, by("organiser", "admin"), at("unit", func(m *mx, r, u string) mxOut {
			return m.api(r, "POST", "/api/v1/silences", map[string]any{"unit": u, "until": m.h.Clock.Now().In(testdb.Loc).AddDate(0, 0, 3).Format("2006-01-02"), "reason": "防汛"})
		})},
		{"POST /api/v1/claims/:id/decision", true, by("reviewer", "admin"), at("village", func(m *mx, r, v string) mxOut {
			if _, ok := m.tokens[r]; !ok {
				return mxNA
			}
			return m.api(r, "POST", fmt.Sprintf("/api/v1/claims/%d/decision", m.claimIn(v, mxHousehold[v], "pending")), map[string]any{"decision": "approve"})
		})},
		{"POST /api/v1/redemptions", true, by("shopkeeper", "admin"), at("village", func(m *mx, r, v string) mxOut {
			return m.api(r, "POST", "/api/v1/redemptions", map[string]any{"household": mxHousehold[v], "unit": v, "points": 1, "goods": "酱油"})
		})},
		{"POST /api/v1/webhooks", true, by("admin"), at("unit", func(m *mx, r, u string) mxOut {
			return m.api(r, "POST", "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.com/x" + strconv.Itoa(m.next()), "unit": u})
		})},
		{"DELETE /api/v1/webhooks/:id", true, by("admin"), at("unit", func(m *mx, r, u string) mxOut {
			if _, ok := m.tokens[r]; !ok {
				return mxNA
			}
			return m.api(r, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", m.webhookAt(u)), nil)
		})},
		// Other platforms' check-ins: only a signed request of an
		// integration, for a branch in its subtree; a bearer token opens nothing.
		{"POST /api/v1/integrations/checkins", true, func(role, scope string) mxOut {
			if role == "integration" && inScope(scope) {
				return mxAllow
			}
			return mxDeny
		}, at("branch", func(m *mx, r, b string) mxOut {
			body := []byte(fmt.Sprintf(`{"branch":%q,"obligations":["committee_meeting"],"present":5,"total":7,"topic":"学习","external_id":"mx-%d"}`, b, m.next()))
			switch r {
			case "operator":
				return mxNA
			case "integration":
				code, out := igPost(m.t, m.h, m.igSecret, fmt.Sprintf("msg_mx_%d", m.next()), m.h.Clock.Now(), body)
				switch code {
				case 201, 200:
					return mxAllow
				case 401, 403, 404, 422:
					return mxDeny
				}
				m.t.Errorf("integration check-in at %s: %d %v", b, code, out)
				return mxErr
			}
			return m.api(r, "POST", "/api/v1/integrations/checkins", rawJSON(body))
		})},

		// Bot commands (linked people in their private chat, or a group).
		{"/start", false, everyone, ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/start") })},
		{"/help", false, everyone, ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/help") })},
		{"/bind", true, func(role, scope string) mxOut {
			if scope == "own" && (role == "secretary" || role == "reviewer") {
				return mxAllow
			}
			return mxDeny
		}, at("unit", func(m *mx, r, u string) mxOut { return m.bot(r, m.group("群"+u), "/bind "+u) })},
		{"/checkin", true, checkinWant, at("branch", func(m *mx, r, b string) mxOut {
			// Two activities at one sitting are filed by their date at once
			// (a single one may ask first whether it was a 补开).
			return m.bot(r, nil, "/checkin "+b+" 主题党日+党课 "+today(m)+" 6/7 学习")
		})},
		// Who may check in may withdraw their own last check-in.
		{"/undo", true, by("secretary", "admin"),
			ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/undo") })},
		{"/reject", true, by("organiser", "admin"), at("branch", func(m *mx, r, b string) mxOut {
			if _, ok := m.users[r]; !ok {
				return mxNA
			}
			return m.bot(r, nil, fmt.Sprintf("/reject %d 内容太简单", m.checkinAt(b)))
		})},
		{"/status", false, by(chatRoles...), at("unit", func(m *mx, r, u string) mxOut { return m.bot(r, nil, "/status "+u) })},
		{"/ack", true, by("secretary"), ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/ack") })},
		{"/exempt", true, by("organiser", "admin"), at("branch", func(m *mx, r, b string) mxOut {
			if _, err := m.h.Srv.Store.DB().ExecContext(m.h.Ctx, `UPDATE health_exemptions SET revoked_at = now(), revoke_reason = 'matrix'
				WHERE obligation = 'party_lecture' AND revoked_at IS NULL`); err != nil {
				m.t.Fatal(err)
			}
			return m.bot(r, nil, "/exempt "+b+" 党课 2026-Q4 抗洪抢险")
		})},
		{"/silence", true, by("organiser", "admin"), at("unit", func(m *mx, r, u string) mxOut {
			return m.bot(r, nil, "/silence "+u+" "+m.h.Clock.Now().In(testdb.Loc).AddDate(0, 0, 3).Format("2006-01-02")+" 防汛")
		})},
		{"/claim", true, by("villager"), ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/claim B04 捡到钱包") })},
		// A villager sees their own household; reviewers and shopkeepers
		// name a household of their village.
		{"/points", false, func(role, scope string) mxOut {
			if (role == "villager" || role == "reviewer" || role == "shopkeeper") && scope == "own" {
				return mxAllow
			}
			return mxDeny
		}, at("village", func(m *mx, r, v string) mxOut {
			if r == "villager" && v == mxHome[r] {
				return m.bot(r, nil, "/points")
			}
			return m.bot(r, nil, "/points "+mxHousehold[v])
		})},
		{"/rank", false, by("villager", "reviewer", "shopkeeper"), ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/rank") })},
		// The catalogue names nobody: anyone linked may read it.
		{"/items", false, by(chatRoles...), ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/items") })},
		{"/goods", false, by("villager", "reviewer", "shopkeeper"), ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/goods") })},
		{"/pending", false, by("reviewer"), ownOnly(func(m *mx, r string) mxOut { return m.bot(r, nil, "/pending") })},
		{"/deduct", true, by("reviewer"), at("village", func(m *mx, r, v string) mxOut { return m.bot(r, nil, "/deduct "+mxHousehold[v]+" A08 打架") })},
		// SPEC §7.4: the village's reviewers and its villagers object.
		{"/object", true, by("reviewer", "villager"), at("village", func(m *mx, r, v string) mxOut {
			if _, ok := m.users[r]; !ok {
				return mxNA
			}
			return m.bot(r, nil, fmt.Sprintf("/object %d 不属实", m.claimIn(v, mxHousehold[v], "approved")))
		})},
		{"/redeem", true, by("shopkeeper"), at("village", func(m *mx, r, v string) mxOut { return m.bot(r, nil, "/redeem "+mxHousehold[v]+" 1 酱油") })},

		// Buttons (forged or forwarded taps are refused the same way).
		// In the chat only the village's reviewers decide (SPEC §4); an
		// admin token may through the API.
		{"button " + callback.ClaimDecision, true, by("reviewer"), at("village", func(m *mx, r, v string) mxOut {
			if _, ok := m.users[r]; !ok {
				return mxNA
			}
			return m.tap(r, callback.Decision(m.claimIn(v, mxHousehold[v], "pending"), true))
		})},
		// A villager's draft claim is theirs alone to complete.
		{"button " + callback.ClaimPick, true, by("villager"), ownOnly(func(m *mx, r string) mxOut {
			if _, ok := m.users[r]; !ok {
				return mxNA
			}
			d := m.id(`INSERT INTO claim_drafts (person_id, chat_id, query, candidates, created_at)
				SELECT id, 9004, '调解', ARRAY['A02','B01'], $1 FROM people WHERE phone = $2 RETURNING claim_drafts.id`, m.h.Clock.Now(), mxPhone["villager"])
			return m.tap(r, callback.Pick(d, 0))
		})},
		// A pending check-in of a secretary of several branches is theirs alone.
		{"button " + callback.CheckinBranch, true, by("secretary"), ownOnly(func(m *mx, r string) mxOut {
			u, ok := m.users[r]
			if !ok {
				return mxNA
			}
			two := user(9013, "书记双")
			m.h.say(m.h.Fake.PrivateChat(two), two, "/checkin 党课 "+today(m)+" 6/7 党课")
			p := m.id(`SELECT max(id) FROM checkin_pending`)
			if r == "secretary" { // the secretary's own pending check-in
				p = m.id(`INSERT INTO checkin_pending (person_id, chat_id, request, created_at)
					SELECT (SELECT id FROM people WHERE phone = $2), $3, request, created_at FROM checkin_pending WHERE id = $1 RETURNING id`, p, mxPhone["secretary"], u.ID)
			}
			return m.tap(r, callback.Branch(p, m.id(`SELECT id FROM units WHERE code = 'QA-RZ-XZ-B1'`)))
		})},
		// The period of a pending check-in (补开) is its author's alone to choose.
		{"button " + callback.CheckinPeriod, true, by("secretary"), ownOnly(func(m *mx, r string) mxOut {
			u, ok := m.users[r]
			if !ok {
				return mxNA
			}
			owner := mxPhone["secretary"]
			if r != "secretary" { // someone else's pending check-in
				owner = "13700000014"
			}
			p := m.id(`INSERT INTO checkin_pending (person_id, chat_id, request, created_at)
				SELECT id, $2, $3::jsonb, $4 FROM people WHERE phone = $1 RETURNING checkin_pending.id`,
				owner, u.ID, fmt.Sprintf(`{"obligations":["party_lecture"],"date":%q,"source":"telegram","topic":"党课%d"}`,
					m.h.Clock.Now().Format(time.RFC3339), m.next()), m.h.Clock.Now())
			return m.tap(r, callback.Period(p, callback.AsDated))
		})},
		// A reading of free text (SPEC §7.3) is its sender's alone to confirm, edit or cancel.
		{"button " + callback.FreeText, true, by("secretary"), ownOnly(func(m *mx, r string) mxOut {
			u, ok := m.users[r]
			if !ok {
				return mxNA
			}
			owner := mxPhone["secretary"]
			if r != "secretary" { // someone else's reading
				owner = "13700000014"
			}
			p := m.id(`INSERT INTO freetext_pending (chat_id, message_id, person_id, kind, reading, created_at)
				SELECT $2, $3, id, 'checkin', '{"command":"打卡 党课"}', $4 FROM people WHERE phone = $1 RETURNING freetext_pending.id`,
				owner, u.ID, m.next(), m.h.Clock.Now())
			return m.tap(r, callback.Text(p, callback.TextCancel))
		})},
		// A villager's objection card: the village's reviewers decide it.
		{"button " + callback.ObjectionDecision, true, by("reviewer"), at("village", func(m *mx, r, v string) mxOut {
			if _, ok := m.users[r]; !ok {
				return mxNA
			}
			o := m.id(`INSERT INTO claim_objections (claim_id, reason, created_at) VALUES ($1, '不属实', $2) RETURNING id`,
				m.claimIn(v, mxHousehold[v], "approved"), m.h.Clock.Now())
			return m.tap(r, callback.Objection(o, false))
		})},
		{"button " + callback.CheckinReject, false, by("organiser", "admin"), at("branch", func(m *mx, r, b string) mxOut {
			if _, ok := m.users[r]; !ok {
				return mxNA
			}
			return m.tap(r, callback.Reject(m.checkinAt(b)))
		})},
		{"button " + callback.Ack, true, func(role, scope string) mxOut {
			if role == "secretary" && scope == "own" {
				return mxAllow
			}
			return mxDeny
		}, at("branch", func(m *mx, r, b string) mxOut {
			return m.tap(r, callback.AckButton(m.id(`SELECT id FROM units WHERE code = $1`, b), "", ""))
		})},
		// The re-link question is answered only by the account that asked.
		{"button " + callback.Relink, true, func(role, scope string) mxOut {
			if scope == "own" {
				return mxAllow
			}
			return mxDeny
		}, func(m *mx, r, scope string) mxOut {
			u, ok := m.users[r]
			if !ok || scope == "below" || scope == "above" {
				return mxNA
			}
			asker := u.ID
			if scope == "sibling" { // someone else's question
				asker = 777000
			}
			req, err := m.h.Srv.Store.CreateRelinkRequest(m.h.Ctx, storage.RelinkRequest{PersonID: m.id(`SELECT id FROM people WHERE phone = '13700000014'`),
				TGUserID: asker, ChatID: asker, CreatedAt: m.h.Clock.Now(), ExpiresAt: m.h.Clock.Now().Add(time.Hour)})
			if err != nil {
				m.t.Fatal(err)
			}
			return m.tap(r, callback.RelinkChoice(req, false))
		}},

		// The CLI: the operator's, everything allowed.
		{"cli serve", false, everyone, ownOnly(func(m *mx, r string) mxOut {
			if r != "operator" {
				return mxNA
			}
			return public(m, "operator-serve", "GET", "/readyz") // the server under test is `serve`
		})},
		{"cli migrate", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "migrate") })},
		{"cli import", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "import", "units", "testdata/units.csv") })},
		{"cli export", false, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "export", "checkins", "--unit", "QA-RZ") })},
		{"cli invite", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "invite", "--unit", "QA-DB") })},
		{"cli token", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "token", "list", "--unit", "QA-RZ") })},
		{"cli healthcheck", false, everyone, ownOnly(func(m *mx, r string) mxOut {
			return m.cli(r, "healthcheck", "--dry-run", "--unit", "QA-RZ", "--json")
		})},
		{"cli points", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "points", "settle") })},
		{"cli integration", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "integration", "list") })},
		{"cli webhook", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "webhook", "list", "--unit", "QA-RZ") })},
		{"cli robot", true, everyone, ownOnly(func(m *mx, r string) mxOut { return m.cli(r, "robot", "list") })},
		{"cli demo", true, everyone, ownOnly(func(m *mx, r string) mxOut {
			if r != "operator" {
				return mxNA
			}
			// On a database of its own: the demo county is a whole other county.
			var out, errb bytes.Buffer
			env := []string{"ZHIBU_DATABASE_URL=" + testdb.URL(m.t), "ZHIBU_TELEGRAM_BOT_USERNAME=" + username}
			if code := cliRun(m.h, []string{"demo"}, env, &out, &errb); code != 0 {
				m.t.Errorf("zhibu demo: exit %d: %s", code, errb.String())
				return mxErr
			}
			return mxAllow
		})},
	}
	return rows
}

func trim(s string) string {
	if r := []rune(s); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return s
}

// rawJSON is a body h.api sends as it is (it marshals what it is given).
type rawJSON []byte

func (j rawJSON) MarshalJSON() ([]byte, error) { return j, nil }

// doors lists every door the tables declare.
func doors(t *testing.T, h *H) []string {
	r := handlers.Routes(handlers.Deps{
		App: app.New(nil, config.Default(), nil, slog.New(slog.DiscardHandler)),
		Log: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20, Gatherer: prometheus.NewRegistry(),
	})
	var out []string
	for _, ri := range r.Routes() {
		out = append(out, ri.Method+" "+ri.Path)
	}
	for _, c := range h.Srv.Router.Commands() {
		out = append(out, "/"+c.Name)
	}
	for _, p := range h.Srv.Router.Callbacks() {
		out = append(out, "button "+p)
	}
	for _, s := range cli.Subcommands() {
		out = append(out, "cli "+s)
	}
	return out
}

func TestAccessMatrix(t *testing.T) {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 10, 0, 0, 0, testdb.Loc))
	// Branches owe from September: October's meetings are red, so there
	// is something to acknowledge.
	h := start(t, withClock(fc), withConfig(func(c *config.Config) { c.Healthcheck.Start = "2026-09-01" }))
	h.Env = append(h.Env, "ZHIBU_HEALTHCHECK_START=2026-09-01")
	h.mustCLI("import", "units", "testdata/units.csv")
	h.mustCLI("import", "people", "testdata/matrix_people.csv")
	h.mustCLI("import", "catalog", "testdata/points_catalog_county.csv")

	// Every door has a row, and every row a door.
	rows := mxRows()
	byDoor := map[string]bool{}
	for _, r := range rows {
		if byDoor[r.door] {
			t.Errorf("two rows for %s", r.door)
		}
		byDoor[r.door] = true
	}
	declared := map[string]bool{}
	for _, d := range doors(t, h) {
		declared[d] = true
		if !byDoor[d] {
			t.Errorf("door %q has no row in the access matrix: add its expectations to mxRows", d)
		}
	}
	for d := range byDoor {
		if !declared[d] {
			t.Errorf("matrix row %q names no door of the route, command or CLI tables", d)
		}
	}
	if t.Failed() {
		return
	}

	m := &mx{t: t, h: h, tokens: map[string]string{}, users: map[string]models.User{}, sessions: map[string]*http.Client{}}
	for i, role := range chatRoles {
		m.tokens[role] = h.token(mxHome[role], role)
		m.users[role] = user(int64(9001+i), role)
		h.link(mxPhone[role], m.users[role])
	}
	m.county = h.token("QA", "admin")
	m.igSecret = strings.TrimSpace(h.mustCLI("integration", "create", "--name", "matrix", "--unit", mxHome["integration"]))
	h.link("13700000013", user(9013, "书记双"))
	// Points to redeem, for every household.
	if _, err := h.Srv.Store.DB().ExecContext(h.Ctx, `INSERT INTO point_ledger (household_id, village_id, kind, points, recorded_at, effective_at, actor)
		SELECT id, unit_id, 'award', 1000, $1, $1, 'test' FROM households`, fc.Now().Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}

	refusals := func() int {
		return testdb.Count(t, h.Srv.Store, `SELECT count(*) FROM audit_log WHERE NOT allowed`)
	}
	cells := 0
	for _, row := range rows {
		for _, role := range mxRoles {
			for _, scope := range mxScopes {
				before := refusals()
				m.said = ""
				got := row.probe(m, role, scope)
				if got == mxNA {
					continue
				}
				cells++
				want := row.want(role, scope)
				if got != want {
					t.Errorf("%-40s %-11s %-7s (%s): %s, want %s %s", row.door, role, scope, unitAt(role, scope), got, want, trim(m.said))
					continue
				}
				if got == mxDeny && row.change && !slices.Contains(mxUnaudited[row.door], role) {
					if refusals() == before {
						t.Errorf("%-40s %-11s %-7s: refused but not in the audit log", row.door, role, scope)
					}
				}
			}
		}
	}
	if cells < 200 {
		t.Fatalf("only %d cells probed", cells)
	}
	t.Logf("%d doors, %d cells", len(rows), cells)
}
