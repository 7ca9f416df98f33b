package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/notice"
	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/safedial"
	"github.com/zhibu/zhibu/storage"
)

// Group robots (群机器人) of WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书)
// are outbox channels named "wecom", "dingtalk" and "feishu". A row's
// chat_id is the robot's id (table robots), its payload {"notice": <a
// notice.Message>} with an optional "title" (DingTalk shows it in the
// notification; else the notice's title or first line), which the channel
// renders in its platform's format (notice.Robot). One Dispatcher runs per
// channel (New with the channel and RobotOptions(name, opts)); robots only
// push, nothing comes back.
//
// Per platform:
//
//	wecom     POST {"msgtype":"markdown","markdown":{"content":…}} to the robot's
//	          URL; content at most 4,096 bytes; 20 messages/minute per robot.
//	dingtalk  POST {"msgtype":"markdown","markdown":{"title":…,"text":…}} to the
//	          URL plus &timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256(key
//	          secret, timestamp+"\n"+secret)> when the robot has a secret; the
//	          body stays under 20,000 bytes; 20 messages/minute per robot.
//	feishu    POST {"timestamp":"<s>","sign":base64(HMAC-SHA256(key
//	          timestamp+"\n"+secret, empty message)),"msg_type":"text",
//	          "content":{"text":…}} (timestamp and sign only with a secret);
//	          the body stays under 20 KB; 100/minute and 5/second per robot.
//
// A text over the limit is cut at line breaks (cutText) into several
// messages, each paced as one. Answers are classified like Telegram's:
// errcode/code 0 is delivered; the platform's rate-limit codes (and HTTP
// 429) wait RobotRetryAfter without counting a failure; 5xx, 408, timeouts,
// refused connections, "system busy" (-1) and unreadable answers are
// retried with back-off; every other code (a wrong key or signature, a
// keyword or IP rule, a malformed message) and other 4xx fail the row at
// once with the platform's words.

// Robot channel names: the outbox channel column and the robots.kind column.
const (
	ChannelWeCom    = "wecom"
	ChannelDingTalk = "dingtalk"
	ChannelFeishu   = "feishu"
)

// RobotKinds lists the robot channels.
var RobotKinds = []string{ChannelWeCom, ChannelDingTalk, ChannelFeishu}

// RobotRetryAfter is how long a robot rests after the platform said it
// was sent too much (the platforms count per minute).
const RobotRetryAfter = time.Minute

// RobotDirectory finds the robot an outbox row is for (*storage.Store).
type RobotDirectory interface {
	RobotByID(ctx context.Context, id int64) (storage.Robot, error)
}

type robotSpec struct {
	name      string
	perMinute float64
	format    notice.Format
	limit     int                // per message, in measure units
	measure   func(s string) int // content size as the platform counts it
	rateCodes map[int]bool       // "sent too much" answers
	codeField func(robotAnswer) (int, string, bool)
}

// robotAnswer holds the fields of every platform's JSON answer.
type robotAnswer struct {
	ErrCode       *int    `json:"errcode"`
	ErrMsg        string  `json:"errmsg"`
	Code          *int    `json:"code"`
	Msg           string  `json:"msg"`
	StatusCode    *int    `json:"StatusCode"`
	StatusMessage *string `json:"StatusMessage"`
}

func errcodeField(a robotAnswer) (int, string, bool) {
	if a.ErrCode == nil {
		return 0, "", false
	}
	return *a.ErrCode, a.ErrMsg, true
}

func feishuField(a robotAnswer) (int, string, bool) {
	switch {
	case a.Code != nil:
		return *a.Code, a.Msg, true
	case a.StatusCode != nil: // the older answer shape
		msg := ""
		if a.StatusMessage != nil {
			msg = *a.StatusMessage
		}
		return *a.StatusCode, msg, true
	}
	return 0, "", false
}

// Limits: WeCom counts the markdown content in bytes (4,096); DingTalk and
// Feishu bound the whole request at about 20,000 bytes, so their text is cut
// at 18,000 bytes as JSON, leaving room for the rest of the body.
var robotSpecs = map[string]robotSpec{
	ChannelWeCom: {name: ChannelWeCom, perMinute: 20, format: notice.WeComMarkdown, limit: 4096, measure: byteLen,
		rateCodes: map[int]bool{45009: true}, codeField: errcodeField},
	ChannelDingTalk: {name: ChannelDingTalk, perMinute: 20, format: notice.DingTalkMarkdown, limit: 18000, measure: jsonLen,
		rateCodes: map[int]bool{130101: true, 410100: true}, codeField: errcodeField},
	ChannelFeishu: {name: ChannelFeishu, perMinute: 100, format: notice.PlainText, limit: 18000, measure: jsonLen,
		rateCodes: map[int]bool{11232: true, 99991400: true}, codeField: feishuField},
}

// Robot is the outbox channel of one robot platform.
type Robot struct {
	spec   robotSpec
	dir    RobotDirectory
	client *http.Client
	now    func() time.Time // signature timestamps: the platform's clock, not a test clock
}

// NewRobot returns the channel for kind ("wecom", "dingtalk", "feishu").
// client nil means safedial.Client(false): no redirects followed, and no
// connection to loopback, private or link-local addresses (pass
// safedial.Client(cfg.Webhooks.AllowPrivateTargets) to follow the
// configuration). The dispatcher's SendTimeout bounds each call.
func NewRobot(kind string, dir RobotDirectory, client *http.Client) (*Robot, error) {
	spec, ok := robotSpecs[kind]
	if !ok {
		return nil, fmt.Errorf("outbox: unknown robot kind %q (want wecom, dingtalk or feishu)", kind)
	}
	if client == nil {
		client = safedial.Client(false)
	}
	return &Robot{spec: spec, dir: dir, client: client, now: clock.Real().Now}, nil
}

// NewRobotChannels returns the three robot channels over one client.
func NewRobotChannels(dir RobotDirectory, client *http.Client) []*Robot {
	out := make([]*Robot, 0, len(RobotKinds))
	for _, k := range RobotKinds {
		r, _ := NewRobot(k, dir, client)
		out = append(out, r)
	}
	return out
}

// RobotOptions adapts dispatcher options to a robot channel: every robot
// (chat_id) is paced at its platform's rate with a burst of 1 — 20/minute
// for WeCom and DingTalk, 100/minute for Feishu (which keeps it under 5/s
// too) — and the channel as a whole at up to 50 requests a second.
func RobotOptions(kind string, base Options) Options {
	o := base
	spec, ok := robotSpecs[kind]
	if !ok {
		return o
	}
	o.ChatPerSecond = spec.perMinute / 60
	o.GroupPerMinute = spec.perMinute
	o.GlobalPerSecond = 50
	o.PaidBroadcast = false
	o.Workers = 0 // derived from GlobalPerSecond again
	return o
}

// Name is the channel name, the robot kind.
func (r *Robot) Name() string { return r.spec.name }

// robotPayload is an outbox row's payload; Formatted is set on the parts
// Split makes (already in the platform's format and within its limit).
type robotPayload struct {
	Notice *notice.Message `json:"notice,omitempty"`
	// Text is the payload of rows queued before notices were channel-neutral
	// (Telegram HTML, see legacyNotice).
	Text      string `json:"text,omitempty"`
	Title     string `json:"title,omitempty"`
	Formatted string `json:"formatted,omitempty"`
}

// render is the payload's notice in the platform's format, and its title.
func (r *Robot) render(p robotPayload) (content, title string, err error) {
	var m notice.Message
	switch {
	case p.Notice != nil:
		m = *p.Notice
	case p.Text != "":
		m = legacyNotice(p.Text)
	}
	content = notice.Robot(m, r.spec.format)
	if strings.TrimSpace(content) == "" {
		return "", "", errors.New("empty text")
	}
	title = p.Title
	if title == "" {
		title = robotTitle(m)
	}
	return content, title, nil
}

// Split renders the notice in the platform's format and cuts it into
// messages within the platform's size limit.
func (r *Robot) Split(m Message) ([]Message, error) {
	var p robotPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if p.Formatted != "" {
		return []Message{m}, nil
	}
	content, title, err := r.render(p)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	texts := cutText(content, r.spec.limit, r.spec.measure)
	return parts(m, texts, func(i int, t string) ([]byte, error) {
		pt := title
		if len(texts) > 1 {
			pt = fmt.Sprintf("%s（%d/%d）", title, i+1, len(texts))
		}
		return json.Marshal(robotPayload{Title: pt, Formatted: t})
	})
}

// robotTitle is the notice's title, else its first line with text, at most
// 30 characters.
func robotTitle(m notice.Message) string {
	first := strings.TrimSpace(m.Title)
	for i := 0; first == "" && i < len(m.Lines); i++ {
		first = strings.TrimSpace(m.Lines[i].Text())
	}
	if utf8.RuneCountInString(first) > 30 {
		first = string([]rune(first)[:29]) + "…"
	}
	if first == "" {
		first = robotNoTitle
	}
	return first
}

// Send posts one message to the robot named by m.ChatID.
func (r *Robot) Send(ctx context.Context, m Message) (Result, error) {
	rb, err := r.dir.RobotByID(ctx, m.ChatID)
	if errors.Is(err, domain.ErrNotFound) {
		return permanent(fmt.Sprintf("robot %d does not exist", m.ChatID))
	}
	if err != nil {
		// Nothing was sent yet.
		return Result{Outcome: Retry, Reason: "robot lookup: " + err.Error(), NotDelivered: true}, err
	}
	if !rb.Active {
		return permanent(fmt.Sprintf("robot %d is not active", rb.ID))
	}
	if rb.Kind != r.spec.name {
		return permanent(fmt.Sprintf("robot %d is a %s robot, not %s", rb.ID, rb.Kind, r.spec.name))
	}
	var p robotPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return badPayload(err)
	}
	content, title := p.Formatted, p.Title
	if content == "" { // not split: render here, keep what fits
		if content, title, err = r.render(p); err != nil {
			return badPayload(err)
		}
		content = cutText(content, r.spec.limit, r.spec.measure)[0]
	}
	if title == "" {
		title = robotNoTitle
	}
	if strings.TrimSpace(content) == "" {
		return badPayload(errors.New("empty text"))
	}
	target, body, err := r.request(rb, content, title, r.now())
	if err != nil {
		return permanent("robot URL: " + err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return permanent("robot URL: " + redact(err).Error())
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := r.client.Do(req)
	if errors.Is(err, safedial.ErrForbidden) {
		// Nothing was sent; retrying cannot help until the configuration
		// changes.
		return permanent("refused: " + redact(err).Error() + " (webhooks.allow_private_targets is false)")
	}
	if err != nil {
		err = redact(err) // the URL carries the robot's key
		return Result{Outcome: Retry, Reason: err.Error(), NotDelivered: dialFailed(err)}, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res := r.classify(resp.StatusCode, resp.Header, answer)
	if res.Outcome != Delivered {
		return res, errors.New(res.Reason)
	}
	return res, nil
}

func permanent(reason string) (Result, error) {
	return Result{Outcome: Permanent, Reason: reason}, errors.New(reason)
}

// redact drops the URL from an HTTP client error: robot and webhook URLs
// carry keys, and errors end up in logs and in the outbox.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("%s: timeout: %w", ue.Op, ue.Err)
		}
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// request builds the URL and body for one message.
func (r *Robot) request(rb storage.Robot, content, title string, now time.Time) (string, []byte, error) {
	u, err := url.Parse(rb.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, errors.New("not an http(s) URL")
	}
	var body any
	switch r.spec.name {
	case ChannelWeCom:
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": content}}
	case ChannelDingTalk:
		if rb.Secret != "" {
			ts, sign := DingTalkSign(rb.Secret, now)
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", sign)
			u.RawQuery = q.Encode()
		}
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": title, "text": content}}
	case ChannelFeishu:
		b := map[string]any{"msg_type": "text", "content": map[string]string{"text": content}}
		if rb.Secret != "" {
			ts, sign := FeishuSign(rb.Secret, now)
			b["timestamp"], b["sign"] = ts, sign
		}
		body = b
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return "", nil, err
	}
	return u.String(), bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// DingTalkSign returns the timestamp (milliseconds) and signature of a
// DingTalk robot request: base64(HMAC-SHA256(key secret, timestamp+"\n"+secret)),
// to be sent URL-encoded as the sign query parameter.
func DingTalkSign(secret string, now time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(now.UnixMilli(), 10)
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(timestamp + "\n" + secret))
	return timestamp, base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// FeishuSign returns the timestamp (seconds) and signature of a Feishu
// robot request: base64(HMAC-SHA256(key timestamp+"\n"+secret, empty message)).
func FeishuSign(secret string, now time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(now.Unix(), 10)
	h := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return timestamp, base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// classify maps a robot platform's answer to what the dispatcher does.
func (r *Robot) classify(status int, h http.Header, body []byte) Result {
	snippet := strings.TrimSpace(string(body))
	if len(snippet) > 200 {
		snippet = strings.ToValidUTF8(snippet[:200], "") + "…"
	}
	switch {
	case status == http.StatusTooManyRequests:
		return Result{Outcome: RateLimited, RetryAfter: retryAfter(h, RobotRetryAfter), Reason: "HTTP 429: " + snippet}
	case status >= 500 || status == http.StatusRequestTimeout:
		return Result{Outcome: Retry, Reason: fmt.Sprintf("HTTP %d: %s", status, snippet)}
	case status < 200 || status > 299:
		return Result{Outcome: Permanent, Reason: fmt.Sprintf("HTTP %d: %s", status, snippet)}
	}
	var a robotAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Result{Outcome: Retry, Reason: "unreadable answer: " + snippet}
	}
	code, msg, ok := r.spec.codeField(a)
	switch {
	case !ok:
		return Result{Outcome: Retry, Reason: "answer without a result code: " + snippet}
	case code == 0:
		return Result{Outcome: Delivered}
	case r.spec.rateCodes[code]:
		return Result{Outcome: RateLimited, RetryAfter: RobotRetryAfter, Reason: fmt.Sprintf("%d %s", code, msg)}
	case code == -1: // "system busy": the platform's own refusal
		return Result{Outcome: Retry, Reason: fmt.Sprintf("%d %s", code, msg), NotDelivered: true}
	}
	return Result{Outcome: Permanent, Reason: fmt.Sprintf("%s error %d: %s", r.spec.name, code, msg)}
}

// retryAfter reads a Retry-After header in seconds (or an HTTP date), else def.
func retryAfter(h http.Header, def time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return def
}

// robotNoTitle titles a robot message whose notice has no words of its own to
// title it with (outbox cannot reach the catalogues: it renders what the app
// worded; this one word is the platform's fallback).
const robotNoTitle = "通知"
