package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/integrations"
)

// Integrations on the command line (SPEC §5 "Integrations"):
//
//	zhibu integration create --name N --unit CODE [--role admin|secretary]
//	                         an inbound integration; prints its whsec_ secret alone
//	zhibu integration list   CSV: name,unit,role,active,last_used_at
//	zhibu integration enable|disable --name N
//	zhibu webhook create --url U --unit CODE [--events a,b]
//	                         an outbound subscription; prints its whsec_ secret alone
//	zhibu webhook list [--unit CODE]
//	                         CSV: id,unit,url,events,active,failure_count,disabled_reason
//	zhibu webhook delete ID
//	zhibu robot add --unit CODE --kind wecom|dingtalk|feishu --url URL [--secret S]
//	                         a unit's group robot; prints its id alone
//	zhibu robot list [--unit CODE]
//	                         CSV: id,unit,kind,active,url (the key in the URL masked)
//	zhibu robot enable|disable ID
//
// Secrets go to stdout only where created; a note on stderr says what was made.

func runIntegration(ctx context.Context, env Env, args []string) error {
	const usage = "usage: zhibu integration create --name N --unit CODE [--role admin|secretary] | list | enable --name N | disable --name N"
	f := newFlags("integration", env)
	name := f.String("name", "", "the integration's name (the platform), unique")
	unit := f.String("unit", "", "unit code: the integration acts in this unit's subtree")
	role := f.String("role", "admin", "admin (any branch of the unit's subtree) or secretary (the unit is one branch)")
	pos, err := f.parseVerb(args, usage)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef(usage)
	}
	setActive := verb{
		check: usageUnless(*name == "", "--name is required"),
		run: func(a *app.App) error {
			if err := checkin.Of(a).SetIntegrationActive(ctx, domain.Operator, *name, args[0] == "enable"); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "integration %q %sd\n", *name, args[0])
			return nil
		},
	}
	return runVerb(ctx, f, args[0], usage, map[string]verb{
		"create": {
			check: usageUnless(*name == "" || *unit == "", "--name and --unit are required"),
			run: func(a *app.App) error {
				in, secret, err := checkin.Of(a).CreateIntegration(ctx, domain.Operator, *name, *unit, *role)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "integration %q created for %s as %s; sign requests to POST /api/v1/integrations/checkins with this secret (shown once):\n", in.Name, in.UnitCode, in.Role)
				fmt.Fprintln(env.Stdout, secret)
				return nil
			},
		},
		"list": {run: func(a *app.App) error {
			ins, err := checkin.Of(a).ListIntegrations(ctx, domain.Operator)
			if err != nil {
				return err
			}
			return writeList(env.Stdout, []string{"name", "unit", "role", "active", "last_used_at"}, len(ins), func(i int) []string {
				in := ins[i]
				used := ""
				if in.LastUsedAt != nil {
					used = in.LastUsedAt.Format(time.RFC3339)
				}
				return []string{in.Name, in.UnitCode, in.Role, strconv.FormatBool(in.Active), used}
			})
		}},
		"enable":  setActive,
		"disable": setActive,
	})
}

func runWebhook(ctx context.Context, env Env, args []string) error {
	const usage = "usage: zhibu webhook create --url U --unit CODE [--events a,b] | list [--unit CODE] | delete ID"
	f := newFlags("webhook", env)
	target := f.String("url", "", "the subscriber's http(s) URL")
	unit := f.String("unit", "", "unit code: events of this unit's subtree")
	events := f.String("events", "", "comma-separated event types (default: all): "+strings.Join(integrations.WebhookEventTypes, ","))
	pos, err := f.parseVerb(args, usage)
	if err != nil {
		return err
	}
	var id int64
	return runVerb(ctx, f, args[0], usage, map[string]verb{
		"create": {
			check: usageUnless(*target == "" || *unit == "" || len(pos) != 0, "usage: zhibu webhook create --url U --unit CODE [--events a,b]"),
			run: func(a *app.App) error {
				var types []string
				for _, t := range strings.Split(*events, ",") {
					if t = strings.TrimSpace(t); t != "" {
						types = append(types, t)
					}
				}
				created, err := integrations.Of(a).CreateWebhook(ctx, domain.Operator, integrations.WebhookRequest{URL: *target, UnitCode: *unit, Events: types})
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "webhook %d created for %s; verify its requests with this secret (shown once):\n", created.Subscription.ID, created.Subscription.UnitCode)
				fmt.Fprintln(env.Stdout, created.Secret)
				return nil
			},
		},
		"list": {
			check: usageUnless(len(pos) != 0, usage),
			run: func(a *app.App) error {
				ws, err := integrations.Of(a).ListWebhooks(ctx, domain.Operator, *unit)
				if err != nil {
					return err
				}
				return writeList(env.Stdout, []string{"id", "unit", "url", "events", "active", "failure_count", "disabled_reason"}, len(ws), func(i int) []string {
					s := ws[i]
					reason := ""
					if s.DisabledReason != nil {
						reason = *s.DisabledReason
					}
					return []string{strconv.FormatInt(s.ID, 10), s.UnitCode, s.URL, strings.Join(s.EventTypes, " "),
						strconv.FormatBool(s.Active), strconv.Itoa(s.FailureCount), reason}
				})
			},
		},
		"delete": {
			check: idArg(&id, "webhook", pos, "usage: zhibu webhook delete ID"),
			run: func(a *app.App) error {
				if err := integrations.Of(a).DeleteWebhook(ctx, domain.Operator, id); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "webhook %d deleted\n", id)
				return nil
			},
		},
	})
}

func runRobot(ctx context.Context, env Env, args []string) error {
	const usage = "usage: zhibu robot add --unit CODE --kind wecom|dingtalk|feishu --url URL [--secret S] | list [--unit CODE] | enable ID | disable ID"
	f := newFlags("robot", env)
	unit := f.String("unit", "", "unit code whose notices the robot's group gets")
	kind := f.String("kind", "", "wecom, dingtalk or feishu")
	target := f.String("url", "", "the robot's webhook URL, key included")
	secret := f.String("secret", "", "signing secret (DingTalk SEC…, Feishu); leave out when the robot does not check signatures")
	pos, err := f.parseVerb(args, usage)
	if err != nil {
		return err
	}
	var id int64
	setActive := verb{
		check: idArg(&id, "robot", pos, "usage: zhibu robot "+args[0]+" ID"),
		run: func(a *app.App) error {
			if err := integrations.Of(a).SetRobotActive(ctx, domain.Operator, id, args[0] == "enable"); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "robot %d %sd\n", id, args[0])
			return nil
		},
	}
	return runVerb(ctx, f, args[0], usage, map[string]verb{
		"add": {
			check: usageUnless(*unit == "" || *kind == "" || *target == "" || len(pos) != 0, "usage: zhibu robot add --unit CODE --kind wecom|dingtalk|feishu --url URL [--secret S]"),
			run: func(a *app.App) error {
				r, err := integrations.Of(a).AddRobot(ctx, domain.Operator, integrations.RobotRequest{UnitCode: *unit, Kind: *kind, URL: *target, Secret: *secret})
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "%s robot %d added for %s\n", r.Kind, r.ID, r.UnitCode)
				fmt.Fprintln(env.Stdout, r.ID)
				return nil
			},
		},
		"list": {
			check: usageUnless(len(pos) != 0, usage),
			run: func(a *app.App) error {
				rs, err := integrations.Of(a).ListRobots(ctx, domain.Operator, *unit)
				if err != nil {
					return err
				}
				return writeList(env.Stdout, []string{"id", "unit", "kind", "active", "url"}, len(rs), func(i int) []string {
					r := rs[i]
					return []string{strconv.FormatInt(r.ID, 10), r.UnitCode, r.Kind, strconv.FormatBool(r.Active), maskKey(r.URL)}
				})
			},
		},
		"enable":  setActive,
		"disable": setActive,
	})
}

// maskKey hides a robot URL's query values (key=…, access_token=…): they
// are the robot's credentials.
func maskKey(raw string) string {
	base, query, ok := strings.Cut(raw, "?")
	if !ok {
		return raw
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok && len(v) > 4 {
			parts[i] = k + "=" + v[:4] + "…"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}
