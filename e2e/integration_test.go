package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain/notice"
	"github.com/zhibu/zhibu/integrations"
	"github.com/zhibu/zhibu/internal/safedial"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/webhooks"
)

// igPost signs body with secret (unless secret is "") as webhook-id id at
// ts and posts it to the inbound check-in endpoint.
func igPost(t *testing.T, h *H, secret, id string, ts time.Time, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.Base+"/api/v1/integrations/checkins", bytes.NewReader(body))
	if secret != "" {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := wh.Sign(id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
	}
	return sendJSON(t, req)
}

func igCount(t *testing.T, h *H, q string, args ...any) int {
	t.Helper()
	return testdb.Count(t, h.Srv.Store, q, args...)
}

func TestIntegrationInboundCheckins(t *testing.T) {
	// On a fake clock (the first minute of 2027 in Shanghai, still 2026 in
	// UTC): the check-ins default to its local day and the signatures are
	// checked against it, so nothing here depends on the day the test runs.
	fc := clockwork.NewFakeClockAt(time.Date(2027, 1, 1, 0, 0, 0, 0, testdb.Loc))
	h := start(t, withClock(fc))
	h.seed()
	secret := strings.TrimSpace(h.mustCLI("integration", "create", "--name", "dangjian", "--unit", "QA-RZ"))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	if _, errs, code := h.cli("integration", "create", "--name", "dangjian", "--unit", "QA-RZ"); code != 1 || !strings.Contains(errs, "名称为 dangjian 的集成已存在") {
		t.Fatalf("duplicate name: %d %s", code, errs)
	}
	if _, errs, code := h.cli("integration", "create", "--name", "x", "--unit", "QA-RZ", "--role", "secretary"); code != 1 || !strings.Contains(errs, "branch") {
		t.Fatalf("secretary of a township: %d %s", code, errs)
	}
	now := fc.Now()
	body := []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["committee_meeting"],"present":7,"total":9,"topic":"学习党的二十届全会精神","external_id":"ext-1"}`)
	checkins := func() int { return igCount(t, h, `SELECT count(*) FROM checkins`) }

	// A valid request records the check-in as the integration.
	code, out := igPost(t, h, secret, "msg_1", now, body)
	if code != 201 {
		t.Fatalf("valid: %d %v", code, out)
	}
	ci := out["checkin"].(map[string]any)
	id := int64(out["checkin_id"].(float64))
	if ci["branch"] != "QA-RZ-XZ-B1" || ci["source"] != "integration:dangjian" || ci["present"] != float64(7) || ci["date"] != "2027-01-01" || len(out["lights"].([]any)) == 0 {
		t.Fatalf("recorded %v", out)
	}
	if n := igCount(t, h, `SELECT count(*) FROM audit_log WHERE actor = 'integration:dangjian' AND action = 'checkin.record' AND allowed`); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	if n := igCount(t, h, `SELECT count(*) FROM events WHERE type = 'checkin.recorded'`); n != 1 {
		t.Fatalf("%d events", n)
	}

	// A replay (same id, timestamp, signature) is acknowledged, not processed.
	code, out = igPost(t, h, secret, "msg_1", now, body)
	if code != 200 || out["duplicate"] != true || int64(out["checkin_id"].(float64)) != id || checkins() != 1 {
		t.Fatalf("replay: %d %v, %d check-ins", code, out, checkins())
	}
	// A sender's retry keeps the id with a new timestamp: the same.
	if code, out = igPost(t, h, secret, "msg_1", now.Add(time.Second), body); code != 200 || out["duplicate"] != true || checkins() != 1 {
		t.Fatalf("retry: %d %v", code, out)
	}
	// The same external_id under a new id is a duplicate too.
	if code, out = igPost(t, h, secret, "msg_2", now, body); code != 200 || int64(out["checkin_id"].(float64)) != id || checkins() != 1 {
		t.Fatalf("same external id: %d %v", code, out)
	}

	// Not authenticated: 401 with the reason.
	other := "whsec_" + strings.Repeat("A", 43) + "="
	for name, c := range map[string]struct {
		secret string
		ts     time.Time
		want   string
	}{
		"bad signature":    {other, now, "signature"},
		"stale timestamp":  {secret, now.Add(-6 * time.Minute), "timestamp"},
		"future timestamp": {secret, now.Add(6 * time.Minute), "timestamp"},
		"no headers":       {"", now, "missing"},
	} {
		before := checkins()
		code, out := igPost(t, h, c.secret, "msg_"+strings.ReplaceAll(name, " ", "_"), c.ts, []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["theme_day"]}`))
		if code != 401 || !strings.Contains(fmt.Sprint(out["error"]), c.want) || checkins() != before {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	// A tampered body fails the signature.
	req, _ := http.NewRequest("POST", h.Base+"/api/v1/integrations/checkins", strings.NewReader(`{"branch":"QA-DB-HX-B1","obligations":["theme_day"]}`))
	wh, _ := standardwebhooks.NewWebhook(secret)
	sig, _ := wh.Sign("msg_t", now, []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["theme_day"]}`))
	req.Header.Set("webhook-id", "msg_t")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("tampered body: %v %v", resp, err)
	}

	// Size limit before anything else: 413.
	big := []byte(`{"topic":"` + strings.Repeat("长", 30000) + `"}`)
	if code, _ := igPost(t, h, secret, "msg_big", now, big); code != 413 {
		t.Fatalf("oversized: %d", code)
	}
	// Malformed JSON, properly signed: 400 with a reason.
	for i, bad := range []string{`{"branch":`, `{"branch":"QA-RZ-XZ-B1","obligations":"theme_day"}`, `{"branch":"QA-RZ-XZ-B1","colour":"red"}`, `{"present":3}`} {
		code, out := igPost(t, h, secret, fmt.Sprintf("msg_bad_%d", i), now, []byte(bad))
		if code != 400 || out["error"] == "" {
			t.Errorf("malformed %s: %d %v", bad, code, out)
		}
	}
	if code, out := igPost(t, h, secret, "msg_date", now, []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["theme_day"],"date":"someday"}`)); code != 400 || !strings.Contains(fmt.Sprint(out["error"]), "日期") {
		t.Errorf("bad date: %d %v", code, out)
	}

	// The check-in rules refuse in Chinese: outside the integration's subtree
	// 403, other refusals 422; a refused id stays usable.
	code, out = igPost(t, h, secret, "msg_3", now, []byte(`{"branch":"QA-DB-HX-B1","obligations":["theme_day"]}`))
	if code != 403 || !strings.Contains(fmt.Sprint(out["error"]), "书记") {
		t.Fatalf("outside the subtree: %d %v", code, out)
	}
	future := now.AddDate(0, 0, 3).Format("2006-01-02")
	code, out = igPost(t, h, secret, "msg_4", now, []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["theme_day"],"date":"`+future+`"}`))
	if code != 422 || !strings.Contains(fmt.Sprint(out["error"]), "晚于今天") {
		t.Fatalf("future date: %d %v", code, out)
	}
	if code, out = igPost(t, h, secret, "msg_5", now, []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["picnic"]}`)); code != 422 || !strings.Contains(fmt.Sprint(out["error"]), "没认出“picnic”") {
		t.Fatalf("unknown obligation: %d %v", code, out)
	}
	if code, out = igPost(t, h, secret, "msg_6", now, []byte(`{"obligations":["theme_day"]}`)); code != 422 || !strings.Contains(fmt.Sprint(out["error"]), "党支部编码") {
		t.Fatalf("no branch: %d %v", code, out)
	}
	if code, out = igPost(t, h, secret, "msg_4", now, []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["theme_day"],"obligation":"党课","external_id":"ext-2"}`)); code != 201 {
		t.Fatalf("refused id reused with a corrected body: %d %v", code, out)
	}
	if n := igCount(t, h, `SELECT count(*) FROM audit_log WHERE actor = 'integration:dangjian' AND NOT allowed`); n != 4 {
		t.Fatalf("%d refusals audited", n)
	}

	// Concurrent copies of one request record one check-in.
	before := checkins()
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = igPost(t, h, secret, "msg_race", now, []byte(`{"branch":"QA-RZ-XZ-B1","obligations":["party_lecture"]}`))
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		if c == 201 {
			created++
		} else if c != 200 {
			t.Errorf("concurrent copy: %d", c)
		}
	}
	if created != 1 || checkins() != before+1 {
		t.Fatalf("concurrent copies: %d created, %d check-ins added", created, checkins()-before)
	}

	// A disabled integration is not authenticated.
	h.mustCLI("integration", "disable", "--name", "dangjian")
	if code, _ := igPost(t, h, secret, "msg_7", now, body); code != 401 {
		t.Fatalf("disabled: %d", code)
	}
	if out := h.mustCLI("integration", "list"); !strings.Contains(out, "dangjian,QA-RZ,admin,false,") || strings.Contains(out, secret) {
		t.Fatalf("list: %s", out)
	}
}

// igSubscriber records signed webhook requests after verifying them with
// the reference library.
type igSubscriber struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []map[string]any
}

func newIGSubscriber(t *testing.T) *igSubscriber {
	s := &igSubscriber{t: t}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(s.secret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			t.Errorf("unverifiable webhook (secret %v)", err)
			w.WriteHeader(400)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		m["webhook-id"] = r.Header.Get("webhook-id")
		s.got = append(s.got, m)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *igSubscriber) received() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.got...)
}

// allowPrivate lets webhooks and robots reach the loopback httptest
// receivers of these tests (webhooks.allow_private_targets).
func allowPrivate(c *config.Config) { c.Webhooks.AllowPrivateTargets = true }

func TestIntegrationWebhookSubscriptionsAndDelivery(t *testing.T) {
	h := start(t, withConfig(allowPrivate))
	h.seed()
	admin := h.token("QA-RZ", "admin")
	secretary := h.token("QA-RZ-XZ-B1", "secretary")
	rz, db := newIGSubscriber(t), newIGSubscriber(t)

	code, out := h.api("POST", "/api/v1/webhooks", admin, map[string]any{"url": rz.srv.URL + "/hook", "events": []string{"checkin.recorded"}})
	if code != 201 || !strings.HasPrefix(fmt.Sprint(out["secret"]), "whsec_") {
		t.Fatalf("create: %d %v", code, out)
	}
	rz.secret = out["secret"].(string)
	sub := out["webhook"].(map[string]any)
	subID := int64(sub["id"].(float64))
	if sub["unit"] != "QA-RZ" || sub["active"] != true || sub["secret"] != nil {
		t.Fatalf("subscription %v", sub)
	}
	for name, c := range map[string]struct {
		token string
		body  map[string]any
		want  int
	}{
		"outside the subtree": {admin, map[string]any{"url": "https://example.org/h", "unit": "QA"}, 403},
		"not an admin":        {secretary, map[string]any{"url": "https://example.org/h"}, 403},
		"bad URL":             {admin, map[string]any{"url": "ftp://example.org/h"}, 400},
		"unknown event":       {admin, map[string]any{"url": "https://example.org/h", "events": []string{"checkin.done"}}, 400},
		"unknown field":       {admin, map[string]any{"url": "https://example.org/h", "secret": "mine"}, 400},
		"no token":            {"", map[string]any{"url": "https://example.org/h"}, 401},
	} {
		if code, out := h.api("POST", "/api/v1/webhooks", c.token, c.body); code != c.want {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	// The operator subscribes another township from the CLI.
	db.secret = strings.TrimSpace(h.mustCLI("webhook", "create", "--url", db.srv.URL, "--unit", "QA-DB"))
	if _, errs, code := h.cli("webhook", "create", "--url", db.srv.URL, "--unit", "QA-DB", "--events", "nope"); code != 1 || !strings.Contains(errs, "未知的事件类型") {
		t.Fatalf("CLI unknown event: %d %s", code, errs)
	}
	code, out = h.api("GET", "/api/v1/webhooks", admin, nil)
	if code != 200 || len(out["webhooks"].([]any)) != 1 {
		t.Fatalf("list in QA-RZ: %d %v", code, out)
	}
	if list := h.mustCLI("webhook", "list"); strings.Count(list, "\n") != 3 || strings.Contains(list, "whsec_") {
		t.Fatalf("CLI list:\n%s", list)
	}

	// The delivery worker, wired as serve wires it (leader-only there).
	opts := webhooks.FromConfig(h.Cfg.Webhooks)
	opts.ListenURL, opts.PollInterval = h.DBURL, 200*time.Millisecond
	w := outbox.NewDispatcher(webhooks.NewChannel(h.Srv.Store, opts, nil, nil))
	ctx, cancel := context.WithCancel(h.Ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// A check-in in QA-RZ reaches the QA-RZ subscriber only.
	if code, out := h.api("POST", "/api/v1/checkins", secretary, map[string]any{"obligations": []string{"committee_meeting"}, "topic": "webhook"}); code != 201 {
		t.Fatalf("check-in: %d %v", code, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(rz.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := rz.received()
	if len(got) != 1 || got[0]["type"] != "checkin.recorded" || got[0]["data"].(map[string]any)["branch"] != "QA-RZ-XZ-B1" {
		t.Fatalf("received %v", got)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(db.received()); n != 0 {
		t.Fatalf("QA-DB subscriber got %d", n)
	}
	code, out = h.api("GET", fmt.Sprintf("/api/v1/webhooks/%d/attempts", subID), admin, nil)
	if code != 200 || len(out["attempts"].([]any)) != 1 || out["attempts"].([]any)[0].(map[string]any)["status_code"] != float64(200) {
		t.Fatalf("attempts: %d %v", code, out)
	}
	ds := out["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["status"] != "delivered" || got[0]["webhook-id"] != webhooks.MessageID(int64(ds[0].(map[string]any)["event_id"].(float64)), subID) {
		t.Fatalf("deliveries %v, id %v", ds, got[0]["webhook-id"])
	}

	// Deleting: only within the subtree; then it is gone.
	dbID := int64(0)
	subs, _ := h.Srv.Store.WebhookSubscriptionsIn(h.Ctx, 0)
	for _, s := range subs {
		if s.UnitCode == "QA-DB" {
			dbID = s.ID
		}
	}
	if code, _ := h.api("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", dbID), admin, nil); code != 404 {
		t.Fatalf("delete outside the subtree: %d", code)
	}
	if code, _ := h.api("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", subID), admin, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := h.api("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", subID), admin, nil); code != 404 {
		t.Fatalf("delete again: %d", code)
	}
	if code, out := h.api("GET", "/api/v1/webhooks", admin, nil); code != 200 || len(out["webhooks"].([]any)) != 0 {
		t.Fatalf("after delete: %d %v", code, out)
	}
	h.mustCLI("webhook", "delete", strconv.FormatInt(dbID, 10))
}

func TestIntegrationRobots(t *testing.T) {
	h := start(t, withConfig(allowPrivate))
	h.seed()
	var mu sync.Mutex
	got := map[string][]map[string]any{}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		got[r.URL.Path] = append(got[r.URL.Path], map[string]any{"query": r.URL.Query(), "body": body})
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/feishu") {
			_, _ = io.WriteString(w, `{"code":0,"msg":"success"}`)
			return
		}
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer fake.Close()

	ding := strings.TrimSpace(h.mustCLI("robot", "add", "--unit", "QA-RZ-XZ-B1", "--kind", "dingtalk", "--url", fake.URL+"/dingtalk?access_token=TOKEN123456", "--secret", "SECabc"))
	h.mustCLI("robot", "add", "--unit", "QA-RZ-XZ-B1", "--kind", "wecom", "--url", fake.URL+"/wecom?key=KEY123456")
	h.mustCLI("robot", "add", "--unit", "QA-RZ-XZ-B2", "--kind", "feishu", "--url", fake.URL+"/feishu/hook", "--secret", "f")
	for _, args := range [][]string{
		{"robot", "add", "--unit", "QA-RZ-XZ-B1", "--kind", "slack", "--url", fake.URL},
		{"robot", "add", "--unit", "QA-RZ-XZ-B1", "--kind", "wecom", "--url", fake.URL + "/w2", "--secret", "s"},
		{"robot", "add", "--unit", "NOPE", "--kind", "wecom", "--url", fake.URL + "/w3"},
		{"robot", "add", "--unit", "QA-RZ-XZ-B1", "--kind", "wecom", "--url", "not a url"},
		{"robot", "add", "--unit", "QA-RZ-XZ-B1", "--kind", "wecom", "--url", fake.URL + "/wecom?key=KEY123456"},
	} {
		if _, errs, code := h.cli(args...); code != 1 || errs == "" {
			t.Errorf("%v: exit %d %q", args, code, errs)
		}
	}
	list := h.mustCLI("robot", "list", "--unit", "QA-RZ-XZ")
	if strings.Count(list, "\n") != 4 || strings.Contains(list, "TOKEN123456") || strings.Contains(list, "SECabc") {
		t.Fatalf("robot list:\n%s", list)
	}

	b1, _ := h.Srv.Store.UnitByCode(h.Ctx, "QA-RZ-XZ-B1")
	notify := func() {
		if err := h.Srv.App.InTx(h.Ctx, func(a *app.App) error {
			return integrations.Of(a).NotifyUnitRobots(h.Ctx, b1.ID, "red:QA-RZ-XZ-B1:committee_meeting:2026-11",
				notice.Message{Lines: []notice.Line{{notice.B("【红灯督办】"), notice.P("幸福村第一党支部 支部委员会 逾期")}}}, storage.PriorityRed)
		}); err != nil {
			t.Fatal(err)
		}
	}
	notify()
	notify() // the same notice again: nothing more
	if n := igCount(t, h, `SELECT count(*) FROM outbox WHERE kind = 'robot'`); n != 2 {
		t.Fatalf("%d robot rows", n)
	}

	// The robot dispatchers, wired as serve should wire them.
	ctx, cancel := context.WithCancel(h.Ctx)
	var wg sync.WaitGroup
	for _, ch := range outbox.NewRobotChannels(h.Srv.Store, safedial.Client(h.Cfg.Webhooks.AllowPrivateTargets)) {
		base := outbox.FromConfig(h.Cfg.Delivery)
		base.ListenURL = h.DBURL
		d := outbox.New(h.Srv.Store, ch, outbox.RobotOptions(ch.Name(), base), nil, nil)
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	h.drainOutbox()
	mu.Lock()
	dt, wc, fs := got["/dingtalk"], got["/wecom"], got["/feishu/hook"]
	mu.Unlock()
	if len(dt) != 1 || len(wc) != 1 || len(fs) != 0 {
		t.Fatalf("robots got dingtalk %d, wecom %d, feishu %d", len(dt), len(wc), len(fs))
	}
	if q := dt[0]["query"].(url.Values); q["access_token"][0] != "TOKEN123456" || q["sign"] == nil {
		t.Errorf("dingtalk query %v", q)
	}
	if md := dt[0]["body"].(map[string]any)["markdown"].(map[string]any); md["text"] != "**【红灯督办】**幸福村第一党支部 支部委员会 逾期" {
		t.Errorf("dingtalk markdown %v", md)
	}
	// A disabled robot gets nothing more.
	h.mustCLI("robot", "disable", ding)
	if err := integrations.Of(h.Srv.App).NotifyUnitRobots(h.Ctx, b1.ID, "red:again", notice.Message{Lines: []notice.Line{{notice.P("再次提醒")}}}, storage.PriorityRed); err != nil {
		t.Fatal(err)
	}
	if n := igCount(t, h, `SELECT count(*) FROM outbox WHERE kind = 'robot'`); n != 3 {
		t.Fatalf("%d robot rows after disabling one", n)
	}
}

// With the default configuration (webhooks.allow_private_targets off) no
// subscription or robot may name the machine or an internal address, and
// a subscription that got in anyway (made while the switch was on) is
// refused at connect time: its attempts show the reason, never an internal
// service's answer. Only loopback is ever contacted.
func TestIntegrationPrivateTargetsRefused(t *testing.T) {
	h := start(t)
	h.seed()
	admin := h.token("QA-RZ", "admin")
	secretary := h.token("QA-RZ-XZ-B1", "secretary")
	var hits sync.Map
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		w.WriteHeader(500)
		_, _ = io.WriteString(w, "INTERNAL-ANSWER")
	}))
	defer inside.Close()
	for _, u := range []string{
		inside.URL + "/hook",
		strings.Replace(inside.URL, "127.0.0.1", "localhost", 1) + "/hook",
		"http://127.0.0.1:5432/",
		"http://[::ffff:127.0.0.1]/",
		"http://169.254.169.254/latest/meta-data/",
		"http://192.168.0.1/",
	} {
		code, out := h.api("POST", "/api/v1/webhooks", admin, map[string]any{"url": u})
		if code != 400 || !strings.Contains(fmt.Sprint(out), "webhooks.allow_private_targets") {
			t.Errorf("subscribe %s: %d %v", u, code, out)
		}
	}
	if _, errs, code := h.cli("webhook", "create", "--url", inside.URL, "--unit", "QA-DB"); code != 1 || !strings.Contains(errs, "内网") {
		t.Errorf("CLI webhook create: %d %s", code, errs)
	}
	if _, errs, code := h.cli("robot", "add", "--unit", "QA-RZ-XZ-B1", "--kind", "wecom", "--url", inside.URL+"/wecom?key=K"); code != 1 || !strings.Contains(errs, "内网") {
		t.Errorf("CLI robot add: %d %s", code, errs)
	}
	if code, out := h.api("GET", "/api/v1/webhooks", admin, nil); code != 200 || len(out["webhooks"].([]any)) != 0 {
		t.Fatalf("list: %d %v", code, out)
	}

	// A subscription stored while private targets were allowed.
	rz, err := h.Srv.Store.UnitByCode(h.Ctx, "QA-RZ")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := integrations.NewWebhookSecret()
	sub, err := h.Srv.Store.CreateWebhookSubscription(h.Ctx, storage.NewWebhookSubscription{
		URL: inside.URL + "/hook", Secret: secret, UnitID: rz.ID, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	opts := webhooks.FromConfig(h.Cfg.Webhooks)
	opts.PollInterval = 100 * time.Millisecond
	w := outbox.NewDispatcher(webhooks.NewChannel(h.Srv.Store, opts, nil, nil))
	ctx, cancel := context.WithCancel(h.Ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if code, out := h.api("POST", "/api/v1/checkins", secretary, map[string]any{"obligations": []string{"committee_meeting"}, "topic": "ssrf"}); code != 201 {
		t.Fatalf("check-in: %d %v", code, out)
	}
	var attempts []any
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		code, out := h.api("GET", fmt.Sprintf("/api/v1/webhooks/%d/attempts", sub.ID), admin, nil)
		if code != 200 {
			t.Fatalf("attempts: %d %v", code, out)
		}
		if attempts = out["attempts"].([]any); len(attempts) > 0 {
			break
		}
	}
	if len(attempts) != 1 {
		t.Fatalf("attempts %v", attempts)
	}
	a := attempts[0].(map[string]any)
	if _, has := a["status_code"]; has || !strings.Contains(fmt.Sprint(a["error"]), "allow_private_targets") ||
		strings.Contains(fmt.Sprint(a), "INTERNAL-ANSWER") {
		t.Fatalf("attempt %v", a)
	}
	n := 0
	hits.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatalf("internal server was reached %d times", n)
	}
}
