package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Poller fetches updates with getUpdates and stores each before confirming
// it. go-telegram/bot's own polling advances the offset before the handler
// runs, so a crash would lose updates; here the next offset is requested only
// after the update is committed, the same store-then-process path as the
// webhook.
type Poller struct {
	APIURL, Token string
	Pool          *Pool
	Client        *http.Client
	Log           *slog.Logger
	Timeout       time.Duration
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	if p.Client == nil {
		p.Client = &http.Client{Timeout: p.Timeout + 10*time.Second}
	}
	var offset int64
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		next, err := p.poll(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			p.Log.Warn("getUpdates", slog.Any("err", err))
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		offset = next
	}
	return nil
}

func (p *Poller) poll(ctx context.Context, offset int64) (int64, error) {
	form := url.Values{"timeout": {strconv.Itoa(int(p.Timeout.Seconds()))}}
	if offset > 0 {
		form.Set("offset", strconv.FormatInt(offset, 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.APIURL+"/bot"+p.Token+"/getUpdates", nil)
	if err != nil {
		return offset, err
	}
	req.URL.RawQuery = form.Encode()
	resp, err := p.Client.Do(req)
	if err != nil {
		// The URL holds the token: report only the method.
		return offset, fmt.Errorf("getUpdates request failed")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return offset, fmt.Errorf("getUpdates: read: %w", err)
	}
	var r struct {
		OK          bool              `json:"ok"`
		Description string            `json:"description"`
		Result      []json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &r); err != nil || !r.OK {
		return offset, fmt.Errorf("getUpdates: status %d: %s", resp.StatusCode, r.Description)
	}
	for _, raw := range r.Result {
		var head struct {
			ID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			continue
		}
		if _, err := p.Pool.Ingest(ctx, raw); err != nil && err != ErrMalformed {
			// Not stored: ask for it again from here.
			return offset, err
		}
		offset = head.ID + 1
	}
	return offset, nil
}
