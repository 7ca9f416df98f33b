package outbox_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/notice"
	"github.com/zhibu/zhibu/internal/safedial"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
)

// loopback is the client of tests whose fake platforms are loopback
// httptest servers (webhooks.allow_private_targets: true).
var loopback = safedial.Client(true)

// robotDir is an in-memory robot directory.
type robotDir map[int64]storage.Robot

func (d robotDir) RobotByID(_ context.Context, id int64) (storage.Robot, error) {
	r, ok := d[id]
	if !ok {
		return storage.Robot{}, fmt.Errorf("robot %d: %w", id, domain.ErrNotFound)
	}
	return r, nil
}

// robotRequest is one request a fake platform received.
type robotRequest struct {
	at    time.Time
	query url.Values
	body  map[string]any
	size  int
}

// fakeRobots stands in for the three platforms: it checks each request's
// signature with the platform's algorithm (written out here again, not the
// channel's helpers) and answers with answer(kind).
type fakeRobots struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu     sync.Mutex
	got    map[string][]robotRequest // by path: /wecom/<robot>, …
	answer func(path string, n int) (int, string)
}

func newFakeRobots(t *testing.T, secret string) *fakeRobots {
	f := &fakeRobots{t: t, secret: secret, got: map[string][]robotRequest{},
		answer: func(path string, n int) (int, string) {
			if strings.HasPrefix(path, "/feishu") {
				return 200, `{"code":0,"msg":"success","data":{}}`
			}
			return 200, `{"errcode":0,"errmsg":"ok"}`
		}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRobots) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("%s: body is not JSON: %v", r.URL.Path, err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Errorf("%s: content type %q", r.URL.Path, ct)
	}
	kind := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	if f.secret != "" {
		switch kind {
		case "dingtalk":
			ts, sign := r.URL.Query().Get("timestamp"), r.URL.Query().Get("sign")
			mac := hmac.New(sha256.New, []byte(f.secret))
			mac.Write([]byte(ts + "\n" + f.secret))
			if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); sign != want {
				f.t.Errorf("dingtalk sign %q, want %q", sign, want)
			}
			if !strings.Contains(r.URL.RawQuery, "sign="+strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(sign)) {
				f.t.Errorf("dingtalk sign not URL-encoded in %q", r.URL.RawQuery)
			}
			if ms, _ := strconv.ParseInt(ts, 10, 64); time.Since(time.UnixMilli(ms)).Abs() > time.Minute {
				f.t.Errorf("dingtalk timestamp %q is not now in milliseconds", ts)
			}
		case "feishu":
			ts, _ := body["timestamp"].(string)
			mac := hmac.New(sha256.New, []byte(ts+"\n"+f.secret))
			if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); body["sign"] != want {
				f.t.Errorf("feishu sign %v, want %q", body["sign"], want)
			}
			if s, _ := strconv.ParseInt(ts, 10, 64); time.Since(time.Unix(s, 0)).Abs() > time.Minute {
				f.t.Errorf("feishu timestamp %q is not now in seconds", ts)
			}
		}
	}
	f.mu.Lock()
	f.got[r.URL.Path] = append(f.got[r.URL.Path], robotRequest{at: time.Now(), query: r.URL.Query(), body: body, size: len(raw)})
	n := len(f.got[r.URL.Path])
	answer := f.answer
	f.mu.Unlock()
	status, text := answer(r.URL.Path, n)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

func (f *fakeRobots) requests(path string) []robotRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]robotRequest(nil), f.got[path]...)
}

// robotURL is the URL of a robot on the fake, with a key in the query like
// the real ones carry.
func (f *fakeRobots) robotURL(kind string, id int64) string {
	key := "access_token"
	if kind == outbox.ChannelWeCom {
		key = "key"
	}
	return fmt.Sprintf("%s/%s/%d?%s=SECRETKEY%d", f.srv.URL, kind, id, key, id)
}

// sendAll splits m like the dispatcher does and sends every part.
func sendAll(t *testing.T, ch *outbox.Robot, m outbox.Message) []outbox.Result {
	t.Helper()
	parts, err := ch.Split(m)
	if err != nil {
		t.Fatalf("split: %v", err)
	}
	var out []outbox.Result
	for _, p := range parts {
		res, err := ch.Send(context.Background(), p)
		if (err == nil) != (res.Outcome == outbox.Delivered) {
			t.Fatalf("send: result %v with error %v", res, err)
		}
		out = append(out, res)
	}
	return out
}

// textMessage is a row as queued before notices were channel-neutral:
// Telegram HTML.
func textMessage(robot int64, html string) outbox.Message {
	p, _ := json.Marshal(map[string]string{"text": html})
	return outbox.Message{ID: 1, DedupeKey: "k", ChatID: robot, Method: "sendMessage", Payload: p, Attempt: 1}
}

func noticeMessage(robot int64, m notice.Message) outbox.Message {
	p, _ := json.Marshal(map[string]notice.Message{"notice": m})
	return outbox.Message{ID: 1, DedupeKey: "k", ChatID: robot, Method: "sendMessage", Payload: p, Attempt: 1}
}

// redNotice is a notice with bold, a user's "_" and "<", and a callback
// button robots cannot show.
var redNotice = notice.Message{
	Lines:   []notice.Line{{notice.B("【红灯督办】"), notice.P("幸福村第一党支部")}, {notice.P("支部委员会 committee_meeting 已逾期 <3天>")}},
	Buttons: [][]notice.Button{{{Text: "收到", Data: "ack:1"}}},
}

func TestRobotFormatsAndSignatures(t *testing.T) {
	const secret = "SEC0123456789abcdef"
	f := newFakeRobots(t, secret)
	dir := robotDir{}
	for i, k := range outbox.RobotKinds {
		id := int64(i + 1)
		dir[id] = storage.Robot{ID: id, Kind: k, URL: f.robotURL(k, id), Secret: secret, Active: true}
	}
	for i, k := range outbox.RobotKinds {
		ch, err := outbox.NewRobot(k, dir, loopback)
		if err != nil {
			t.Fatal(err)
		}
		if ch.Name() != k {
			t.Fatalf("name %q", ch.Name())
		}
		res := sendAll(t, ch, noticeMessage(int64(i+1), redNotice))
		if len(res) != 1 || res[0].Outcome != outbox.Delivered {
			t.Fatalf("%s: %+v", k, res)
		}
	}
	wc := f.requests("/wecom/1")
	if len(wc) != 1 || wc[0].query.Get("key") != "SECRETKEY1" {
		t.Fatalf("wecom requests %+v", wc)
	}
	if wc[0].body["msgtype"] != "markdown" || wc[0].body["markdown"].(map[string]any)["content"] != "**【红灯督办】**幸福村第一党支部\n支部委员会 committee_meeting 已逾期 <3天>" {
		t.Errorf("wecom body %v", wc[0].body)
	}
	dt := f.requests("/dingtalk/2")
	if len(dt) != 1 || dt[0].query.Get("access_token") != "SECRETKEY2" {
		t.Fatalf("dingtalk requests %+v", dt)
	}
	md := dt[0].body["markdown"].(map[string]any)
	if dt[0].body["msgtype"] != "markdown" || md["title"] != "【红灯督办】幸福村第一党支部" ||
		md["text"] != "**【红灯督办】**幸福村第一党支部  \n支部委员会 committee\\_meeting 已逾期 <3天>" {
		t.Errorf("dingtalk body %v", dt[0].body)
	}
	fs := f.requests("/feishu/3")
	if len(fs) != 1 {
		t.Fatalf("feishu requests %+v", fs)
	}
	if fs[0].body["msg_type"] != "text" || fs[0].body["content"].(map[string]any)["text"] != "【红灯督办】幸福村第一党支部\n支部委员会 committee_meeting 已逾期 <3天>" {
		t.Errorf("feishu body %v", fs[0].body)
	}
}

// A row queued by an older version as Telegram HTML (a rolling upgrade)
// goes out as the same notice would.
func TestRobotSendsLegacyHTMLRows(t *testing.T) {
	f := newFakeRobots(t, "")
	dir := robotDir{}
	for i, k := range outbox.RobotKinds {
		id := int64(i + 1)
		dir[id] = storage.Robot{ID: id, Kind: k, URL: f.robotURL(k, id), Active: true}
	}
	html := "<b>【红灯督办】</b>幸福村第一党支部\n支部委员会 committee_meeting 已逾期 &lt;3天&gt;<u></u>"
	for i, k := range outbox.RobotKinds {
		ch, _ := outbox.NewRobot(k, dir, loopback)
		sendAll(t, ch, textMessage(int64(i+1), html))
		sendAll(t, ch, noticeMessage(int64(i+1), redNotice))
		reqs := f.requests(fmt.Sprintf("/%s/%d", k, i+1))
		if len(reqs) != 2 || fmt.Sprint(reqs[0].body) != fmt.Sprint(reqs[1].body) {
			t.Errorf("%s: legacy row sent as %v, the notice as %v", k, reqs[0].body, reqs[1].body)
		}
	}
	ch, _ := outbox.NewRobot(outbox.ChannelWeCom, dir, loopback)
	for _, m := range []outbox.Message{textMessage(1, "<b></b>"), noticeMessage(1, notice.Message{})} {
		if _, err := ch.Split(m); err == nil {
			t.Errorf("empty payload %s split", m.Payload)
		}
	}
}

func TestRobotWithoutSecretIsUnsigned(t *testing.T) {
	f := newFakeRobots(t, "")
	dir := robotDir{
		1: {ID: 1, Kind: outbox.ChannelDingTalk, URL: f.robotURL(outbox.ChannelDingTalk, 1), Active: true},
		2: {ID: 2, Kind: outbox.ChannelFeishu, URL: f.robotURL(outbox.ChannelFeishu, 2), Active: true},
	}
	for i, k := range []string{outbox.ChannelDingTalk, outbox.ChannelFeishu} {
		ch, _ := outbox.NewRobot(k, dir, loopback)
		sendAll(t, ch, textMessage(int64(i+1), "通知"))
	}
	if q := f.requests("/dingtalk/1")[0].query; q.Has("sign") || q.Has("timestamp") {
		t.Errorf("unsigned dingtalk query %v", q)
	}
	if b := f.requests("/feishu/2")[0].body; b["sign"] != nil || b["timestamp"] != nil {
		t.Errorf("unsigned feishu body %v", b)
	}
}

func TestRobotSplitsWithinLimits(t *testing.T) {
	f := newFakeRobots(t, "s")
	dir := robotDir{}
	for i, k := range outbox.RobotKinds {
		id := int64(i + 1)
		dir[id] = storage.Robot{ID: id, Kind: k, URL: f.robotURL(k, id), Secret: "s", Active: true}
	}
	var m notice.Message
	for i := range 700 {
		m.Lines = append(m.Lines, notice.Line{notice.B(strconv.Itoa(i)), notice.P(fmt.Sprintf(" 幸福村第%d党支部 “支部委员会” 未按期召开，请于本月底前补开并打卡。", i))})
	} // ~60 KB
	for i, k := range outbox.RobotKinds {
		ch, _ := outbox.NewRobot(k, dir, loopback)
		parts, err := ch.Split(noticeMessage(int64(i+1), m))
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) < 3 {
			t.Fatalf("%s: %d parts", k, len(parts))
		}
		for j, p := range parts {
			if p.Part != j || p.Parts != len(parts) {
				t.Errorf("%s part %d numbered %d/%d", k, j, p.Part, p.Parts)
			}
		}
		sendAll(t, ch, noticeMessage(int64(i+1), m))
		reqs := f.requests(fmt.Sprintf("/%s/%d", k, i+1))
		if len(reqs) != len(parts) {
			t.Fatalf("%s: %d requests for %d parts", k, len(reqs), len(parts))
		}
		seen := 0
		for _, r := range reqs {
			var text string
			switch k {
			case outbox.ChannelWeCom:
				if text = r.body["markdown"].(map[string]any)["content"].(string); len(text) > 4096 {
					t.Errorf("wecom content %d bytes", len(text))
				}
			case outbox.ChannelDingTalk:
				text = r.body["markdown"].(map[string]any)["text"].(string)
			case outbox.ChannelFeishu:
				text = r.body["content"].(map[string]any)["text"].(string)
			}
			if k != outbox.ChannelWeCom && r.size > 20000 {
				t.Errorf("%s body %d bytes", k, r.size)
			}
			seen += strings.Count(text, "党支部")
		}
		if seen != 700 {
			t.Errorf("%s: %d of 700 lines arrived", k, seen)
		}
		if k == outbox.ChannelDingTalk {
			if title := reqs[1].body["markdown"].(map[string]any)["title"].(string); !strings.HasSuffix(title, fmt.Sprintf("（2/%d）", len(parts))) {
				t.Errorf("dingtalk part title %q", title)
			}
		}
	}
}

func TestRobotClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		status  int
		body    string
		header  string // Retry-After
		outcome outbox.Outcome
		wait    time.Duration
		reason  string
	}{
		{"wecom ok", "wecom", 200, `{"errcode":0,"errmsg":"ok"}`, "", outbox.Delivered, 0, ""},
		{"wecom rate limit", "wecom", 200, `{"errcode":45009,"errmsg":"api freq out of limit"}`, "", outbox.RateLimited, time.Minute, "45009"},
		{"wecom bad key", "wecom", 200, `{"errcode":93000,"errmsg":"invalid webhook url"}`, "", outbox.Permanent, 0, "invalid webhook url"},
		{"wecom too long", "wecom", 200, `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}`, "", outbox.Permanent, 0, "40058"},
		{"wecom busy", "wecom", 200, `{"errcode":-1,"errmsg":"system busy"}`, "", outbox.Retry, 0, "system busy"},
		{"dingtalk ok", "dingtalk", 200, `{"errcode":0,"errmsg":"ok"}`, "", outbox.Delivered, 0, ""},
		{"dingtalk too fast", "dingtalk", 200, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, "", outbox.RateLimited, time.Minute, "send too fast"},
		{"dingtalk bad sign", "dingtalk", 200, `{"errcode":310000,"errmsg":"sign not match"}`, "", outbox.Permanent, 0, "sign not match"},
		{"dingtalk bad token", "dingtalk", 200, `{"errcode":300001,"errmsg":"token is not exist"}`, "", outbox.Permanent, 0, "token is not exist"},
		{"feishu ok", "feishu", 200, `{"code":0,"msg":"success","data":{}}`, "", outbox.Delivered, 0, ""},
		{"feishu ok, old shape", "feishu", 200, `{"Extra":null,"StatusCode":0,"StatusMessage":"success"}`, "", outbox.Delivered, 0, ""},
		{"feishu frequency", "feishu", 200, `{"code":11232,"msg":"frequency limited"}`, "", outbox.RateLimited, time.Minute, "11232"},
		{"feishu bad sign", "feishu", 200, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, "", outbox.Permanent, 0, "sign match fail"},
		{"feishu keyword", "feishu", 200, `{"code":19024,"msg":"Key Words Not Found"}`, "", outbox.Permanent, 0, "Key Words"},
		{"HTTP 429 with Retry-After", "feishu", 429, `{}`, "7", outbox.RateLimited, 7 * time.Second, "429"},
		{"HTTP 429 without Retry-After", "wecom", 429, ``, "", outbox.RateLimited, time.Minute, "429"},
		{"HTTP 502", "dingtalk", 502, `bad gateway`, "", outbox.Retry, 0, "502"},
		{"HTTP 408", "wecom", 408, ``, "", outbox.Retry, 0, "408"},
		{"HTTP 404", "feishu", 404, `not found`, "", outbox.Permanent, 0, "404"},
		{"HTML answer", "wecom", 200, `<html>proxy</html>`, "", outbox.Retry, 0, "unreadable"},
		{"no code", "dingtalk", 200, `{}`, "", outbox.Retry, 0, "without a result code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			dir := robotDir{1: {ID: 1, Kind: tt.kind, URL: srv.URL + "/hook?key=K", Secret: "x", Active: true}}
			ch, _ := outbox.NewRobot(tt.kind, dir, loopback)
			res := sendAll(t, ch, textMessage(1, "通知"))[0]
			if res.Outcome != tt.outcome || res.RetryAfter != tt.wait || !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("got %v after %s (%q), want %v after %s (%q)", res.Outcome, res.RetryAfter, res.Reason, tt.outcome, tt.wait, tt.reason)
			}
		})
	}
}

func TestRobotRefusesUnknownAndInactiveRobots(t *testing.T) {
	dir := robotDir{
		1: {ID: 1, Kind: "wecom", URL: "http://127.0.0.1:1/x", Active: false},
		2: {ID: 2, Kind: "feishu", URL: "http://127.0.0.1:1/x", Active: true},
		3: {ID: 3, Kind: "wecom", URL: "ftp://example.org/x", Active: true},
	}
	ch, _ := outbox.NewRobot("wecom", dir, loopback)
	for id, want := range map[int64]string{1: "not active", 2: "feishu robot", 3: "not an http(s) URL", 9: "does not exist"} {
		res := sendAll(t, ch, textMessage(id, "x"))[0]
		if res.Outcome != outbox.Permanent || !strings.Contains(res.Reason, want) {
			t.Errorf("robot %d: %v %q, want permanent %q", id, res.Outcome, res.Reason, want)
		}
	}
	if _, err := outbox.NewRobot("slack", dir, loopback); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestRobotNetworkErrorsAreRetriedWithoutTheKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // connection refused from now on
	dir := robotDir{1: {ID: 1, Kind: "wecom", URL: base + "/cgi-bin/webhook/send?key=TOPSECRET", Active: true}}
	ch, _ := outbox.NewRobot("wecom", dir, loopback)
	res := sendAll(t, ch, textMessage(1, "x"))[0]
	if res.Outcome != outbox.Retry || strings.Contains(res.Reason, "TOPSECRET") || res.Reason == "" {
		t.Errorf("got %v %q", res.Outcome, res.Reason)
	}
}

// The default client never connects to a loopback platform, named by
// address or by a name resolving to it: the message fails for good with
// the reason, the key not in it, and nothing reaches the server.
func TestRobotRefusesLoopbackByDefault(t *testing.T) {
	f := newFakeRobots(t, "")
	byName := strings.Replace(f.robotURL(outbox.ChannelWeCom, 2), "127.0.0.1", "localhost", 1)
	dir := robotDir{
		1: {ID: 1, Kind: "wecom", URL: f.robotURL(outbox.ChannelWeCom, 1), Active: true},
		2: {ID: 2, Kind: "wecom", URL: byName, Active: true},
	}
	ch, _ := outbox.NewRobot("wecom", dir, nil)
	for id := range int64(2) {
		res := sendAll(t, ch, textMessage(id+1, "x"))[0]
		if res.Outcome != outbox.Permanent || !strings.Contains(res.Reason, "allow_private_targets") ||
			!strings.Contains(res.Reason, "127.0.0.1") || strings.Contains(res.Reason, "SECRETKEY") {
			t.Errorf("robot %d: %v %q", id+1, res.Outcome, res.Reason)
		}
	}
	if n := len(f.requests("/wecom/1")) + len(f.requests("/wecom/2")); n != 0 {
		t.Fatalf("loopback platform got %d requests", n)
	}
}

func TestRobotSignHelpers(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	ts, sign := outbox.DingTalkSign("SECabc", at)
	mac := hmac.New(sha256.New, []byte("SECabc"))
	mac.Write([]byte("1700000000123\nSECabc"))
	if ts != "1700000000123" || sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("dingtalk %s %s", ts, sign)
	}
	ts, sign = outbox.FeishuSign("abc", at)
	mac = hmac.New(sha256.New, []byte("1700000000\nabc"))
	if ts != "1700000000" || sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("feishu %s %s", ts, sign)
	}
}

func TestRobotOptions(t *testing.T) {
	base := outbox.Options{GlobalPerSecond: 30, ChatPerSecond: 1, GroupPerMinute: 20, PaidBroadcast: true, MaxAge: time.Hour}
	for kind, perMin := range map[string]float64{"wecom": 20, "dingtalk": 20, "feishu": 100} {
		o := outbox.RobotOptions(kind, base)
		if o.ChatPerSecond != perMin/60 || o.GroupPerMinute != perMin || o.PaidBroadcast || o.MaxAge != time.Hour {
			t.Errorf("%s: %+v", kind, o)
		}
	}
}

// TestRobotPacingPerRobot runs real dispatchers over PostgreSQL: each robot
// is paced at its platform's rate on its own, so a busy robot does not hold
// up another.
func TestRobotPacingPerRobot(t *testing.T) {
	store := testdb.New(t)
	ctx := context.Background()
	f := newFakeRobots(t, "k")
	u, err := store.CreateUnit(ctx, "QA", "乾安县", "county", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind string, n int) int64 {
		r, err := store.CreateRobot(ctx, u.ID, kind, fmt.Sprintf("%s/%s/%d?key=K", f.srv.URL, kind, n), "k")
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	fa, fb, wa := add("feishu", 1), add("feishu", 2), add("wecom", 3)
	for i := range 3 {
		for _, r := range []struct {
			kind string
			id   int64
		}{{"feishu", fa}, {"feishu", fb}, {"wecom", wa}} {
			if r.kind == "wecom" && i == 2 {
				continue
			}
			if err := store.Enqueue(ctx, storage.OutMessage{DedupeKey: fmt.Sprintf("m%d-%d", r.id, i), Channel: r.kind,
				ChatID: r.id, Kind: "robot", Payload: map[string]string{"text": fmt.Sprintf("第%d条", i)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := outbox.Options{PollInterval: 50 * time.Millisecond, MaintainEvery: time.Second}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, ch := range outbox.NewRobotChannels(store, loopback) {
		d := outbox.New(store, ch, outbox.RobotOptions(ch.Name(), base), nil, nil)
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(runCtx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if len(f.requests("/feishu/1")) == 3 && len(f.requests("/feishu/2")) == 3 && len(f.requests("/wecom/3")) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	a, b, w := f.requests("/feishu/1"), f.requests("/feishu/2"), f.requests("/wecom/3")
	if len(a) != 3 || len(b) != 3 || len(w) != 2 {
		t.Fatalf("requests: feishu a %d, b %d, wecom %d", len(a), len(b), len(w))
	}
	const slack = 30 * time.Millisecond
	for _, reqs := range [][]robotRequest{a, b} {
		for i := 1; i < len(reqs); i++ {
			if gap := reqs[i].at.Sub(reqs[i-1].at); gap < 600*time.Millisecond-slack {
				t.Errorf("feishu robot: %s between messages, want at least 600ms (100/minute)", gap)
			}
		}
	}
	if b[0].at.After(a[1].at) {
		t.Errorf("robot b's first message waited for robot a")
	}
	if gap := w[1].at.Sub(w[0].at); gap < 3*time.Second-slack {
		t.Errorf("wecom robot: %s between messages, want at least 3s (20/minute)", gap)
	}
	for i, r := range a {
		if got := r.body["content"].(map[string]any)["text"]; got != fmt.Sprintf("第%d条", i) {
			t.Errorf("feishu a message %d: %v (order)", i, got)
		}
	}
	for time.Now().Before(deadline) {
		sent, err := store.OutboxByStatus(ctx, storage.OutboxSent)
		if err != nil {
			t.Fatal(err)
		}
		if len(sent) == 8 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("not every row was recorded sent")
}
