package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/internal/safedial"
	"github.com/zhibu/zhibu/storage"
)

// Envelope is the JSON body of every outbound webhook.
type Envelope struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"` // when the event happened, RFC 3339 UTC
	Data      json.RawMessage `json:"data"`
}

// MessageID is the webhook-id of a delivery: stable per event and
// subscription, so every retry carries the same one.
func MessageID(eventID, subscriptionID int64) string {
	return fmt.Sprintf("msg_%d_%d", eventID, subscriptionID)
}

// Body is the request body of a delivery: the same bytes on every attempt.
func Body(j storage.WebhookJob) ([]byte, error) {
	data := j.Payload
	if len(bytes.TrimSpace(data)) == 0 {
		data = json.RawMessage(`{}`)
	}
	return json.Marshal(Envelope{Type: j.EventType, Timestamp: j.EventAt.UTC().Format(time.RFC3339Nano), Data: data})
}

// Sign returns the Standard Webhooks headers for body.
func Sign(secret, msgID string, at time.Time, body []byte) (http.Header, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("webhooks: bad secret: %w", err)
	}
	sig, err := wh.Sign(msgID, at, body)
	if err != nil {
		return nil, fmt.Errorf("webhooks: sign: %w", err)
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, msgID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return h, nil
}

// result is the outcome of one HTTP attempt.
type result struct {
	ok         bool
	retry      bool // worth another attempt
	status     int  // 0: no answer
	err        string
	retryAfter time.Duration
	took       time.Duration
}

// maxErrorBody bounds what is kept of a failed answer's body.
const maxErrorBody = 256

// attempt makes one signed request for j at now.
func attempt(ctx context.Context, client *http.Client, timeout time.Duration, j storage.WebhookJob, now time.Time) result {
	body, err := Body(j)
	if err != nil {
		return result{err: "bad event payload: " + err.Error()}
	}
	h, err := Sign(j.Secret, MessageID(j.EventID, j.SubscriptionID), now, body)
	if err != nil {
		return result{err: err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		return result{err: "bad URL: " + redact(err).Error()}
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "zhibu-webhooks/1")
	t0 := clock.Monotonic()
	resp, err := client.Do(req)
	if errors.Is(err, safedial.ErrForbidden) {
		// Not worth retrying: the target stays internal until the
		// configuration changes. Nothing was sent, nothing came back.
		return result{err: guardReason(err), took: time.Since(t0)}
	}
	if err != nil {
		return result{retry: true, err: redact(err).Error(), took: time.Since(t0)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	r := result{status: resp.StatusCode, took: time.Since(t0)}
	switch s := resp.StatusCode; {
	case s >= 200 && s <= 299:
		r.ok = true
		return r
	case s >= 500, s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
		r.retry = true
		r.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	r.err = fmt.Sprintf("HTTP %d", resp.StatusCode)
	if t := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); t != "" {
		r.err += ": " + t
	}
	return r
}

// retryAfter reads Retry-After in seconds or as an HTTP date (0 if absent).
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && time.Until(t) > 0 {
		return time.Until(t)
	}
	return 0
}

// guardReason explains a connection refused by safedial.
func guardReason(err error) string {
	var oe *net.OpError
	addr := ""
	if errors.As(err, &oe) && oe.Addr != nil {
		addr = " " + oe.Addr.String()
	}
	return "refused: target address" + addr + " is loopback, private or link-local (webhooks.allow_private_targets is false)"
}

// redact drops the URL from an HTTP client error: URLs may carry tokens.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("%s: timeout after the configured webhooks.timeout", ue.Op)
		}
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
