package healthcheck

import (
	"fmt"
	"slices"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/domain/health"
)

// Obligations returns the configured obligations: the built-in defaults,
// overridden by code or extended by healthcheck.obligations, minus disabled
// ones, with healthcheck.aliases added.
func (a Service) Obligations() []health.Obligation {
	obs, _ := BuildObligations(a.Cfg.Healthcheck)
	return obs
}

// BuildObligations applies the configuration to the defaults and validates
// the result (serve and the CLI refuse to start on an error).
func BuildObligations(hc config.Healthcheck) ([]health.Obligation, error) {
	obs := health.DefaultObligations()
	index := map[string]int{}
	for i, o := range obs {
		index[o.Code] = i
	}
	for _, c := range hc.Obligations {
		o := health.Obligation{Code: c.Code, Name: c.Name, Aliases: c.Aliases, Recurs: health.Recurrence(c.Recurs),
			YellowDays: c.YellowDays, PerGroup: c.PerGroup, ThemeDay: c.ThemeDay, GraceDays: c.GraceDays,
			AppliesTo: c.AppliesTo, Needs: c.Needs}
		if o.Needs == "none" {
			o.Needs = ""
		}
		da, err := health.ParseDueAfter(c.DueAfter)
		if err != nil {
			return nil, fmt.Errorf("config: healthcheck.obligations %q: %w", c.Code, err)
		}
		o.DueAfter = da
		if i, ok := index[c.Code]; ok {
			base := obs[i]
			if c.DueAfter == "" {
				o.DueAfter = base.DueAfter
			}
			o.Quorum = base.Quorum
			// What binds a branch and the term reminder's nature are the
			// built-in's unless the override says otherwise.
			o.TermEnd = base.TermEnd
			if c.Needs == "" {
				o.Needs = base.Needs
			}
			if len(o.AppliesTo) == 0 {
				o.AppliesTo = base.AppliesTo
			}
			if o.Name == "" {
				o.Name = base.Name
			}
			if o.Recurs == "" {
				o.Recurs = base.Recurs
			}
			if len(o.Aliases) == 0 {
				o.Aliases = base.Aliases
			}
			if c.Disabled {
				obs[i].Code = "" // dropped below
				continue
			}
			obs[i] = o
			continue
		}
		if c.Disabled {
			continue
		}
		index[o.Code] = len(obs)
		obs = append(obs, o)
	}
	out := obs[:0]
	for _, o := range obs {
		if o.Code != "" {
			out = append(out, o)
		}
	}
	known := map[string]bool{}
	for _, o := range out {
		known[o.Code] = true
	}
	for alias, code := range hc.Aliases {
		if !known[code] {
			return nil, fmt.Errorf("config: healthcheck.aliases: %q names unknown obligation %q", alias, code)
		}
	}
	for i := range out {
		for alias, code := range hc.Aliases {
			if code == out[i].Code && !slices.Contains(out[i].Aliases, alias) {
				out[i].Aliases = append(append([]string(nil), out[i].Aliases...), alias)
			}
		}
	}
	if err := health.ValidateObligations(out); err != nil {
		return nil, fmt.Errorf("config: healthcheck.obligations: %w", err)
	}
	return out, nil
}

// ObligationMatcher matches /checkin words to obligation codes.
func (a Service) ObligationMatcher() *command.Matcher {
	var es []command.MatcherEntry
	for _, o := range a.Obligations() {
		if o.TermEnd { // a reminder, not an activity one checks in
			continue
		}
		es = append(es, command.MatcherEntry{Code: o.Code, Name: o.Name, Aliases: o.Aliases, Word: o.Word()})
	}
	return command.NewMatcher(es)
}

// Obligation finds a configured obligation by code.
func (a Service) Obligation(code string) (health.Obligation, bool) {
	for _, o := range a.Obligations() {
		if o.Code == code {
			return o, true
		}
	}
	return health.Obligation{}, false
}
