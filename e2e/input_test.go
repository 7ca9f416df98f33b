package e2e

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// SPEC §7.5: text with NUL and numbers out of range get 400 with a reason
// naming the field, not a 500 from PostgreSQL.
func TestCheckinAPIBadInput(t *testing.T) {
	h := ciStart(t)
	b2 := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-RZ-XZ-B2", "--role", "secretary"))
	call := func(body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", h.Base+"/api/v1/checkins", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+b2)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		msg, _ := out["error"].(string)
		return resp.StatusCode, msg
	}
	for _, c := range []struct{ body, field string }{
		{`{"obligation":"支委会","date":"2026-11-25","present":5,"total":9999999999999}`, "total"},
		{`{"obligation":"支委会","date":"2026-11-25","present":-9999999999999,"total":7}`, "present"},
		{`{"obligation":"支委会","date":"2026-11-25","present":5,"total":7,"topic":"学习\u0000精神"}`, "topic"},
		{`{"obligations":["支委会\u0000"],"date":"2026-11-25"}`, "obligations"},
	} {
		code, msg := call(c.body)
		if code != 400 || !strings.Contains(msg, c.field) {
			t.Errorf("%s: %d %q", c.body, code, msg)
		}
	}
	if code, msg := call(`{"obligation":"支委会","date":"2026-11-25","present":5,"total":7}`); code != 201 {
		t.Fatalf("good body after bad ones: %d %q", code, msg)
	}
}

// SPEC §7.5: a topic that a spreadsheet would run as a formula is exported
// with a leading ', numbers stay numbers.
func TestCheckinExportFormula(t *testing.T) {
	h := ciStart(t)
	h.reply(h.b2, li, `/checkin 支委会 11-25 7/9 =HYPERLINK("http://evil.example","点我")`, "打卡成功")
	out := h.mustCLI("export", "checkins")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	if got := recs[1][col["topic"]]; got != `'=HYPERLINK("http://evil.example","点我")` {
		t.Fatalf("topic %q", got)
	}
	if got := recs[1][col["present"]]; got != "7" {
		t.Fatalf("present %q", got)
	}
}

// SPEC §7.5: a NUL in a bot command gets a refusal reply, not a failing
// handler that is retried.
func TestBotNULRefused(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	p.private(zhou, "/claim B04 捡到钱包\x00交给村委", "不允许的字符")
	p.private(zhou, "/claim B04 捡到钱包交给村委", "已提交积分申报 #1")
}

// A private /start without "from" is refused, not a panic.
func TestStartWithoutFrom(t *testing.T) {
	p := ptStart(t, ptAt(2026, 11, 20, 10, 0))
	chat := p.Fake.PrivateChat(zhou)
	u := p.Fake.TextMessage(chat, zhou, "/start ABCDEF")
	u.Message.From = nil
	id := p.send(u)
	if o := p.waitProcessed(id); o != "refused" {
		t.Fatalf("outcome %q", o)
	}
	p.waitMsg(chat.ID, "无法识别发送者的账号")
}
