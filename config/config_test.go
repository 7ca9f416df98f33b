package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/zhibu/zhibu/domain"
)

func TestExampleMatchesDefaults(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(data, nil)
	if err != nil {
		t.Fatalf("example config does not load: %v", err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("config.example.yaml and Default() differ:\nexample: %+v\ndefault: %+v", cfg, Default())
	}
	// Every key is documented: the example names each leaf key.
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	for _, key := range Keys() {
		node := any(tree)
		for _, part := range strings.Split(key, ".") {
			m, ok := node.(map[string]any)
			if !ok {
				t.Fatalf("key %s not in config.example.yaml", key)
			}
			if node, ok = m[part]; !ok {
				t.Fatalf("key %s not in config.example.yaml", key)
			}
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"unknown top key", "databse:\n  url: x\n", nil, "databse"},
		{"unknown nested key", "healthcheck:\n  evry: 5m\n", nil, "evry"},
		{"bad mode", "telegram:\n  mode: push\n", nil, "telegram.mode"},
		{"bad zone", "timezone: Mars/Olympus\n", nil, "timezone"},
		{"bad quiet", "healthcheck:\n  quiet_hours: late\n", nil, "healthcheck.quiet_hours"},
		{"empty quiet range", "healthcheck:\n  quiet_hours: 08:00-08:00\n", nil, "healthcheck.quiet_hours"},
		{"bad duration", "healthcheck:\n  every: soon\n", nil, "soon"},
		{"bad holiday", "healthcheck:\n  holidays: [10-01]\n", nil, "healthcheck.holidays[0]"},
		{"escalation in hours", "healthcheck:\n  escalate_after: 36h\n", nil, "working days"},
		{"bad env escalation", "", []string{"ZHIBU_HEALTHCHECK_ESCALATE_AFTER=-1"}, "healthcheck.escalate_after"},
		{"bad calendar", "healthcheck:\n  calendar: lunar\n", nil, "healthcheck.calendar"},
		{"negative publicity", "points:\n  publicity_days: -1\n", nil, "points.publicity_days"},
		{"unknown env", "", []string{"ZHIBU_DATABASE_URI=x"}, "ZHIBU_DATABASE_URI"},
		{"bad env value", "", []string{"ZHIBU_POINTS_PUBLICITY_DAYS=three"}, "points.publicity_days"},
		{"bad env duration", "", []string{"ZHIBU_HEALTHCHECK_EVERY=often"}, "healthcheck.every"},
		{"bad env bool", "", []string{"ZHIBU_CHECKINS_ORGANISER_COPIES=maybe"}, "checkins.organiser_copies"},
		{"bad secret", "", []string{"ZHIBU_TELEGRAM_WEBHOOK_SECRET=has space"}, "telegram.webhook_secret"},
		{"bad stars", "points:\n  stars: [100, 50, 300, 400, 500]\n", nil, "points.stars[1]"},
		{"four stars", "points:\n  stars: [1, 2, 3, 4]\n", nil, "points.stars"},
		{"bad env stars", "", []string{"ZHIBU_POINTS_STARS=1,two"}, "points.stars"},
		{"bad settle", "points:\n  settle: [month, week]\n", nil, "points.settle[1]"},
		{"no settle", "points:\n  settle: []\n", nil, "points.settle"},
		{"bad old settlement", "points:\n  settlement: weekly\n", nil, "points.settlement"},
		{"bad quorum", "points:\n  review_quorum: 0\n", nil, "points.review_quorum"},
		{"bad veto scope", "points:\n  veto_scope: forever\n", nil, "points.veto_scope"},
		{"fast without paid broadcast", "delivery:\n  global_per_second: 100\n", nil, "delivery.paid_broadcast"},
		{"bad applies_to", "healthcheck:\n  obligations:\n    - code: dues\n      applies_to: [village, farm]\n", nil, "healthcheck.obligations[0].applies_to[1]"},
		{"bad needs", "healthcheck:\n  obligations:\n    - code: dues\n      needs: secretary\n", nil, "healthcheck.obligations[0].needs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.yaml), tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	cfg, err := Load([]byte("http:\n  listen: ':9000'\n"), []string{
		"ZHIBU_DATABASE_URL=postgres://x@h/db?sslmode=disable",
		"ZHIBU_HTTP_LISTEN=:9090",
		"ZHIBU_TELEGRAM_TOKEN=1:abc",
		"ZHIBU_TELEGRAM_API_URL=http://127.0.0.1:1",
		"ZHIBU_TELEGRAM_WEBHOOK_SECRET=s3cr3t",
		"ZHIBU_TELEGRAM_MODE=polling",
		"ZHIBU_TIMEZONE=UTC",
		"ZHIBU_POINTS_PUBLICITY_DAYS=0",
		"ZHIBU_HEALTHCHECK_EVERY=0",
		"ZHIBU_HEALTHCHECK_QUIET_HOURS=",
		"ZHIBU_HEALTHCHECK_HOLIDAYS=2026-10-01, 2026-10-02",
		"ZHIBU_CHECKINS_ORGANISER_COPIES=true",
		"ZHIBU_HEALTHCHECK_ESCALATE_AFTER=3d",
		"ZHIBU_HEALTHCHECK_CALENDAR=none",
		"ZHIBU_POINTS_STARS=10, 20,30,40,50",
		"ZHIBU_POINTS_SETTLE=month,quarter",
		"ZHIBU_POINTS_REVIEW_QUORUM=3",
		"PATH=/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"db", cfg.Database.URL, "postgres://x@h/db?sslmode=disable"},
		{"listen (env beats file)", cfg.HTTP.Listen, ":9090"},
		{"token", cfg.Telegram.Token, "1:abc"},
		{"api", cfg.Telegram.APIURL, "http://127.0.0.1:1"},
		{"secret", cfg.Telegram.WebhookSecret, "s3cr3t"},
		{"mode", cfg.Telegram.Mode, "polling"},
		{"tz", cfg.Timezone, "UTC"},
		{"publicity", cfg.Points.PublicityDays, 0},
		{"every", cfg.Healthcheck.Every.D(), time.Duration(0)},
		{"quiet", cfg.Healthcheck.QuietHours, ""},
		{"holidays", cfg.Healthcheck.Holidays, []string{"2026-10-01", "2026-10-02"}},
		{"sandbox", cfg.SandboxMode(), false},
		{"organiser copies", cfg.Checkins.OrganiserCopies, true},
		{"escalate after", cfg.Healthcheck.EscalateAfter, WorkingDays(3)},
		{"calendar", cfg.Healthcheck.Calendar, "none"},
		{"stars", cfg.Points.Stars, []int{10, 20, 30, 40, 50}},
		{"settle", cfg.Points.SettleKinds(), []string{"monthly", "quarterly"}},
		{"quorum", cfg.Points.ReviewQuorum, 3},
	}
	if c, err := Load([]byte("healthcheck:\n  escalate_after: 7\n"), nil); err != nil || c.Healthcheck.EscalateAfter != 7 {
		t.Errorf("escalate_after: 7 in YAML: %v %v", c.Healthcheck.EscalateAfter, err)
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// Config accepts exactly the quiet hours the health check understands.
func TestQuietHoursAgreeWithTheRule(t *testing.T) {
	for _, v := range []string{"21:00-08:30", "22:00-24:00", "", "8:00-9:30"} {
		c := Default()
		c.Healthcheck.QuietHours = v
		if err := c.Validate(); err != nil {
			t.Errorf("quiet_hours %q refused: %v", v, err)
		}
	}
	for _, v := range []string{"24:00-08:00", "08:00-08:00", "00:00-24:00", "21:00"} {
		c := Default()
		c.Healthcheck.QuietHours = v
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "healthcheck.quiet_hours") {
			t.Errorf("quiet_hours %q: error %v should name the key", v, err)
		}
	}
}

// TestSandboxIsExplicit: only telegram.mode sandbox is the sandbox; an empty
// token in the default webhook mode is not (serve refuses it).
func TestSandboxIsExplicit(t *testing.T) {
	cfg, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SandboxMode() {
		t.Error("the defaults (no token, webhook) are the sandbox")
	}
	cfg, err = Load([]byte("sandbox:\n  listen_any: true\n"), []string{"ZHIBU_TELEGRAM_MODE=sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SandboxMode() || !cfg.Sandbox.ListenAny {
		t.Errorf("mode sandbox: SandboxMode %v, listen_any %v", cfg.SandboxMode(), cfg.Sandbox.ListenAny)
	}
}

// The older single points.settlement still loads and replaces points.settle.
func TestOldSettlementKey(t *testing.T) {
	cfg, err := Load([]byte("points:\n  settlement: quarterly\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Points.SettleKinds(); !reflect.DeepEqual(got, []string{"quarterly"}) {
		t.Fatalf("settlement: quarterly reads as %v", got)
	}
	if got := Default().Points.SettleKinds(); !reflect.DeepEqual(got, []string{"monthly", "yearly"}) {
		t.Fatalf("default settle %v", got)
	}
}

// The branch types an obligation may apply to are the domain's.
func TestBranchTypesMatchDomain(t *testing.T) {
	if !slices.Equal(branchTypes, domain.BranchTypes) {
		t.Fatalf("config %v, domain %v", branchTypes, domain.BranchTypes)
	}
}
