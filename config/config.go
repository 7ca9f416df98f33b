// Package config loads zhibu's configuration: built-in defaults, then a YAML
// file parsed strictly (an unknown key is an error naming it), then ZHIBU_*
// environment variables (ZHIBU_<PATH> with dots as underscores). Validate
// refuses invalid values with the key's name, so a bad deployment stops at
// start instead of misbehaving later.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. Every key is documented, with its
// default, in config.example.yaml; a test keeps the two in step.
type Config struct {
	Database    Database    `yaml:"database"`
	HTTP        HTTP        `yaml:"http"`
	Telegram    Telegram    `yaml:"telegram"`
	Timezone    string      `yaml:"timezone"`
	Log         Log         `yaml:"log"`
	Bind        Bind        `yaml:"bind"`
	Delivery    Delivery    `yaml:"delivery"`
	Healthcheck Healthcheck `yaml:"healthcheck"`
	Checkins    Checkins    `yaml:"checkins"`
	Points      Points      `yaml:"points"`
	Webhooks    Webhooks    `yaml:"webhooks"`
	Retention   Retention   `yaml:"retention"`
	Sandbox     Sandbox     `yaml:"sandbox"`
}

type Database struct {
	URL          string `yaml:"url"`
	MaxOpenConns int    `yaml:"max_open_conns"`
	// Bounds on every connection (SPEC §7.7): no call blocks past them
	// under a silent network partition. 0 = no bound.
	ConnectTimeout   Duration `yaml:"connect_timeout"`
	StatementTimeout Duration `yaml:"statement_timeout"`
	TCPUserTimeout   Duration `yaml:"tcp_user_timeout"`
	TCPKeepalive     Duration `yaml:"tcp_keepalive"`
}

type HTTP struct {
	Listen          string   `yaml:"listen"`
	PublicURL       string   `yaml:"public_url"`
	MaxBodyBytes    int      `yaml:"max_body_bytes"`
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// The server's bounds on a connection (SPEC §7.5).
	ReadTimeout    Duration `yaml:"read_timeout"`
	WriteTimeout   Duration `yaml:"write_timeout"`
	IdleTimeout    Duration `yaml:"idle_timeout"`
	MaxHeaderBytes int      `yaml:"max_header_bytes"`
	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For is
	// believed; empty = the client is the connection's peer.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

type Telegram struct {
	Token         string `yaml:"token"`
	APIURL        string `yaml:"api_url"`
	Mode          string `yaml:"mode"`
	WebhookSecret string `yaml:"webhook_secret"`
	BotUsername   string `yaml:"bot_username"`
	Workers       int    `yaml:"workers"`
}

type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

type Bind struct {
	CodeTTL Duration `yaml:"code_ttl"`
}

// Delivery paces the outbox so that Telegram's limits hold by construction.
type Delivery struct {
	GlobalPerSecond float64  `yaml:"global_per_second"`
	ChatPerSecond   float64  `yaml:"chat_per_second"`
	GroupPerMinute  float64  `yaml:"group_per_minute"`
	PaidBroadcast   bool     `yaml:"paid_broadcast"`
	MaxAge          Duration `yaml:"max_age"`
	PollInterval    Duration `yaml:"poll_interval"`
}

type Healthcheck struct {
	Every         Duration          `yaml:"every"`
	YellowRepeat  Duration          `yaml:"yellow_repeat"`
	RedRepeat     Duration          `yaml:"red_repeat"`
	EscalateAfter WorkingDays       `yaml:"escalate_after"`
	AckDefault    Duration          `yaml:"ack_default"`
	QuietHours    string            `yaml:"quiet_hours"`
	Holidays      []string          `yaml:"holidays"`
	Calendar      string            `yaml:"calendar"`
	Start         string            `yaml:"start"`
	Obligations   []Obligation      `yaml:"obligations"`
	Aliases       map[string]string `yaml:"aliases"`
}

// Obligation overrides or adds a required activity (规定动作).
type Obligation struct {
	Code       string   `yaml:"code"`
	Name       string   `yaml:"name"`
	Recurs     string   `yaml:"recurs"`
	YellowDays int      `yaml:"yellow_days"`
	PerGroup   bool     `yaml:"per_group"`
	ThemeDay   bool     `yaml:"theme_day"`
	GraceDays  int      `yaml:"grace_days"`
	DueAfter   string   `yaml:"due_after"`
	Aliases    []string `yaml:"aliases"`
	Disabled   bool     `yaml:"disabled"`
	// AppliesTo lists the branch types the obligation binds (empty = all).
	AppliesTo []string `yaml:"applies_to"`
	// Needs is "committee", "groups", "none" or empty (an override keeps
	// the built-in obligation's).
	Needs string `yaml:"needs"`
}

// Checkins configures what happens around a recorded check-in.
type Checkins struct {
	// OrganiserCopies sends each accepted check-in, with a 驳回 button, to
	// the organisers of the nearest unit above the branch that has any.
	OrganiserCopies bool `yaml:"organiser_copies"`
}

type Points struct {
	PublicityDays int `yaml:"publicity_days"`
	// Settle names the settlement periods (定期结算): month, quarter, year.
	Settle []string `yaml:"settle"`
	// Settlement is the older single settlement period; when set it
	// replaces Settle (kept so existing configurations still load).
	Settlement    string `yaml:"settlement"`
	Catalog       string `yaml:"catalog"`
	ClaimsPerHour int    `yaml:"claims_per_hour"`
	// ReviewQuorum is how many distinct reviewers' approvals decide a claim.
	ReviewQuorum int `yaml:"review_quorum"`
	// VetoScope is how long a veto excludes a household: the month,
	// quarter or year (settlement year) of the act's date.
	VetoScope string `yaml:"veto_scope"`
	// Stars are the yearly totals for 1..5 stars (星级文明户).
	Stars []int `yaml:"stars"`
}

// SettleKinds is the configured settlement periods, shortest first, as
// monthly, quarterly, yearly (points.settlement, when set, replaces
// points.settle).
func (p Points) SettleKinds() []string {
	names := p.Settle
	if p.Settlement != "" {
		names = []string{p.Settlement}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if k := settleKind(n); k != "" {
			seen[k] = true
		}
	}
	var out []string
	for _, k := range []string{"monthly", "quarterly", "yearly"} {
		if seen[k] {
			out = append(out, k)
		}
	}
	return out
}

func settleKind(s string) string {
	switch s {
	case "month", "monthly":
		return "monthly"
	case "quarter", "quarterly":
		return "quarterly"
	case "year", "yearly":
		return "yearly"
	}
	return ""
}

type Webhooks struct {
	Tolerance   Duration `yaml:"tolerance"`
	MaxAttempts int      `yaml:"max_attempts"`
	Timeout     Duration `yaml:"timeout"`
	// AllowPrivateTargets lets outbound webhooks and group robots reach
	// loopback, private and link-local addresses (SPEC §7.5); off by default.
	AllowPrivateTargets bool `yaml:"allow_private_targets"`
}

// Retention says how long the partitioned logs are kept (SPEC §7.7): the
// retention job drops a month's partition once all of it is older than the
// window. 0 keeps forever. Check-ins, claims, the ledger and the audit log
// are always kept.
type Retention struct {
	Updates         Duration `yaml:"updates"`
	Outbox          Duration `yaml:"outbox"`
	WebhookAttempts Duration `yaml:"webhook_attempts"`
}

// Sandbox controls the offline mode (telegram.mode: sandbox).
type Sandbox struct {
	Demo bool `yaml:"demo"`
	// ListenAny lets the sandbox bind http.listen as given; otherwise it binds
	// 127.0.0.1 on that port, since its console acts as anyone without login.
	ListenAny bool `yaml:"listen_any"`
}

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		Database: Database{
			URL:              "postgres://postgres@127.0.0.1:5432/zhibu?sslmode=disable",
			MaxOpenConns:     20,
			ConnectTimeout:   Duration(5 * time.Second),
			StatementTimeout: Duration(60 * time.Second),
			TCPUserTimeout:   Duration(10 * time.Second),
			TCPKeepalive:     Duration(5 * time.Second),
		},
		HTTP: HTTP{
			Listen:          "127.0.0.1:8080",
			MaxBodyBytes:    1 << 20,
			ShutdownTimeout: Duration(15 * time.Second),
			ReadTimeout:     Duration(30 * time.Second),
			WriteTimeout:    Duration(60 * time.Second),
			IdleTimeout:     Duration(120 * time.Second),
			MaxHeaderBytes:  64 << 10,
			TrustedProxies:  []string{},
		},
		Telegram: Telegram{
			APIURL: "https://api.telegram.org",
			Mode:   "webhook",
			// Two: each worker takes what has queued up for its chats as
			// one transaction, so batches grow with load, and on a
			// two-core machine four workers split the same updates into
			// smaller batches that contend (12-16 % fewer updates/s in
			// bench/ingest, BENCHMARKS.md "2026-12-04").
			Workers: 2,
		},
		Timezone: "Asia/Shanghai",
		Log:      Log{Level: "info", Format: "auto"},
		Bind:     Bind{CodeTTL: Duration(14 * 24 * time.Hour)},
		Delivery: Delivery{
			GlobalPerSecond: 30,
			ChatPerSecond:   1,
			GroupPerMinute:  20,
			MaxAge:          Duration(24 * time.Hour),
			PollInterval:    Duration(500 * time.Millisecond),
		},
		Healthcheck: Healthcheck{
			Every:         Duration(15 * time.Minute),
			YellowRepeat:  Duration(72 * time.Hour),
			RedRepeat:     Duration(24 * time.Hour),
			EscalateAfter: 5,
			AckDefault:    Duration(72 * time.Hour),
			QuietHours:    "21:00-08:00",
			Holidays:      []string{},
			Calendar:      "official",
			Obligations:   []Obligation{},
			Aliases:       map[string]string{},
		},
		Points: Points{
			PublicityDays: 3,
			Settle:        []string{"month", "year"},
			ClaimsPerHour: 20,
			ReviewQuorum:  1,
			VetoScope:     "year",
			Stars:         []int{100, 200, 300, 400, 500},
		},
		Webhooks: Webhooks{
			Tolerance:   Duration(5 * time.Minute),
			MaxAttempts: 8,
			Timeout:     Duration(10 * time.Second),
		},
		Retention: Retention{
			Updates:         Duration(180 * 24 * time.Hour),
			Outbox:          Duration(180 * 24 * time.Hour),
			WebhookAttempts: Duration(180 * 24 * time.Hour),
		},
		Sandbox: Sandbox{Demo: true},
	}
}

// Load parses YAML bytes over the defaults, strictly, then applies env
// (pass os.Environ() in production, a fixed slice in tests) and validates.
func Load(data []byte, env []string) (Config, error) {
	cfg := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// LoadFile reads path; a missing file at the default path falls back to the
// built-in defaults, a missing file named explicitly is an error.
func LoadFile(path string, explicit bool, env []string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return Load(nil, env)
		}
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Load(data, env)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Location returns the configured time zone; Validate guarantees it loads.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Sandbox reports whether serve runs against the embedded fake Bot API.
func (c Config) SandboxMode() bool { return c.Telegram.Mode == "sandbox" }
