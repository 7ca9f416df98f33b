package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/internal/testdb"
)

var (
	wang  = user(5001, "王")  // secretary of B1 and B2
	li    = user(5002, "李")  // secretary of B2
	zhou  = user(5006, "周")  // villager
	sun   = user(5005, "孙")  // reviewer
	stray = user(5999, "路人") // unlinked
)

func TestBindAccountWithStartCode(t *testing.T) {
	h := start(t)
	h.seed()
	chat := h.Fake.PrivateChat(li)

	// Before binding: /help explains how to bind.
	h.say(chat, li, "/help")
	h.waitMsg(li.ID, "还没有绑定账号")

	code := h.bindCode("13800000002")
	h.say(chat, li, "/start "+code)
	m := h.waitMsg(li.ID, "绑定成功")
	if !strings.Contains(m.Text, "李书记") || !strings.Contains(m.Text, "支部书记") || !strings.Contains(m.Text, "/bind") {
		t.Fatalf("welcome lacks name, role or commands: %q", m.Text)
	}
	if m.ParseMode != "HTML" {
		t.Fatalf("parse mode %q", m.ParseMode)
	}
	pid, err := h.Srv.Store.PersonByTelegram(h.Ctx, li.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := h.Srv.Store.PersonByPhone(h.Ctx, "13800000002")
	if pid != p.ID {
		t.Fatalf("linked to person %d, want %d", pid, p.ID)
	}
}

func TestBindCodeRefusalsDoNotRevealWhich(t *testing.T) {
	h := start(t)
	h.seed()
	used := h.bindCode("13800000002")
	h.say(h.Fake.PrivateChat(li), li, "/start "+used)
	h.waitMsg(li.ID, "绑定成功")

	p, _ := h.Srv.Store.PersonByPhone(h.Ctx, "13800000006")
	if err := h.Srv.Store.CreateBindCode(h.Ctx, p.ID, accounts.Hash("expiredcode1"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	cases := map[string]models.User{"wrongcode123": stray, used: zhou, "expiredcode1": zhou}
	var texts []string
	for code, u := range cases {
		before := len(h.Fake.MessagesTo(u.ID))
		id := h.say(h.Fake.PrivateChat(u), u, "/start "+code)
		if o := h.waitProcessed(id); o != "refused" {
			t.Fatalf("code %q: outcome %q", code, o)
		}
		h.drainOutbox()
		msgs := h.Fake.MessagesTo(u.ID)
		if len(msgs) != before+1 || !strings.Contains(msgs[len(msgs)-1].Text, "绑定码无效或已过期") {
			t.Fatalf("code %q: %d new replies, last %q", code, len(msgs)-before, msgs[len(msgs)-1].Text)
		}
		texts = append(texts, msgs[len(msgs)-1].Text)
	}
	if texts[0] != texts[1] || texts[1] != texts[2] {
		t.Fatalf("refusals differ, revealing which: %q", texts)
	}
	if _, err := h.Srv.Store.PersonByTelegram(h.Ctx, zhou.ID); err == nil {
		t.Fatal("a refused code linked the account")
	}
	// Refusals are audited.
	if _, refused := testdb.AuditTally(t, h.Srv.Store, "bind.person", 10); refused != 3 {
		t.Fatalf("audit has %d refusals, want 3", refused)
	}
}

func TestBindGroup(t *testing.T) {
	h := start(t)
	h.seed()
	h.link("13800000001", wang)
	h.link("13800000002", li)
	h.link("13800000006", zhou)
	group := h.Fake.Group(-100200, "第二支部群")

	// A villager may not bind.
	h.say(group, zhou, "/bind@"+username)
	h.waitMsg(group.ID, "只有党支部书记或村积分评议员")
	// An unlinked user is told to bind first.
	h.say(group, stray, "/bind")
	h.waitMsg(group.ID, "还没有绑定账号")
	// A command for another bot is not ours.
	if o := h.waitProcessed(h.say(group, li, "/bind@other_bot")); o != "ignored" {
		t.Fatalf("other bot's command: outcome %q", o)
	}
	// Wang has two branches: he must choose.
	h.say(group, wang, "/bind")
	m := h.waitMsg(group.ID, "请指明")
	if !strings.Contains(m.Text, "QA-RZ-XZ-B1") || !strings.Contains(m.Text, "QA-RZ-XZ-B2") {
		t.Fatalf("choices missing: %q", m.Text)
	}
	h.say(group, wang, "/bind@"+username+" QA-RZ-XZ-B2")
	h.waitMsg(group.ID, "幸福村第二党支部")
	b2, _ := h.Srv.Store.UnitByCode(h.Ctx, "QA-RZ-XZ-B2")
	g, err := h.Srv.Store.GroupOfUnit(h.Ctx, b2.ID)
	if err != nil || g.ChatID != group.ID {
		t.Fatalf("binding %+v %v", g, err)
	}
	// The group becomes a supergroup: the binding follows.
	for _, u := range h.Fake.MigrationUpdates(group, -1009876543210, li) {
		h.send(u)
	}
	if g, _ := h.Srv.Store.GroupOfUnit(h.Ctx, b2.ID); g.ChatID != -1009876543210 {
		t.Fatalf("after migration the group is %d", g.ChatID)
	}
}

func TestCommandsPublished(t *testing.T) {
	h := start(t)
	// serve publishes them in the background, once the Bot API answers.
	cmds := h.Fake.Commands()
	for deadline := time.Now().Add(10 * time.Second); len(cmds) == 0 && time.Now().Before(deadline); cmds = h.Fake.Commands() {
		time.Sleep(20 * time.Millisecond)
	}
	names := map[string]bool{}
	for _, c := range cmds {
		names[c.Command] = true
	}
	for _, want := range []string{"start", "help", "bind"} {
		if !names[want] {
			t.Fatalf("setMyCommands lacks %s: %+v", want, cmds)
		}
	}
}

func post(t *testing.T, url, secretHeader string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secretHeader != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretHeader)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhookStatuses(t *testing.T) {
	h := start(t)
	h.seed()
	h.link("13800000002", li)
	url := h.Base + "/telegram/webhook"
	upd, _ := json.Marshal(h.Fake.TextMessage(h.Fake.PrivateChat(li), li, "/help"))
	var u models.Update
	_ = json.Unmarshal(upd, &u)
	u.ID = 777001
	upd, _ = json.Marshal(u)

	tests := []struct {
		name   string
		secret string
		body   []byte
		want   int
	}{
		{"no secret", "", upd, 401},
		{"wrong secret", "nope", upd, 401},
		{"oversized", secret, append(append([]byte(`{"update_id":1,"message":{"text":"`), bytes.Repeat([]byte("x"), 2<<20)...), []byte(`"}}`)...), 413},
		{"malformed", secret, []byte(`{"update_id":`), 400},
		{"not an update", secret, []byte(`{"hello":"world"}`), 400},
		{"ok", secret, upd, 200},
		{"duplicate", secret, upd, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(t, url, tc.secret, tc.body); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
	h.waitProcessed(777001)
	h.waitMsg(li.ID, "可用命令")
	h.drainOutbox()
	if n := len(h.Fake.MessagesTo(li.ID)); n != 1 {
		t.Fatalf("duplicate update answered %d times", n)
	}
	var stored int
	_ = h.Srv.Store.DB().GetContext(h.Ctx, &stored, `SELECT count(*) FROM updates`)
	if stored != 1 {
		t.Fatalf("%d updates stored", stored)
	}
}

// Any JSON Telegram may send is stored as sent, "\u0000" escapes too (jsonb
// would refuse them); text the database refuses (not UTF-8) gets 400 for
// that update alone, never a failure of the updates stored with it.
func TestWebhookStoresAnyJSONAndRefusesOnlyItsBadUpdate(t *testing.T) {
	h := start(t)
	url := h.Base + "/telegram/webhook"
	body := func(id int64, name string) []byte {
		return []byte(fmt.Sprintf(`{"update_id":%d,"message":{"message_id":1,"date":1,"from":{"id":%d,"is_bot":false,"first_name":"%s"},`+
			`"chat":{"id":%d,"type":"private"},"text":"/help"}}`, id, id, name, id))
	}
	nul := body(888000, `a\u0000b`)
	bad := body(888001, "a\xffb")
	statuses := make([]int, 40)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i {
			case 0:
				statuses[i] = post(t, url, secret, nul)
			case 1:
				statuses[i] = post(t, url, secret, bad)
			default:
				statuses[i] = post(t, url, secret, body(int64(888100+i), "bench"))
			}
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if want := map[bool]int{true: 400, false: 200}[i == 1]; st != want {
			t.Errorf("request %d: status %d, want %d", i, st, want)
		}
	}
	var raw string
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &raw, `SELECT raw::text FROM updates WHERE update_id = 888000`); err != nil || raw != string(nul) {
		t.Fatalf("stored %q (%v), want the body as sent %q", raw, err, nul)
	}
	var stored int
	_ = h.Srv.Store.DB().GetContext(h.Ctx, &stored, `SELECT count(*) FROM updates`)
	if stored != len(statuses)-1 {
		t.Fatalf("%d updates stored, want %d", stored, len(statuses)-1)
	}
	if o := h.waitProcessed(888000); o == "" {
		t.Fatal("the update with \\u0000 was not processed")
	}
}

func TestWebhookAnswers503WhileDatabaseIsDown(t *testing.T) {
	h, proxy, _ := startViaProxy(t)
	h.seed()
	h.link("13800000002", li)

	proxy.Cut()
	u := h.Fake.TextMessage(h.Fake.PrivateChat(li), li, "/help")
	u.ID = 4242
	body, _ := json.Marshal(u)
	if got := post(t, h.Base+"/telegram/webhook", secret, body); got != http.StatusServiceUnavailable {
		t.Fatalf("status %d while the database is down, want 503", got)
	}
	resp, err := http.Get(h.Base + "/readyz")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("readyz while down: %v %v", resp.StatusCode, err)
	}
	proxy.Restore()
	// Telegram redelivers; now it is stored and processed once.
	deadline := time.Now().Add(10 * time.Second)
	for post(t, h.Base+"/telegram/webhook", secret, body) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("webhook did not recover after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := post(t, h.Base+"/telegram/webhook", secret, body); got != 200 {
		t.Fatalf("second redelivery %d", got)
	}
	h.waitProcessed(4242)
	h.waitMsg(li.ID, "可用命令")
	h.drainOutbox()
	if n := len(h.Fake.MessagesTo(li.ID)); n != 1 {
		t.Fatalf("%d replies to one update", n)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	h := start(t)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "zhibu_updates_received_total"} {
		resp, err := http.Get(h.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), want) {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, b.String()[:min(200, b.Len())])
		}
	}
	if strings.Contains(h.logText(), h.Fake.Token()) || strings.Contains(h.logText(), secret) {
		t.Fatal("a secret appears in the logs")
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	h := start(t)
	h.seed()
	dir := t.TempDir()
	bad := filepath.Join(dir, "more-units.csv")
	os.WriteFile(bad, []byte("code,name,kind,parent_code\nQA-NEW,新镇,township,QA\nQA-NEW-V,新村,hamlet,QA-NEW\n"), 0o644)
	_, errs, code := h.cli("import", "units", bad)
	if code != 1 || !strings.Contains(errs, "more-units.csv: row 3, column \"kind\"") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if _, err := h.Srv.Store.UnitByCode(h.Ctx, "QA-NEW"); err == nil {
		t.Fatal("row 2 was imported although row 3 failed")
	}
	cases := []struct{ file, content, want string }{
		{"p.csv", "name,phone,role,unit_code,household\n甲,13900000000,villager,QA-RZ-XZ,\n", `row 2, column "household"`},
		{"p2.csv", "name,phone,role,unit_code,household\n甲,13900000000,secretary,QA-RZ-XZ,\n", `row 2, column "unit_code"`},
		{"p3.csv", "name,phone,role,unit_code,household\n甲,13900000000,mayor,QA,\n", `row 2, column "role"`},
		{"p4.csv", "name,phone,role,unit\n", "row 1"},
		{"u.csv", "code,name,kind,parent_code\nQA-X,X,township,NOPE\n", `row 2, column "parent_code"`},
		{"u2.csv", "code,name,kind,parent_code\nQA-Y,Y,township,QA\nQA-Y,Y2,township,QA\n", `row 3, column "code"`},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.file)
		os.WriteFile(p, []byte(c.content), 0o644)
		what := "people"
		if strings.HasPrefix(c.file, "u") {
			what = "units"
		}
		_, errs, code := h.cli("import", what, p)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.file, code, errs, c.want)
		}
	}
	// Re-import updates by code and by phone.
	out := h.mustCLI("import", "units", "testdata/units.csv")
	if !strings.Contains(out, "0 created, 8 updated") {
		t.Fatalf("re-import summary %q", out)
	}
	out = h.mustCLI("import", "people", "testdata/people.csv")
	if !strings.Contains(out, "0 created") {
		t.Fatalf("people re-import summary %q", out)
	}
}

func TestImportXLSXAndInviteAndToken(t *testing.T) {
	h := start(t)
	xlsx := filepath.Join(t.TempDir(), "units.xlsx")
	writeXLSX(t, xlsx, [][]string{{"code", "name", "kind", "parent_code"}, {"QA", "乾安县", "county", ""}, {"QA-RZ", "让字镇", "township", "QA"}})
	out := h.mustCLI("import", "units", xlsx)
	if !strings.Contains(out, "2 rows imported") {
		t.Fatalf("xlsx import: %q", out)
	}
	h.seed()
	h.link("13800000001", wang)
	out = h.mustCLI("invite", "--unit", "QA-RZ-XZ")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "name,phone,role,unit_code,code,link" {
		t.Fatalf("header %q", lines[0])
	}
	if strings.Contains(out, "王书记") {
		t.Fatal("a linked person was invited")
	}
	var liLine string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "李书记,") {
			liLine = l
		}
	}
	f := strings.Split(liLine, ",")
	if len(f) != 6 || f[5] != "https://t.me/"+username+"?start="+f[4] {
		t.Fatalf("invite row %q", liLine)
	}
	// The printed code works.
	h.say(h.Fake.PrivateChat(li), li, "/start "+f[4])
	h.waitMsg(li.ID, "绑定成功")

	tok := strings.TrimSpace(h.mustCLI("token", "create", "--unit", "QA-RZ", "--role", "organiser"))
	if !strings.HasPrefix(tok, "zb_") || strings.Contains(tok, "\n") {
		t.Fatalf("token %q", tok)
	}
	var n int
	_ = h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM api_tokens WHERE token_hash = $1`, accounts.Hash(tok))
	if n != 1 {
		t.Fatal("token not stored hashed")
	}
	if _, errs, code := h.cli("token", "create", "--unit", "QA-RZ", "--role", "king"); code != 1 || !strings.Contains(errs, "king") {
		t.Fatalf("bad role: %d %q", code, errs)
	}
}

func TestUnknownConfigKeyIsRefused(t *testing.T) {
	h := start(t)
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("healthcheck:\n  quiet_hour: \"22:00-07:00\"\n"), 0o644)
	_, errs, code := h.cli("migrate", "--config", p)
	if code != 1 || !strings.Contains(errs, "quiet_hour") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	_, errs, code = h.cli("migrate", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != 1 || !strings.Contains(errs, "missing.yaml") {
		t.Fatalf("missing explicit config: exit %d stderr %q", code, errs)
	}
	var out, eb bytes.Buffer
	code = cliRun(h, []string{"migrate"}, append(h.Env, "ZHIBU_HEALTHCHECK_EVERY=sometimes"), &out, &eb)
	if code != 1 || !strings.Contains(eb.String(), "ZHIBU_HEALTHCHECK_EVERY") {
		t.Fatalf("bad env: exit %d stderr %q", code, eb.String())
	}
}

// TestShutdownLosesNoAcknowledgedUpdate acknowledges a burst of updates,
// shuts the server down mid-processing, starts a new one on the same
// database, and expects every acknowledged update processed exactly once.
func TestShutdownLosesNoAcknowledgedUpdate(t *testing.T) {
	url := testdb.URL(t)
	h := start(t, withDB(url))
	h.seed()
	users := make([]models.User, 20)
	for i := range users {
		users[i] = user(int64(8000+i), fmt.Sprintf("u%d", i))
	}
	var acked []int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		u := h.Fake.TextMessage(h.Fake.PrivateChat(users[i%20]), users[i%20], "/help")
		u.ID = int64(900000 + i)
		body, _ := json.Marshal(u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if post(t, h.Base+"/telegram/webhook", secret, body) == 200 {
				mu.Lock()
				acked = append(acked, u.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := h.Srv.Shutdown(10 * time.Second); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	h2 := start(t, withDB(url))
	for _, id := range acked {
		h2.waitProcessed(id)
	}
	h2.drainOutbox()
	var stored, replies int
	_ = h2.Srv.Store.DB().GetContext(context.Background(), &stored, `SELECT count(*) FROM updates WHERE outcome IS NOT NULL`)
	_ = h2.Srv.Store.DB().GetContext(context.Background(), &replies, `SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'upd:%'`)
	if len(acked) != 200 || stored != 200 || replies != 200 {
		t.Fatalf("acked %d, processed %d, replies %d; want 200 each", len(acked), stored, replies)
	}
}

// /bind in a group bound to another unit is refused unless the sender holds
// a role at or above that unit; then the reply names what it replaced
// (issue #13 item 3).
func TestBindGroupHijack(t *testing.T) {
	h := start(t)
	h.seed()
	h.link("13800000001", wang) // secretary of B1 and B2
	h.link("13800000002", li)   // secretary of B2 only
	group := h.Fake.Group(-100300, "第一支部群")
	h.say(group, wang, "/bind QA-RZ-XZ-B1")
	h.waitMsg(group.ID, "幸福村第一党支部")

	// Li holds nothing at or above B1: refused, audited, binding unchanged.
	h.say(group, li, "/bind")
	h.waitMsg(group.ID, "只有在该单位或其上级单位任职的人才能改绑本群")
	b1, _ := h.Srv.Store.UnitByCode(h.Ctx, "QA-RZ-XZ-B1")
	if g, err := h.Srv.Store.GroupByChat(h.Ctx, group.ID); err != nil || g.UnitID != b1.ID {
		t.Fatalf("binding after refusal %+v %v", g, err)
	}
	var n int
	if err := h.Srv.Store.DB().GetContext(h.Ctx, &n, `SELECT count(*) FROM audit_log WHERE action = 'bind.group' AND subject = 'chat:-100300' AND NOT allowed AND actor_id = (SELECT id FROM people WHERE phone = '13800000002')`); err != nil || n != 1 {
		t.Fatalf("%d refused audit entries (%v)", n, err)
	}

	// Wang holds B1: he may move the group to B2, and is told what it replaced.
	h.say(group, wang, "/bind QA-RZ-XZ-B2")
	m := h.waitMsg(group.ID, "已解除")
	mustContain(t, m.Plain, "幸福村第二党支部", "原绑定的", "幸福村第一党支部")
	if strings.Contains(m.Plain, "QA-RZ-XZ-B") {
		t.Fatalf("the reply shows unit codes: %q", m.Plain)
	}
}
