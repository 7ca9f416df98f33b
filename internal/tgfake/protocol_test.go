package tgfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
)

// TestProtocol checks the wire format other clients than go-telegram/bot use.
func TestProtocol(t *testing.T) {
	s := New(Options{Limits: Limits{ChatPerSecond: 1, ChatBurst: 1}})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	api := "/bot" + s.Token() + "/"
	cases := []struct {
		name, path, ctype, body string
		wantStatus              int
		wantBody                string // exact JSON when set
		check                   func(t *testing.T, r rawResp)
	}{
		{name: "unknown method", path: api + "sendTelepathy", wantStatus: 404,
			wantBody: `{"ok":false,"error_code":404,"description":"Not Found"}`},
		{name: "wrong token", path: "/bot1:WRONG/getMe", wantStatus: 401,
			wantBody: `{"ok":false,"error_code":401,"description":"Unauthorized"}`},
		{name: "not an api path", path: "/favicon.ico", wantStatus: 404},
		{name: "case-insensitive method", path: api + "GETME", wantStatus: 200, check: func(t *testing.T, r rawResp) {
			var u models.User
			if json.Unmarshal(r.Result, &u) != nil || u.Username != "zhibu_bot" {
				t.Fatalf("result = %s", r.Result)
			}
		}},
		{name: "json body", path: api + "sendMessage", ctype: "application/json",
			body:       `{"chat_id":-1001234567890123,"text":"<i>hi</i>","parse_mode":"HTML","reply_markup":{"inline_keyboard":[[{"text":"a","callback_data":"b"}]]}}`,
			wantStatus: 200, check: func(t *testing.T, r rawResp) {
				var m models.Message
				if json.Unmarshal(r.Result, &m) != nil || m.Chat.ID != -1001234567890123 || m.Text != "hi" || m.ReplyMarkup == nil {
					t.Fatalf("result = %s", r.Result)
				}
			}},
		{name: "urlencoded body", path: api + "sendMessage", ctype: "application/x-www-form-urlencoded",
			body: url.Values{"chat_id": {"31"}, "text": {"表单"}}.Encode(), wantStatus: 200},
		{name: "query parameters", path: api + "sendMessage?chat_id=32&text=%E6%9F%A5%E8%AF%A2", wantStatus: 200},
		{name: "flood control body", path: api + "sendMessage?chat_id=32&text=again", wantStatus: 429,
			check: func(t *testing.T, r rawResp) {
				if r.ErrorCode != 429 || r.Description != "Too Many Requests: retry after 1" || r.Parameters["retry_after"] != float64(1) {
					t.Fatalf("429 = %+v", r)
				}
			}},
		{name: "bad json", path: api + "sendMessage", ctype: "application/json", body: `{"chat_id":`, wantStatus: 400},
		{name: "missing chat", path: api + "sendMessage?text=x", wantStatus: 400, check: func(t *testing.T, r rawResp) {
			if r.Description != "Bad Request: chat_id is empty" {
				t.Fatalf("description = %q", r.Description)
			}
		}},
		{name: "bad reply markup", path: api + "sendMessage", ctype: "application/x-www-form-urlencoded",
			body: url.Values{"chat_id": {"33"}, "text": {"x"}, "reply_markup": {"{nope"}}.Encode(), wantStatus: 400},
		{name: "set webhook description", path: api + "deleteWebhook", wantStatus: 200, check: func(t *testing.T, r rawResp) {
			if r.Description != "Webhook is already deleted" || string(r.Result) != "true" {
				t.Fatalf("answer = %+v", r)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type = %q", ct)
			}
			if tc.wantBody != "" && strings.TrimSpace(rec.Body.String()) != tc.wantBody {
				t.Fatalf("body = %s, want %s", rec.Body, tc.wantBody)
			}
			var r rawResp
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if r.OK != (tc.wantStatus == 200) || (!r.OK && r.ErrorCode != tc.wantStatus) {
				t.Fatalf("answer = %+v", r)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	// Every call is recorded, the failed ones too.
	calls := s.Calls()
	if len(calls) != len(cases)-1 { // the non-API path is not a call
		t.Fatalf("calls = %d", len(calls))
	}
	if calls[0].Method != "sendTelepathy" || calls[0].Status != 404 || calls[2].Method != "getMe" {
		t.Fatalf("calls = %+v", calls[:3])
	}
	// Real HTTP, GET included.
	code, r := do(t, mustRequest(t, http.MethodGet, s.URL()+api+"getWebhookInfo"))
	if code != 200 || !r.OK {
		t.Fatalf("GET getWebhookInfo = %d %+v", code, r)
	}
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestMigrateAnswerBody(t *testing.T) {
	s := New(Options{})
	s.MigrateChat(-77, -1000000000077)
	req := httptest.NewRequest(http.MethodPost, "/bot"+s.Token()+"/sendMessage?chat_id=-77&text=x", nil)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	want := `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1000000000077}}`
	if rec.Code != 400 || strings.TrimSpace(rec.Body.String()) != want {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestParseHTML(t *testing.T) {
	cases := []struct {
		in    string
		plain string
		ents  []models.MessageEntity
	}{
		{"<b>粗</b>体", "粗体", []models.MessageEntity{{Type: "bold", Offset: 0, Length: 1}}},
		{"😀<i>x</i>", "😀x", []models.MessageEntity{{Type: "italic", Offset: 2, Length: 1}}},
		{"<b>a<i>b</i></b>", "ab", []models.MessageEntity{{Type: "bold", Offset: 0, Length: 2}, {Type: "italic", Offset: 1, Length: 1}}},
		{`<a href="https://x.org/?a=1&amp;b=2">链接</a>`, "链接", []models.MessageEntity{{Type: "text_link", Offset: 0, Length: 2, URL: "https://x.org/?a=1&b=2"}}},
		{`<pre><code class="language-go">x</code></pre>`, "x", []models.MessageEntity{{Type: "pre", Offset: 0, Length: 1, Language: "go"}}},
		{`<blockquote expandable>q</blockquote>`, "q", []models.MessageEntity{{Type: "expandable_blockquote", Offset: 0, Length: 1}}},
		{`<span class=tg-spoiler>s</span>`, "s", []models.MessageEntity{{Type: "spoiler", Offset: 0, Length: 1}}},
		{"&lt;&#20826;&#x515A;&quot;&gt;", `<党党">`, nil},
		{"<B>x</b >", "x", []models.MessageEntity{{Type: "bold", Offset: 0, Length: 1}}},
		{"a > b", "a > b", nil},
	}
	for _, tc := range cases {
		plain, ents, _, err := parseHTML(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if plain != tc.plain || len(ents) != len(tc.ents) {
			t.Fatalf("%q: %q %+v, want %q %+v", tc.in, plain, ents, tc.plain, tc.ents)
		}
		for i := range ents {
			if ents[i] != tc.ents[i] {
				t.Fatalf("%q: entity %+v, want %+v", tc.in, ents[i], tc.ents[i])
			}
		}
	}
	for _, bad := range []string{"<b", "<b>x</i>", "&#0;", "&#xD800;", "<a href=x y>", "<tg-emoji emoji-id=abc>x</tg-emoji>", "<b/>", "</>"} {
		if _, _, _, err := parseHTML(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
