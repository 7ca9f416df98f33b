package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/scheduler"
	"github.com/zhibu/zhibu/villagepoints"
)

// Village points on the command line:
//
//	zhibu import catalog FILE                 the deployment-wide catalogue (SPEC §5.1)
//	zhibu points catalog --unit CODE FILE     a unit's own catalogue: a county's, or a
//	                                          village's override of its county's
//	zhibu points catalog --unit CODE --clear  drop a unit's own catalogue again
//	zhibu points settle [--at RFC3339]        settle the period ended before --at (default now)
//
// and the scheduled settlement job.

// pointsJobs is the settlement job (定期结算): hourly at minute 5, so the
// first run after a period ends is at 00:05 of the new period in the
// configured zone; villages already settled are skipped, so later runs only
// catch up what a stopped service missed.
func pointsJobs(s *Server) []scheduler.Job {
	if err := villagepoints.CheckCatalogConfig(s.Config.Points.Catalog); err != nil {
		s.log.Error("points catalogue", slog.Any("err", err))
	}
	return []scheduler.Job{{
		Name: "points-settlement",
		Cron: villagepoints.SettlementCron,
		Task: func(ctx context.Context, now time.Time) error {
			_, err := villagepoints.Of(s.App).Settle(ctx, domain.System, now)
			return err
		},
	}, {
		Name: "points-publicity",
		Cron: villagepoints.PublicityCron,
		Task: func(ctx context.Context, now time.Time) error {
			_, err := villagepoints.Of(s.App).PostPublicity(ctx, domain.System, now)
			return err
		},
	}}
}

func runPoints(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usagef("usage: zhibu points catalog --unit CODE FILE | points catalog --unit CODE --clear | points settle [--at RFC3339] | points publicity [--at RFC3339]")
	}
	switch args[0] {
	case "catalog":
		return runPointsCatalog(ctx, env, args[1:])
	case "settle":
		return runPointsSettle(ctx, env, args[1:])
	case "publicity":
		return runPointsPublicity(ctx, env, args[1:])
	}
	return usagef("unknown points command %q: use catalog, settle or publicity", args[0])
}

func runPointsCatalog(ctx context.Context, env Env, args []string) error {
	f := newFlags("points catalog", env)
	unit := f.String("unit", "", "unit code whose subtree the catalogue is for (a county or a village)")
	clearOwn := f.Bool("clear", false, "drop the unit's own catalogue: it inherits the one above it again")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if *unit == "" {
		return usagef("--unit is required (for the deployment-wide catalogue use: zhibu import catalog FILE)")
	}
	if *clearOwn != (len(pos) == 0) || len(pos) > 1 {
		return usagef("usage: zhibu points catalog --unit CODE FILE | zhibu points catalog --unit CODE --clear")
	}
	var t *tabular.Table
	if !*clearOwn {
		if t, err = tabular.ReadFile(pos[0]); err != nil {
			return err
		}
	}
	return withApp(ctx, f, func(a *app.App) error {
		if *clearOwn {
			if err := villagepoints.Of(a).ClearUnitCatalog(ctx, domain.Operator, *unit); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: own catalogue cleared; the catalogue above it applies\n", *unit)
			return nil
		}
		res, err := villagepoints.Of(a).ImportUnitCatalog(ctx, domain.Operator, *unit, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s (for %s)\n", res.String(), *unit)
		return nil
	})
}

func runPointsSettle(ctx context.Context, env Env, args []string) error {
	return runPointsAt(ctx, env, args, "settle", "settle the period that ended before this instant (RFC 3339; default now)",
		"2026-12-01T00:05:00+08:00", func(a *app.App, now time.Time) error {
			res, err := villagepoints.Of(a).Settle(ctx, domain.Operator, now)
			if err != nil {
				return err
			}
			for _, r := range res.Runs {
				fmt.Fprintf(env.Stdout, "period %s: %d villages settled, %d rankings posted\n", r.Period, r.Settled, r.Posted)
			}
			if other := res.Posted - postedIn(res.Runs); other > 0 {
				fmt.Fprintf(env.Stdout, "%d rankings of earlier periods posted\n", other)
			}
			return nil
		})
}

func runPointsPublicity(ctx context.Context, env Env, args []string) error {
	return runPointsAt(ctx, env, args, "publicity", "post the 公示 list as of this instant (RFC 3339; default now)",
		"2026-12-01T09:00:00+08:00", func(a *app.App, now time.Time) error {
			res, err := villagepoints.Of(a).PostPublicity(ctx, domain.Operator, now)
			if err != nil {
				return err
			}
			if res.Held != "" {
				fmt.Fprintf(env.Stdout, "publicity: nothing posted (%s)\n", res.Held)
				return nil
			}
			fmt.Fprintf(env.Stdout, "publicity: %d villages posted\n", res.Posted)
			return nil
		})
}

// runPointsAt runs a scheduled points job by hand: `zhibu points <name>
// [--at RFC3339]` takes no argument, --at (atHelp; example in its usage
// error) defaults to now.
func runPointsAt(ctx context.Context, env Env, args []string, name, atHelp, example string, run func(a *app.App, now time.Time) error) error {
	f := newFlags("points "+name, env)
	at := f.String("at", "", atHelp)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("usage: zhibu points %s [--at RFC3339]", name)
	}
	now, err := env.instant(*at, "--at %q: not an RFC 3339 time (e.g. "+example+")")
	if err != nil {
		return err
	}
	return withApp(ctx, f, func(a *app.App) error {
		return run(a, now)
	})
}

func postedIn(runs []villagepoints.SettleRun) int {
	n := 0
	for _, r := range runs {
		n += r.Posted
	}
	return n
}
