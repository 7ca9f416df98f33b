package cli

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/tabular"
)

func runMigrate(ctx context.Context, env Env, args []string) error {
	cfg, err := newFlags("migrate", env).parseConfig(args)
	if err != nil {
		return err
	}
	store, err := app.OpenDatabase(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return err
	}
	store.Close()
	fmt.Fprintln(env.Stdout, "database is up to date")
	return nil
}

// importers maps `zhibu import <what>` to its use case; other files add to it.

func runImport(ctx context.Context, env Env, args []string) error {
	f := newFlags("import", env)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("usage: zhibu import %s FILE", strings.Join(importerNames(), "|"))
	}
	imp, ok := importers[pos[0]]
	if !ok {
		return usagef("cannot import %q: use %s", pos[0], strings.Join(importerNames(), ", "))
	}
	t, err := tabular.ReadFile(pos[1])
	if err != nil {
		return err
	}
	return withApp(ctx, f, func(a *app.App) error {
		res, err := imp(a, ctx, domain.Operator, t)
		if err != nil {
			return err
		}
		a.Log.Info("import done", slog.String("what", pos[0]), slog.String("file", t.File), slog.Int("rows", res.Rows))
		fmt.Fprintln(env.Stdout, res.String())
		return nil
	})
}

func runInvite(ctx context.Context, env Env, args []string) error {
	f := newFlags("invite", env)
	unit := f.String("unit", "", "only people in this unit's subtree")
	if _, err := f.parse(args); err != nil {
		return err
	}
	return withApp(ctx, f, func(a *app.App) error {
		username, err := botUsername(ctx, a.Cfg)
		if err != nil {
			return err
		}
		rows, err := accounts.Of(a).Invite(ctx, domain.Operator, *unit, username)
		if err != nil {
			return err
		}
		return writeList(env.Stdout, []string{"name", "phone", "role", "unit_code", "code", "link"}, len(rows), func(i int) []string {
			r := rows[i]
			return []string{r.Name, r.Phone, r.Role, r.UnitCode, r.Code, r.Link}
		})
	})
}

// runToken is `zhibu token create|list|revoke` (SPEC §5.1, §7.5).
func runToken(ctx context.Context, env Env, args []string) error {
	const usage = "usage: zhibu token create --unit CODE --role ROLE [--expires 30d|2027-01-31] | list [--unit CODE] | revoke ID"
	f := newFlags("token", env)
	unit := f.String("unit", "", "unit code the token is scoped to (its subtree); for list, only tokens of this subtree")
	role := f.String("role", "", "role the token acts as: "+strings.Join(domain.Roles, ", "))
	expires := f.String("expires", "", "create: a lifetime (30d, 12h) or the last day it works (2027-01-31); default never")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef(usage)
	}
	var id int64
	return runVerb(ctx, f, pos[0], usage, map[string]verb{
		"create": {
			check: func() error {
				if len(pos) != 1 {
					return usagef("usage: zhibu token create --unit CODE --role ROLE [--expires 30d|2027-01-31]")
				}
				if *unit == "" || *role == "" {
					return usagef("--unit and --role are required")
				}
				return nil
			},
			run: func(a *app.App) error {
				token, err := accounts.Of(a).CreateToken(ctx, domain.Operator, accounts.TokenRequest{UnitCode: *unit, Role: *role, Expires: *expires})
				if err != nil {
					return err
				}
				fmt.Fprintln(env.Stdout, token)
				return nil
			},
		},
		"list": {
			check: usageUnless(len(pos) != 1 || *role != "" || *expires != "", "usage: zhibu token list [--unit CODE]"),
			run: func(a *app.App) error {
				ts, err := accounts.Of(a).ListTokens(ctx, domain.Operator, *unit)
				if err != nil {
					return err
				}
				at := func(t *time.Time) string {
					if t == nil {
						return ""
					}
					return t.In(a.Loc).Format(time.RFC3339)
				}
				return writeList(env.Stdout, []string{"id", "unit", "role", "created_at", "expires_at", "last_used_at"}, len(ts),
					func(i int) []string {
						t := ts[i]
						return []string{strconv.FormatInt(t.ID, 10), t.UnitCode, t.Role, at(&t.CreatedAt), at(t.ExpiresAt), at(t.LastUsedAt)}
					})
			},
		},
		"revoke": {
			check: func() error {
				if len(pos) != 2 || *unit != "" || *role != "" || *expires != "" {
					return usagef("usage: zhibu token revoke ID")
				}
				id, err = parseID("token", pos[1], " (see zhibu token list)")
				return err
			},
			run: func(a *app.App) error {
				live, err := accounts.Of(a).RevokeToken(ctx, domain.Operator, id)
				if err != nil {
					return err
				}
				if live {
					fmt.Fprintf(env.Stdout, "token %d revoked\n", id)
				} else {
					fmt.Fprintf(env.Stdout, "token %d was already revoked\n", id)
				}
				return nil
			},
		},
	})
}

// importerNames lists `zhibu import`'s kinds in order.
func importerNames() []string { return slices.Sorted(maps.Keys(importers)) }
