package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"html"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/cli"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
)

// The sandbox tests drive the console at /sandbox over HTTP, as a person
// with a browser does, on a fake clock at 2026-11-16 10:00 (Asia/Shanghai):
// the demo branches owe from August, so their October 支委会 is red.

// sandbox is one `zhibu serve` in sandbox mode, and a browser on it.
type sandboxRun struct {
	t     *testing.T
	srv   *cli.Server
	base  string
	dbURL string
	c     *http.Client
}

func sandboxClock() *clockwork.FakeClock {
	return clockwork.NewFakeClockAt(time.Date(2026, 11, 16, 10, 0, 0, 0, testdb.Loc))
}

// startSandbox starts serve in telegram.mode sandbox against dbURL: the offline
// sandbox with its demo county.
func startSandbox(t *testing.T, dbURL string, fc clockwork.Clock) *sandboxRun {
	t.Helper()
	cfg := config.Default()
	cfg.Database.URL = dbURL
	cfg.Telegram.Mode = "sandbox"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Healthcheck.Every = 0
	var logs bytes.Buffer
	srv, err := cli.StartServer(context.Background(), cfg, slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs}, nil)), fc)
	if err != nil {
		t.Fatalf("start the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(10 * time.Second) })
	return &sandboxRun{t: t, srv: srv, base: "http://" + srv.Addr, dbURL: dbURL, c: dashClient(t, true)}
}

// sbForm is a form on the sandbox page.
type sbForm struct {
	Action, Class, Button string
	Fields                url.Values
}

var (
	sbFormRe   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"(?: class="([^"]*)")?[^>]*>(.*?)</form>`)
	sbHiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	sbButtonRe = regexp.MustCompile(`(?s)<button>(.*?)</button>`)
	sbTagRe    = regexp.MustCompile(`<[^>]+>`)
	sbOptionRe = regexp.MustCompile(`<option value="(\d+)" ?(selected)?>([^<]*)</option>`)
	sbChatRe   = regexp.MustCompile(`<a href="/sandbox\?user=\d+&amp;chat=(-?\d+)"[^>]*>([^<]*)</a>`)
	sbMsgRe    = regexp.MustCompile(`(?s)<div class="msg (me|bot)[^"]*"><div class="who">([^<]*)</div>(.*?)(?:<div class="kbd">|</div>\n)`)
)

func sbText(s string) string {
	return strings.TrimSpace(html.UnescapeString(sbTagRe.ReplaceAllString(s, "")))
}

func sbForms(body string) []sbForm {
	var fs []sbForm
	for _, m := range sbFormRe.FindAllStringSubmatch(body, -1) {
		f := sbForm{Action: m[1], Class: m[2], Fields: url.Values{}}
		for _, in := range sbHiddenRe.FindAllStringSubmatch(m[3], -1) {
			f.Fields.Set(in[1], html.UnescapeString(in[2]))
		}
		if b := sbButtonRe.FindStringSubmatch(m[3]); b != nil {
			f.Button = sbText(b[1])
		}
		fs = append(fs, f)
	}
	return fs
}

// sbMsg is a chat bubble: who said it, and what.
type sbMsg struct {
	Mine      bool
	Who, Text string
}

func sbMessages(body string) []sbMsg {
	var ms []sbMsg
	for _, m := range sbMsgRe.FindAllStringSubmatch(body, -1) {
		ms = append(ms, sbMsg{Mine: m[1] == "me", Who: sbText(m[2]), Text: sbText(m[3])})
	}
	return ms
}

func (r *sandboxRun) page(user, chat int64) string {
	r.t.Helper()
	u := r.base + "/sandbox"
	if user != 0 {
		u += "?user=" + strconv.FormatInt(user, 10) + "&chat=" + strconv.FormatInt(chat, 10)
	}
	resp, body := dashGet(r.t, r.c, u)
	if resp.StatusCode != 200 {
		r.t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return body
}

// submit posts a form of the page as the browser would and returns the
// page it lands on.
func (r *sandboxRun) submit(f sbForm) string {
	r.t.Helper()
	resp, body := dashPost(r.t, r.c, r.base+f.Action, f.Fields, nil)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/sandbox" {
		r.t.Fatalf("POST %s %v: %d at %s", f.Action, f.Fields, resp.StatusCode, resp.Request.URL)
	}
	return body
}

// say types text into the page's box (with a photo file when photo is set).
func (r *sandboxRun) say(user, chat int64, text string, photo []byte) string {
	r.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("user", strconv.FormatInt(user, 10))
	_ = w.WriteField("chat", strconv.FormatInt(chat, 10))
	_ = w.WriteField("text", text)
	if photo != nil {
		fw, err := w.CreateFormFile("file", "现场.jpg")
		if err != nil {
			r.t.Fatal(err)
		}
		_, _ = fw.Write(photo)
	}
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, r.base+"/sandbox/send", &b)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, body := dashDo(r.t, r.c, req)
	if resp.StatusCode != 200 {
		r.t.Fatalf("send %q: %d", text, resp.StatusCode)
	}
	return body
}

// lastOutcome is how the service handled the last update from user.
func (r *sandboxRun) lastOutcome(user int64) (int64, string) {
	r.t.Helper()
	var row struct {
		ID      int64   `db:"update_id"`
		Outcome *string `db:"outcome"`
	}
	if err := r.srv.Store.DB().Get(&row, `SELECT update_id, outcome FROM updates WHERE user_id = $1 ORDER BY update_id DESC LIMIT 1`, user); errors.Is(err, sql.ErrNoRows) {
		return 0, ""
	} else if err != nil {
		r.t.Fatal(err)
	}
	if row.Outcome == nil {
		return row.ID, ""
	}
	return row.ID, *row.Outcome
}

// sbUsers are the identities the page offers: id → "name（role · unit）".
func sbUsers(t *testing.T, body string) (ids []int64, labels map[int64]string, selected int64) {
	t.Helper()
	labels = map[int64]string{}
	for _, m := range sbOptionRe.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids = append(ids, id)
		labels[id] = html.UnescapeString(m[3])
		if m[2] != "" {
			selected = id
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no identities on the page:\n%s", body)
	}
	return ids, labels, selected
}

// firstOf is the first identity whose label names role.
func firstOf(t *testing.T, ids []int64, labels map[int64]string, role string) int64 {
	t.Helper()
	for _, id := range ids {
		if strings.Contains(labels[id], "（"+role+" · ") {
			return id
		}
	}
	t.Fatalf("no %s among the identities", role)
	return 0
}

// sbChats are the chats the page lists for the identity: title → chat id.
func sbChats(body string) map[string]int64 {
	cs := map[string]int64{}
	for _, m := range sbChatRe.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		title, _, _ := strings.Cut(html.UnescapeString(m[2]), "（")
		cs[title] = id
	}
	return cs
}

// lightOf is the light of the branch board's row for obligation name in
// period label ("2026年10月"), "" when there is none.
func lightOf(body, name, period string) string {
	re := regexp.MustCompile(`(?s)<tr class="item light-(\w+)">(.*?)</tr>`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[2], "<b>"+name+"</b>") && strings.Contains(m[2], ">"+period+"<") {
			return m[1]
		}
	}
	return ""
}

// branchLight is the light a branch's board shows for the branch.
func branchLight(body string) string {
	m := regexp.MustCompile(`<p class="branch-light"><span class="dot big (\w+)">`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// login logs the browser in to the dashboard with an admin token of the
// demo county.
func (r *sandboxRun) login() {
	r.t.Helper()
	if resp, _ := dashPost(r.t, r.c, r.base+"/login", url.Values{"token": {r.token()}}, nil); resp.StatusCode != 200 {
		r.t.Fatalf("login: %d", resp.StatusCode)
	}
}

// token creates an admin token of the demo county.
func (r *sandboxRun) token() string {
	r.t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), []string{"token", "create", "--unit", "QA", "--role", "admin"},
		cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: []string{"ZHIBU_DATABASE_URL=" + r.dbURL}}); code != 0 {
		r.t.Fatalf("token create: %d %s", code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// The sandbox guides: a secretary by default, hints for each identity
// that work with the demo data (each is sent and must be accepted), the
// secretary's suggested check-in turns a red light green on the board, and
// the login page says so.
func TestSandboxHintsWork(t *testing.T) {
	r := startSandbox(t, testdb.URL(t), sandboxClock())
	body := r.page(0, 0)
	ids, labels, def := sbUsers(t, body)
	if !strings.Contains(labels[def], "（支部书记 · ") {
		t.Fatalf("default identity %q is not a branch secretary", labels[def])
	}
	if regexp.MustCompile(`QA-[A-Z]`).MatchString(sbText(body)) {
		t.Fatalf("the page shows unit codes:\n%s", sbText(body))
	}

	// The board before: the default secretary's branch owes its October 支委会.
	r.login()
	_, login := dashGet(t, dashClient(t, true), r.base+"/login")
	mustContain(t, login, "补上个月的支委会打卡", "由红灯变成绿灯")
	_, board := dashGet(t, r.c, r.base+"/?unit=QA-RZ-V1-B1")
	if l := lightOf(board, "支部委员会", "2026年10月"); l != "red" {
		t.Fatalf("October 支委会 of QA-RZ-V1-B1 is %q before the check-in, want red", l)
	}
	if l := branchLight(board); l != "red" {
		t.Fatalf("QA-RZ-V1-B1 is %q before the check-in, want red", l)
	}

	// What each identity's hints must lead to: the bot's answer contains this.
	wants := map[string]string{
		"/status":       "",
		"/checkin 支委会":  "打卡成功",
		"/checkin 主题党日": "打卡成功",
		"/claim 拾金不昧":   "",
		"/claim 巡逻":     "",
		"/points":       "",
		"/pending":      "",
		"/rank":         "",
		"/items":        "",
		"/help":         "",
	}
	roles := []string{"支部书记", "村民", "积分评议员", "积分超市管理员", "组织委员", "管理员"}
	for _, role := range roles {
		user := firstOf(t, ids, labels, role)
		var hints []sbForm
		for _, f := range sbForms(r.page(user, 0)) {
			if f.Class == "hint" {
				hints = append(hints, f)
			}
		}
		if len(hints) == 0 {
			t.Fatalf("no hints for %s", labels[user])
		}
		for _, h := range hints {
			text := h.Fields.Get("text")
			before, _ := r.lastOutcome(user)
			page := r.submit(h)
			id, outcome := r.lastOutcome(user)
			if id == before || outcome != "ok" {
				t.Fatalf("%s: hint %q (photo %q): update %d outcome %q\n%s", labels[user], text, h.Fields.Get("photo"), id, outcome, sbText(page))
			}
			ms := sbMessages(page)
			if len(ms) < 2 || ms[len(ms)-1].Mine || !ms[len(ms)-2].Mine {
				t.Fatalf("%s: hint %q: no answer after it: %+v", labels[user], text, ms)
			}
			answer := ms[len(ms)-1].Text
			for prefix, want := range wants {
				if strings.HasPrefix(text, prefix+" ") || text == prefix {
					if !strings.Contains(answer, want) {
						t.Fatalf("%s: hint %q answered %q, want %q", labels[user], text, answer, want)
					}
				}
			}
			t.Logf("%s: %q → %.60q", labels[user], text, answer)
		}
	}

	// The board after: the suggested check-in cleared October.
	_, board = dashGet(t, r.c, r.base+"/?unit=QA-RZ-V1-B1")
	if l := lightOf(board, "支部委员会", "2026年10月"); l != "" && l != "green" {
		t.Fatalf("October 支委会 of QA-RZ-V1-B1 is %q after the suggested check-in", l)
	}
	if l := branchLight(board); l != "green" {
		t.Fatalf("QA-RZ-V1-B1 is %q after the suggested check-in, want green", l)
	}
	mustContain(t, board, "支部委员会 2026年10月（补开）")
}

// tapForm finds the button labelled text under the bot's message that
// contains marker.
func tapForm(t *testing.T, body, marker, text string) (sbForm, bool) {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?s)<div class="msg bot">(.*?)</div></div>\n`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], marker) {
			continue
		}
		for _, f := range sbForms(m[1]) {
			if f.Action == "/sandbox/tap" && f.Button == text {
				return f, true
			}
		}
	}
	return sbForm{}, false
}

// A villager's claims go to the village's reviewer group, which the
// villager and the reviewer both see; the reviewer decides with the card's
// buttons. A photo with a caption goes through the page's file input. The
// conversation is read from the database: after a restart it is all still
// there, the card's buttons still work, and new messages are processed,
// not dropped as redeliveries.
func TestSandboxReviewAndRestart(t *testing.T) {
	dbURL := testdb.URL(t)
	r := startSandbox(t, dbURL, sandboxClock())
	ids, labels, _ := sbUsers(t, r.page(0, 0))
	villager, reviewer := firstOf(t, ids, labels, "村民"), firstOf(t, ids, labels, "积分评议员")
	secretary := firstOf(t, ids, labels, "支部书记")
	group, ok := sbChats(r.page(villager, 0))["让字村积分评议群"]
	if !ok {
		t.Fatalf("the villager does not see the village's reviewer group: %v", sbChats(r.page(villager, 0)))
	}
	if g := sbChats(r.page(reviewer, 0))["让字村积分评议群"]; g != group {
		t.Fatalf("the reviewer does not see the village's reviewer group: %v", sbChats(r.page(reviewer, 0)))
	}

	// A claim without a photo, decided at once.
	r.say(villager, 0, "/claim 拾金不昧 捡到钱包已交还失主", nil)
	if _, o := r.lastOutcome(villager); o != "ok" {
		t.Fatalf("claim: %q", o)
	}
	mustContain(t, r.page(villager, group), "拾金不昧") // where the claim went
	body := r.page(reviewer, group)
	if _, ok := tapForm(t, body, "拾金不昧", "驳回"); !ok {
		t.Fatalf("no 驳回 button on the card in the reviewer's group:\n%s", sbText(body))
	}
	approve, ok := tapForm(t, body, "拾金不昧", "通过")
	if !ok {
		t.Fatalf("no 通过 button on the card in the reviewer's group:\n%s", sbText(body))
	}
	body = r.submit(approve)
	if _, o := r.lastOutcome(reviewer); o != "ok" {
		t.Fatalf("tap 通过: %q\n%s", o, sbText(body))
	}
	if _, ok := tapForm(t, body, "拾金不昧", "通过"); ok {
		t.Fatalf("the decided card still has its buttons:\n%s", sbText(body))
	}
	mustContain(t, body, "点了“通过”")
	notice := r.page(villager, 0)
	t.Logf("villager after the decision: %s", sbText(notice))

	// A claim with a photo, through the file input.
	body = r.say(villager, 0, "/claim 志愿 参加志愿服务", samplePNG)
	if _, o := r.lastOutcome(villager); o != "ok" {
		t.Fatalf("claim with a photo: %q\n%s", o, sbText(body))
	}
	ms := sbMessages(body)
	if last := ms[len(ms)-1]; last.Mine || !strings.Contains(last.Text, "附照片") {
		t.Fatalf("answer to the photo claim: %+v", last)
	}
	mustContain(t, body, "［照片］")
	before, _ := r.lastOutcome(villager)
	if _, ok := tapForm(t, r.page(reviewer, group), "参加志愿服务", "通过"); !ok {
		t.Fatalf("no 通过 button on the photo claim's card:\n%s", sbText(r.page(reviewer, group)))
	}

	// Restart against the same database.
	if err := r.srv.Shutdown(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	r = startSandbox(t, dbURL, sandboxClock())
	body = r.page(villager, 0)
	mustContain(t, body, "/claim 拾金不昧 捡到钱包已交还失主", "/claim 志愿 参加志愿服务", "已提交积分申报")
	body = r.page(reviewer, group)
	approve, ok = tapForm(t, body, "参加志愿服务", "通过")
	if !ok {
		t.Fatalf("after the restart, no 通过 button on the photo claim's card:\n%s", sbText(body))
	}
	body = r.submit(approve)
	if id, o := r.lastOutcome(reviewer); o != "ok" || id <= before {
		t.Fatalf("tap 通过 after the restart: update %d (last before %d) %q", id, before, o)
	}
	if _, ok := tapForm(t, body, "参加志愿服务", "通过"); ok {
		t.Fatalf("after the restart, the decided card still has its buttons:\n%s", sbText(body))
	}

	// A new message after the restart is answered.
	body = r.say(secretary, 0, "/status", nil)
	if id, o := r.lastOutcome(secretary); o != "ok" || id <= before {
		t.Fatalf("/status after the restart: update %d (last before %d) %q", id, before, o)
	}
	ms = sbMessages(body)
	if last := ms[len(ms)-1]; last.Mine || !strings.Contains(last.Text, "体检") {
		t.Fatalf("answer to /status after the restart: %+v", ms)
	}
}

// samplePNG is a photo as a browser uploads it (any bytes will do).
var samplePNG = []byte("\x89PNG\r\n\x1a\n sandbox test photo")
