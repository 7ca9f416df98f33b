package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/domain"
)

// api calls the JSON API with a bearer token and decodes the answer.
func (h *H) api(method, path, token string, body any) (int, map[string]any) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	return h.apiBody(method, path, token, r)
}

// apiBody is api with the request body sent as it is, JSON or not.
func (h *H) apiBody(method, path, token string, body io.Reader) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.Base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return sendJSON(h.t, req)
}

// sendJSON sends req as JSON and decodes the answer (nil when it is not
// JSON: the callers' assertions say what they expected).
func sendJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (h *H) token(unit, role string) string {
	h.t.Helper()
	return strings.TrimSpace(h.mustCLI("token", "create", "--unit", unit, "--role", role))
}

func TestDirectoryAPI(t *testing.T) {
	h := start(t)
	h.seed()
	admin := h.token("QA-RZ", "admin")
	org := h.token("QA-RZ", "organiser")

	if code, _ := h.api("GET", "/api/v1/units", "", nil); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if code, _ := h.api("GET", "/api/v1/units", "zb_wrong", nil); code != 401 {
		t.Fatalf("bad token: %d", code)
	}
	code, out := h.api("GET", "/api/v1/units", org, nil)
	if code != 200 || len(out["units"].([]any)) != 4 {
		t.Fatalf("units of QA-RZ: %d %v", code, out)
	}
	if code, _ := h.api("GET", "/api/v1/units?unit=QA-DB", org, nil); code != 403 {
		t.Fatalf("outside the subtree: %d", code)
	}
	code, out = h.api("GET", "/api/v1/people?unit=QA-RZ-XZ&role=villager", org, nil)
	if code != 200 || len(out["people"].([]any)) != 2 {
		t.Fatalf("villagers: %d %v", code, out)
	}
	// Bind codes: admins only, within their subtree.
	if code, _ := h.api("POST", "/api/v1/bind-codes", org, map[string]string{"phone": "13800000006"}); code != 403 {
		t.Fatalf("organiser issued a bind code: %d", code)
	}
	if code, _ := h.api("POST", "/api/v1/bind-codes", admin, map[string]string{"phone": "13800000009"}); code != 403 {
		t.Fatalf("admin of QA-RZ issued a code for QA-DB: %d", code)
	}
	code, out = h.api("POST", "/api/v1/bind-codes", admin, map[string]string{"phone": "13800000006"})
	if code != 201 || !strings.HasPrefix(out["link"].(string), "https://t.me/"+username+"?start=") {
		t.Fatalf("bind code: %d %v", code, out)
	}
	h.say(h.Fake.PrivateChat(zhou), zhou, "/start "+out["code"].(string))
	h.waitMsg(zhou.ID, "绑定成功")
	if code, _ := h.api("POST", "/api/v1/bind-codes", admin, "not json"); code != 400 {
		t.Fatalf("malformed body: %d", code)
	}
	code, out = h.api("GET", "/api/v1/audit?action=bind.code", admin, nil)
	if code != 200 || len(out["entries"].([]any)) != 3 {
		t.Fatalf("audit: %d %v", code, out)
	}
	if code, _ := h.api("GET", "/api/v1/audit", org, nil); code != 403 {
		t.Fatalf("organiser read the audit log: %d", code)
	}
}

// The audit log shows an admin token only the entries of its subtree; the
// operator sees all (issue #13 item 2).
func TestAuditLogScoped(t *testing.T) {
	h := start(t)
	h.seed()
	rz := h.token("QA-RZ", "admin")
	db := h.token("QA-DB", "admin")
	// QA-RZ's admin issues a code in its subtree and is refused one outside it.
	if code, _ := h.api("POST", "/api/v1/bind-codes", rz, map[string]string{"phone": "13800000006"}); code != 201 {
		t.Fatalf("bind code: %d", code)
	}
	if code, _ := h.api("POST", "/api/v1/bind-codes", rz, map[string]string{"phone": "13800000009"}); code != 403 {
		t.Fatalf("bind code outside: %d", code)
	}
	// QA-DB's admin issues one of its own.
	if code, _ := h.api("POST", "/api/v1/bind-codes", db, map[string]string{"phone": "13800000009"}); code != 201 {
		t.Fatalf("bind code QA-DB: %d", code)
	}
	entries := func(tok string) []map[string]any {
		t.Helper()
		code, out := h.api("GET", "/api/v1/audit?action=bind.code", tok, nil)
		if code != 200 {
			t.Fatalf("audit: %d %v", code, out)
		}
		var es []map[string]any
		for _, e := range out["entries"].([]any) {
			es = append(es, e.(map[string]any))
		}
		return es
	}
	es := entries(db)
	if len(es) != 1 || es[0]["allowed"] != true {
		t.Fatalf("QA-DB admin sees %v", es)
	}
	es = entries(rz)
	if len(es) != 2 || es[0]["allowed"] != false || es[1]["allowed"] != true {
		t.Fatalf("QA-RZ admin sees %v", es)
	}
	rows, err := accounts.Of(h.Srv.App).AuditLog(h.Ctx, domain.Operator, "bind.code", 100)
	if err != nil || len(rows) != 3 {
		t.Fatalf("operator sees %d entries (%v)", len(rows), err)
	}
}

// A bind code carries all of a person's roles: only an admin over every one
// of them may issue it, and a new code revokes the older unused ones
// (issue #13 item 1, in part).
func TestBindCodeNeedsAllRoles(t *testing.T) {
	h := start(t)
	h.seed()
	rz := h.token("QA-RZ", "admin")
	county := h.token("QA", "admin")
	// 周村民 (villager in QA-RZ-XZ) also becomes a secretary in QA-DB.
	if _, err := h.Srv.Store.DB().ExecContext(h.Ctx, `INSERT INTO roles (person_id, role, unit_id) SELECT p.id, 'secretary', u.id FROM people p, units u WHERE p.phone = '13800000006' AND u.code = 'QA-DB-HX-B1'`); err != nil {
		t.Fatal(err)
	}
	if code, out := h.api("POST", "/api/v1/bind-codes", rz, map[string]string{"phone": "13800000006"}); code != 403 {
		t.Fatalf("QA-RZ admin issued a code carrying a QA-DB role: %d %v", code, out)
	}
	var n int
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM audit_log WHERE action = 'bind.code' AND NOT allowed
		AND subject = 'phone:13800000006'`); err != nil || n != 1 {
		t.Fatalf("%d refused audit entries (%v)", n, err)
	}
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM bind_codes`); err != nil || n != 0 {
		t.Fatalf("%d codes after the refusal (%v)", n, err)
	}

	// The county admin is over both roles; a second code revokes the first.
	code, first := h.api("POST", "/api/v1/bind-codes", county, map[string]string{"phone": "13800000006"})
	if code != 201 {
		t.Fatalf("county admin: %d %v", code, first)
	}
	code, second := h.api("POST", "/api/v1/bind-codes", county, map[string]string{"phone": "13800000006"})
	if code != 201 {
		t.Fatalf("second code: %d %v", code, second)
	}
	h.say(h.Fake.PrivateChat(zhou), zhou, "/start "+first["code"].(string))
	h.waitMsg(zhou.ID, "绑定码无效或已过期")
	h.say(h.Fake.PrivateChat(zhou), zhou, "/start "+second["code"].(string))
	h.waitMsg(zhou.ID, "绑定成功")
}
