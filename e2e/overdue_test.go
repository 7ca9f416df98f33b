package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestOverdueDaysAgree: one overdue item, one number of days on every
// surface — the bot's /status, its red notice, the dashboard's branch page
// and red list, and the API. October's 党费收缴 of QA-RZ-XZ-B1 was due
// 2026-10-31; on 2026-11-26 at 10:00 (Shanghai) that is 26 calendar days
// (25 whole 24-hour spans, which the dashboard used to show).
func TestOverdueDaysAgree(t *testing.T) {
	h, org := dashStart(t)
	const want = "26"

	// The bot's /status.
	h.say(h.Fake.PrivateChat(dashWang), dashWang, "/status QA-RZ-XZ-B1")
	st := h.waitMsg(dashWang.ID, "体检：")
	m := regexp.MustCompile(`党费收缴[^\n]*已逾期 (\d+) 天`).FindStringSubmatch(st.Text)
	if m == nil || m[1] != want {
		t.Fatalf("bot /status: want 已逾期 %s 天 for 党费收缴, got %q", want, st.Text)
	}

	// The red notice the health check would send.
	out := h.mustCLI("healthcheck", "--dry-run", "--json", "--unit", "QA-RZ-XZ-B1")
	var hc struct {
		Digests []struct{ Level, Text string } `json:"digests"`
	}
	if err := json.Unmarshal([]byte(out), &hc); err != nil {
		t.Fatalf("healthcheck --json: %v\n%s", err, out)
	}
	notice := ""
	for _, d := range hc.Digests {
		if strings.Contains(d.Text, "已逾期") {
			notice = d.Text
		}
	}
	if notice == "" {
		t.Fatalf("no red notice in the dry run: %s", out)
	}
	for _, m := range regexp.MustCompile(`已逾期 (\d+) 天`).FindAllStringSubmatch(notice, -1) {
		if m[1] != want {
			t.Fatalf("red notice says 已逾期 %s 天, want %s: %q", m[1], want, notice)
		}
	}

	// The dashboard: the branch page and the red list.
	c := dashLogin(t, h, org)
	_, body := dashGet(t, c, h.Base+"/?unit=QA-RZ-XZ-B1")
	for _, m := range regexp.MustCompile(`逾期 (\d+) 天`).FindAllStringSubmatch(body, -1) {
		if m[1] != want {
			t.Fatalf("branch page says 逾期 %s 天, want %s", m[1], want)
		}
	}
	mustContain(t, body, "逾期 "+want+" 天")
	_, body = dashGet(t, c, h.Base+"/escalations")
	days := regexp.MustCompile(`<span class="badge red">(\d+) 天</span>`).FindAllStringSubmatch(body, -1)
	if len(days) == 0 {
		t.Fatalf("red list shows no days overdue:\n%s", body)
	}
	for _, m := range days {
		if m[1] != want {
			t.Fatalf("red list says %s 天, want %s", m[1], want)
		}
	}

	// The API.
	code, res := h.api("GET", "/api/v1/escalations", org, nil)
	if code != 200 {
		t.Fatalf("GET /api/v1/escalations: %d %v", code, res)
	}
	raw, _ := json.Marshal(res)
	for _, m := range regexp.MustCompile(`"days_overdue":(\d+)`).FindAllStringSubmatch(string(raw), -1) {
		if m[1] != want {
			t.Fatalf("API says days_overdue %s, want %s: %s", m[1], want, raw)
		}
	}
	if !strings.Contains(string(raw), `"days_overdue":`+want) {
		t.Fatalf("API has no days_overdue %s: %s", want, raw)
	}
}
