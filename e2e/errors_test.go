package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// leaked is internal wording that must never reach a user.
func leaked(s string) bool {
	for _, w := range []string{"storage:", "not found", "sql:", "json:", "conflict", "internal error"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// TestUnknownUnitSaysSo: an unknown unit code is named in plain Chinese on
// every door — CLI, API, dashboard, bot — never as the Go error chain
// (storage: unit NOPE: not found).
func TestUnknownUnitSaysSo(t *testing.T) {
	h, org := dashStart(t)
	const want = "没有编码为 NOPE 的单位。"

	t.Run("cli", func(t *testing.T) {
		for _, args := range [][]string{
			{"healthcheck", "--unit", "NOPE"},
			{"healthcheck", "--dry-run", "--json", "--unit", "NOPE"},
			{"invite", "--unit", "NOPE"},
			{"token", "create", "--unit", "NOPE", "--role", "admin"},
			{"export", "checkins", "--unit", "NOPE"},
			{"export", "lights", "--unit", "NOPE"},
			{"export", "ledger", "--unit", "NOPE"},
			{"export", "claims", "--unit", "NOPE"},
			{"webhook", "list", "--unit", "NOPE"},
			{"robot", "list", "--unit", "NOPE"},
		} {
			_, stderr, code := h.cli(args...)
			if line := "zhibu " + args[0] + ": " + want + "\n"; code != 1 || !strings.HasSuffix(stderr, line) || leaked(stderr) {
				t.Errorf("zhibu %s: exit %d, stderr %q; want exit 1 ending %q", strings.Join(args, " "), code, stderr, line)
			}
		}
	})

	t.Run("api", func(t *testing.T) {
		for _, path := range []string{
			"/api/v1/units?unit=NOPE", "/api/v1/people?unit=NOPE", "/api/v1/lights?unit=NOPE",
			"/api/v1/escalations?unit=NOPE", "/api/v1/checkins?unit=NOPE", "/api/v1/claims?unit=NOPE",
			"/api/v1/settlements?unit=NOPE", "/api/v1/webhooks?unit=NOPE",
			"/api/v1/notifications/misses?unit=NOPE&since=2026-11-01",
		} {
			code, res := h.api("GET", path, org, nil)
			if code != 404 || res["error"] != want {
				t.Errorf("GET %s: %d %v, want 404 %q", path, code, res, want)
			}
		}
		code, res := h.api("POST", "/api/v1/silences", org, map[string]any{"unit": "NOPE", "until": "2026-12-20", "reason": "防汛"})
		if code != 404 || res["error"] != want {
			t.Errorf("POST /api/v1/silences NOPE: %d %v, want 404 %q", code, res, want)
		}
		// A body that does not decode is told in Chinese too, naming the field.
		code, res = h.api("POST", "/api/v1/silences", org, map[string]any{"unit": 7})
		if msg := fmt.Sprint(res["error"]); code != 400 || !strings.Contains(msg, "字段 unit 的类型不对") || leaked(msg) {
			t.Errorf("POST /api/v1/silences with a number for unit: %d %v", code, res)
		}
		code, res = h.api("POST", "/api/v1/silences", org, json.RawMessage(`{"unit":"QA-RZ","colour":"red"}`))
		if msg := fmt.Sprint(res["error"]); code != 400 || !strings.Contains(msg, "不认识的字段") || leaked(msg) {
			t.Errorf("POST /api/v1/silences with an unknown field: %d %v", code, res)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		c := dashLogin(t, h, org)
		for _, path := range []string{"/?unit=NOPE", "/escalations?unit=NOPE", "/rankings?unit=NOPE"} {
			resp, body := dashGet(t, c, h.Base+path)
			if resp.StatusCode != 404 || !strings.Contains(body, want) || leaked(body) {
				t.Errorf("GET %s: %d, want 404 saying %q\n%s", path, resp.StatusCode, want, body)
			}
		}
	})

	t.Run("bot", func(t *testing.T) {
		chat := h.Fake.PrivateChat(dashZhao)
		for _, c := range []struct{ text, want string }{
			{"/status NOPE", want},
			{"/silence NOPE 12-20 防汛抢险", want},
			{"/exempt NOPE 支委会 2026-10 村里受灾停电", "没有编码为 NOPE 的党支部"},
		} {
			before := len(h.Fake.MessagesTo(dashZhao.ID))
			h.waitProcessed(h.say(chat, dashZhao, c.text))
			h.drainOutbox()
			msgs := h.Fake.MessagesTo(dashZhao.ID)
			if len(msgs) != before+1 {
				t.Errorf("%s: %d replies, want 1", c.text, len(msgs)-before)
				continue
			}
			if got := msgs[len(msgs)-1].Text; !strings.Contains(got, c.want) || leaked(got) {
				t.Errorf("%s: reply %q, want %q", c.text, got, c.want)
			}
		}
		wang := h.Fake.PrivateChat(dashWang)
		h.say(wang, dashWang, "/checkin NOPE 支委会 11-25 7/9 学习")
		h.waitMsg(dashWang.ID, "没有编码为 NOPE 的党支部")
	})
}
