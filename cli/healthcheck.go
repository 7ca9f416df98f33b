package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/scheduler"
)

// healthcheckJobs evaluates every healthcheck.every (0 = only on demand)
// as of the scheduler's clock; green prompts, reminders, red notices and
// escalations all come from that one evaluation.
func healthcheckJobs(s *Server) []scheduler.Job {
	every := s.Config.Healthcheck.Every.D()
	if every <= 0 {
		return nil
	}
	return []scheduler.Job{{Name: "healthcheck", Every: every, Task: func(ctx context.Context, now time.Time) error {
		_, err := healthcheck.Of(s.App).RunHealthcheck(ctx, domain.System, now, "", false)
		return err
	}}}
}

func runHealthcheck(ctx context.Context, env Env, args []string) error {
	f := newFlags("healthcheck", env)
	atFlag := f.String("at", "", "evaluate as of this instant, RFC 3339 (default now)")
	dryRun := f.Bool("dry-run", false, "print what would be sent; send and record nothing")
	unit := f.String("unit", "", "evaluate only this unit's subtree (unit code)")
	asJSON := f.Bool("json", false, "print JSON instead of a table")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	at, err := env.instant(*atFlag, "--at %q: not an RFC 3339 instant like 2026-11-30T09:00:00+08:00")
	if err != nil {
		return err
	}
	return withApp(ctx, f, func(a *app.App) error {
		if _, err := healthcheck.Of(a).HealthRules(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		var ev *healthcheck.Evaluation
		if *dryRun {
			ev, err = healthcheck.Of(a).Evaluate(ctx, domain.Operator, at, *unit)
		} else {
			ev, err = healthcheck.Of(a).RunHealthcheck(ctx, domain.Operator, at, *unit, true)
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return printHealthJSON(env.Stdout, ev, a)
		}
		printHealthTable(env.Stdout, ev, a)
		return nil
	})
}

type healthJSON struct {
	At      string              `json:"at"`
	Lights  []healthJSONLight   `json:"lights"`
	Digests []healthJSONDigests `json:"digests"`
}

type healthJSONLight struct {
	Branch     string `json:"branch"`
	Group      string `json:"group,omitempty"` // the party group of a per-group obligation
	Obligation string `json:"obligation"`
	Period     string `json:"period"`
	Light      string `json:"light"`
}

type healthJSONDigests struct {
	Person string `json:"person"`
	ChatID int64  `json:"chat_id"`
	Level  string `json:"level"`
	Items  int    `json:"items"`
	Text   string `json:"text"`
}

// printHealthJSON prints the SPEC §5.1 shape.
func printHealthJSON(w io.Writer, ev *healthcheck.Evaluation, a *app.App) error {
	out := healthJSON{At: ev.At.In(a.Loc).Format(time.RFC3339), Lights: make([]healthJSONLight, 0, len(ev.Lights)),
		Digests: make([]healthJSONDigests, 0, len(ev.Digests))}
	for _, l := range ev.Lights {
		jl := healthJSONLight{Branch: ev.Codes[l.BranchID], Obligation: l.Obligation, Period: l.Period.Key(), Light: string(l.Light)}
		if l.GroupID != 0 {
			jl.Group = ev.Codes[l.GroupID]
		}
		out.Lights = append(out.Lights, jl)
	}
	for _, d := range ev.Digests {
		out.Digests = append(out.Digests, healthJSONDigests{Person: d.Name, ChatID: d.ChatID, Level: string(d.Level), Items: d.Items,
			Text: strings.Join(d.Texts(), "\n")})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

var lightMarks = map[health.Light]string{health.Green: "🟢", health.Yellow: "🟡", health.Red: "🔴"}

// printHealthTable prints the lights and digests for a person to read.
func printHealthTable(w io.Writer, ev *healthcheck.Evaluation, a *app.App) {
	scope := "all units"
	if ev.Root != nil {
		scope = ev.Root.Code + " " + ev.Root.Name
	}
	mode := "sent"
	if ev.DryRun {
		mode = "dry run: nothing sent"
	}
	fmt.Fprintf(w, "healthcheck at %s, %s (%s)\n\n", ev.At.In(a.Loc).Format(time.RFC3339), scope, mode)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BRANCH\tGROUP\tOBLIGATION\tPERIOD\tLIGHT")
	for _, l := range ev.Lights {
		group := "-"
		if l.GroupID != 0 {
			group = ev.Codes[l.GroupID]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\n", ev.Codes[l.BranchID], group, l.Obligation, l.Period.Key(), lightMarks[l.Light], l.Light)
	}
	_ = tw.Flush()
	c := ev.Counts
	fmt.Fprintf(w, "\nbranches: %d green, %d yellow, %d red\n", c.Green, c.Yellow, c.Red)
	if ev.Deferred {
		fmt.Fprintf(w, "notices: %d lines held (%s); next allowed at %s\n", ev.Stats.Lines, ev.DeferReason, ev.NextAllowed.In(a.Loc).Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "notices: %d digests, %d lines (%d already sent, %d paused by acknowledgement, %d silenced, %d undeliverable)\n",
			len(ev.Digests), ev.Stats.Lines, ev.Stats.AlreadySent, ev.Stats.Paused, ev.Stats.Silenced, ev.Stats.Undeliverable)
	}
	if len(ev.Digests) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PERSON\tCHAT\tLEVEL\tLINES\tDELIVERY")
		for _, d := range ev.Digests {
			how := "direct"
			switch {
			case d.Undeliverable:
				how = "undeliverable (no chat, no group)"
			case d.ViaFallback:
				how = "unit group (person not linked)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", d.Name, d.ChatID, d.Level, d.Items, how)
		}
		_ = tw.Flush()
	}
	for _, it := range ev.Silenced {
		fmt.Fprintf(w, "silenced: %s %s %s (%s)\n", it.BranchCode, it.Obligation.Code, it.Period.Key(), it.SilenceReason)
	}
	if !ev.DryRun {
		fmt.Fprintf(w, "enqueued %d messages, %d light changes\n", ev.Messages, ev.Changes)
	}
}

// exportLights exports the lights as of the command's clock: one row per
// branch (or party group), obligation and period that an evaluation shows —
// the current periods and every missed one.
func exportLights(ctx context.Context, a *app.App, o exportOptions) (exportTable, error) {
	ev, err := healthcheck.Of(a).Evaluate(ctx, domain.Operator, o.At, o.Unit)
	if err != nil {
		return exportTable{}, err
	}
	names := map[string]string{}
	for _, ob := range healthcheck.Of(a).Obligations() {
		names[ob.Code] = ob.Name
	}
	t := exportTable{
		Sheet: "红黄绿灯",
		CSV:   []string{"branch_code", "branch_name", "group_code", "group_name", "obligation", "period", "light"},
		XLSX:  []string{"支部", "党小组", "规定动作", "期间", "灯"},
	}
	for _, l := range ev.Lights {
		var gCode, gName string
		if l.GroupID != 0 {
			gCode, gName = ev.Codes[l.GroupID], ev.Names[l.GroupID]
		}
		t.Rows = append(t.Rows, []any{ev.Codes[l.BranchID], ev.Names[l.BranchID], gCode, gName, l.Obligation, l.Period.Key(), string(l.Light)})
		t.XLSXRows = append(t.XLSXRows, []any{ev.Names[l.BranchID], gName, names[l.Obligation], l.Period.Label(), l.Light.Label()})
	}
	return t, nil
}
