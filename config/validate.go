package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zhibu/zhibu/domain/health"
)

// branchTypes are the branch types an obligation may apply to (domain.BranchTypes).
var branchTypes = []string{"village", "community", "compound", "property", "enterprise", "institution", "other"}

var obligationCode = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks every value and names the key of the first bad one.
func (c Config) Validate() error {
	bad := func(key string, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	if c.Database.URL == "" {
		return bad("database.url", "must not be empty")
	}
	if _, err := url.Parse(c.Database.URL); err != nil && !strings.Contains(c.Database.URL, "=") {
		return bad("database.url", "not a PostgreSQL URL or key=value DSN")
	}
	if c.Database.MaxOpenConns < 2 {
		return bad("database.max_open_conns", "must be at least 2, got %d", c.Database.MaxOpenConns)
	}
	for key, d := range map[string]Duration{"database.connect_timeout": c.Database.ConnectTimeout, "database.statement_timeout": c.Database.StatementTimeout,
		"database.tcp_user_timeout": c.Database.TCPUserTimeout, "database.tcp_keepalive": c.Database.TCPKeepalive} {
		if d < 0 {
			return bad(key, "must not be negative")
		}
	}
	if c.HTTP.Listen == "" {
		return bad("http.listen", "must not be empty")
	}
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			return bad("http.public_url", "%q is not an http(s) URL", c.HTTP.PublicURL)
		}
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		return bad("http.max_body_bytes", "must be at least 1024, got %d", c.HTTP.MaxBodyBytes)
	}
	if c.HTTP.ShutdownTimeout < 0 {
		return bad("http.shutdown_timeout", "must not be negative")
	}
	for key, d := range map[string]Duration{"http.read_timeout": c.HTTP.ReadTimeout, "http.write_timeout": c.HTTP.WriteTimeout, "http.idle_timeout": c.HTTP.IdleTimeout} {
		if d <= 0 {
			return bad(key, "must be positive")
		}
	}
	if c.HTTP.MaxHeaderBytes < 1024 {
		return bad("http.max_header_bytes", "must be at least 1024, got %d", c.HTTP.MaxHeaderBytes)
	}
	for i, p := range c.HTTP.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return bad(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is not an IP address or CIDR", p)
		}
	}
	if u, err := url.Parse(c.Telegram.APIURL); err != nil || u.Scheme == "" || u.Host == "" {
		return bad("telegram.api_url", "%q is not a URL", c.Telegram.APIURL)
	}
	if c.Telegram.Mode != "webhook" && c.Telegram.Mode != "polling" && c.Telegram.Mode != "sandbox" {
		return bad("telegram.mode", "must be webhook, polling or sandbox, got %q", c.Telegram.Mode)
	}
	if s := c.Telegram.WebhookSecret; s != "" && !regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`).MatchString(s) {
		return bad("telegram.webhook_secret", "must be 1-256 characters of A-Z a-z 0-9 _ -")
	}
	if c.Telegram.Workers < 1 {
		return bad("telegram.workers", "must be at least 1, got %d", c.Telegram.Workers)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		return bad("timezone", "unknown time zone %q", c.Timezone)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "auto" && c.Log.Format != "json" && c.Log.Format != "text" {
		return bad("log.format", "must be auto, json or text, got %q", c.Log.Format)
	}
	if c.Bind.CodeTTL <= 0 {
		return bad("bind.code_ttl", "must be positive")
	}
	if c.Delivery.GlobalPerSecond <= 0 {
		return bad("delivery.global_per_second", "must be positive")
	}
	if c.Delivery.GlobalPerSecond > 30 && !c.Delivery.PaidBroadcast {
		return bad("delivery.global_per_second", "above Telegram's free 30/s needs delivery.paid_broadcast: true")
	}
	if c.Delivery.GlobalPerSecond > 1000 {
		return bad("delivery.global_per_second", "Telegram allows at most 1000/s even with paid broadcast")
	}
	if c.Delivery.ChatPerSecond <= 0 {
		return bad("delivery.chat_per_second", "must be positive")
	}
	if c.Delivery.GroupPerMinute <= 0 {
		return bad("delivery.group_per_minute", "must be positive")
	}
	if c.Delivery.MaxAge <= 0 {
		return bad("delivery.max_age", "must be positive")
	}
	if c.Delivery.PollInterval <= 0 {
		return bad("delivery.poll_interval", "must be positive")
	}
	h := c.Healthcheck
	if h.Every < 0 {
		return bad("healthcheck.every", "must not be negative (0 = only on demand)")
	}
	for key, d := range map[string]Duration{"healthcheck.yellow_repeat": h.YellowRepeat, "healthcheck.red_repeat": h.RedRepeat,
		"healthcheck.ack_default": h.AckDefault} {
		if d <= 0 {
			return bad(key, "must be positive")
		}
	}
	// One parser for quiet hours: the rule's own, so that config accepts
	// exactly what the health check understands (22:00-24:00 included).
	if _, _, err := health.ParseQuietHours(h.QuietHours); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if h.Calendar != "official" && h.Calendar != "none" {
		return bad("healthcheck.calendar", "%q is not official or none", h.Calendar)
	}
	for i, d := range h.Holidays {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return bad(fmt.Sprintf("healthcheck.holidays[%d]", i), "%q is not a date like 2026-10-01", d)
		}
	}
	if h.Start != "" {
		if _, err := time.Parse("2006-01-02", h.Start); err != nil {
			return bad("healthcheck.start", "%q is not a date like 2026-01-01", h.Start)
		}
	}
	for i, o := range h.Obligations {
		key := fmt.Sprintf("healthcheck.obligations[%d]", i)
		if !obligationCode.MatchString(o.Code) {
			return bad(key+".code", "%q must be lower-case letters, digits and _", o.Code)
		}
		switch o.Recurs {
		case "", "monthly", "quarterly", "yearly":
		default:
			return bad(key+".recurs", "must be monthly, quarterly or yearly, got %q", o.Recurs)
		}
		if o.YellowDays < 0 || o.YellowDays > 366 {
			return bad(key+".yellow_days", "must be between 0 and 366")
		}
		if o.GraceDays < 0 || o.GraceDays > 31 {
			return bad(key+".grace_days", "must be between 0 and 31")
		}
		for j, t := range o.AppliesTo {
			if !slices.Contains(branchTypes, t) {
				return bad(fmt.Sprintf("%s.applies_to[%d]", key, j), "%q is not one of %s", t, strings.Join(branchTypes, ", "))
			}
		}
		switch o.Needs {
		case "", "committee", "groups", "none":
		default:
			return bad(key+".needs", "must be committee, groups or none, got %q", o.Needs)
		}
	}
	if c.Points.PublicityDays < 0 || c.Points.PublicityDays > 90 {
		return bad("points.publicity_days", "must be between 0 and 90, got %d", c.Points.PublicityDays)
	}
	if c.Points.Settlement != "" && settleKind(c.Points.Settlement) == "" {
		return bad("points.settlement", "must be monthly, quarterly or yearly, got %q", c.Points.Settlement)
	}
	for i, k := range c.Points.Settle {
		if settleKind(k) == "" {
			return bad(fmt.Sprintf("points.settle[%d]", i), "must be month, quarter or year, got %q", k)
		}
	}
	if len(c.Points.SettleKinds()) == 0 {
		return bad("points.settle", "must name at least one of month, quarter, year")
	}
	if c.Points.ReviewQuorum < 1 || c.Points.ReviewQuorum > 9 {
		return bad("points.review_quorum", "must be between 1 and 9, got %d", c.Points.ReviewQuorum)
	}
	switch c.Points.VetoScope {
	case "month", "quarter", "year":
	default:
		return bad("points.veto_scope", "must be month, quarter or year, got %q", c.Points.VetoScope)
	}
	if len(c.Points.Stars) != 5 {
		return bad("points.stars", "must list 5 yearly totals (for 1 to 5 stars), got %d", len(c.Points.Stars))
	}
	for i, n := range c.Points.Stars {
		if n < 1 || i > 0 && n <= c.Points.Stars[i-1] {
			return bad(fmt.Sprintf("points.stars[%d]", i), "must be positive and greater than the one before, got %d", n)
		}
	}
	if c.Points.ClaimsPerHour < 1 {
		return bad("points.claims_per_hour", "must be at least 1")
	}
	if c.Webhooks.Tolerance <= 0 {
		return bad("webhooks.tolerance", "must be positive")
	}
	if c.Webhooks.MaxAttempts < 1 {
		return bad("webhooks.max_attempts", "must be at least 1")
	}
	if c.Webhooks.Timeout <= 0 {
		return bad("webhooks.timeout", "must be positive")
	}
	for _, r := range []struct {
		key string
		d   Duration
	}{{"retention.updates", c.Retention.Updates}, {"retention.outbox", c.Retention.Outbox}, {"retention.webhook_attempts", c.Retention.WebhookAttempts}} {
		if r.d < 0 {
			return bad(r.key, "must be 0 (keep forever) or positive, got %s", r.d)
		}
		if r.d > 0 && r.d < Duration(31*24*time.Hour) {
			return bad(r.key, "must be at least 31d (partitions are monthly), got %s", r.d)
		}
	}
	return nil
}
