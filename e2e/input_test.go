package e2e

import (
	"encoding/csv"
	"os"
	"path/filepath"
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
		code, out := h.apiBody("POST", "/api/v1/checkins", b2, strings.NewReader(body))
		msg, _ := out["error"].(string)
		return code, msg
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

// Imported fields are bounded: an over-long name, or a NUL in any cell, is
// refused with the file, row and column, and nothing is applied.
func TestImportFieldBounds(t *testing.T) {
	h := start(t)
	h.seed()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := strings.Repeat("长", 300000)
	for _, c := range []struct{ what, file, body, want string }{
		{"units", "long-unit.csv", "code,name,kind,parent_code\nQA-NEW,新镇,township,QA\nQA-NEW2," + long + ",township,QA\n", `long-unit.csv: row 3, column "name"`},
		{"units", "long-unit2.csv", "code,name,kind,parent_code\nQA-NEW," + strings.Repeat("长", 101) + ",township,QA\n", `long-unit2.csv: row 2, column "name"`},
		{"units", "nul-unit.csv", "code,name,kind,parent_code\nQA-NEW,新\x00镇,township,QA\n", `nul-unit.csv: row 2, column "name"`},
		{"people", "long-person.csv", "name,phone,role,unit_code,household\n" + strings.Repeat("王", 101) + ",13800000099,secretary,QA-RZ-XZ-B1,\n", `long-person.csv: row 2, column "name"`},
	} {
		_, errs, code := h.cli("import", c.what, write(c.file, c.body))
		if code != 1 || !strings.Contains(errs, c.want) || len(errs) > 500 {
			t.Errorf("%s: exit %d, stderr %.300q", c.file, code, errs)
		}
	}
	if _, errs, code := h.cli("export", "checkins", "--unit", "QA-NEW"); code != 1 || !strings.Contains(errs, "QA-NEW") {
		t.Fatalf("a refused import applied a row: exit %d %q", code, errs)
	}
	// A name at the limit is fine.
	h.mustCLI("import", "units", write("ok.csv", "code,name,kind,parent_code\nQA-NEW,"+strings.Repeat("长", 100)+",township,QA\n"))
}
