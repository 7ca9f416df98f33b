package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/storage"
)

func runMigrate(ctx context.Context, env Env, args []string) error {
	f := newFlags("migrate", env)
	if _, err := f.parse(args); err != nil {
		return err
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	store, err := storage.OpenWith(ctx, cfg.Database.URL, connOptions(cfg))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := storage.Migrate(ctx, store.DB().DB, newLogger(cfg, env.Stderr)); err != nil {
		return err
	}
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
		return usagef("usage: zhibu import units|people|catalog FILE")
	}
	imp, ok := importers[pos[0]]
	if !ok {
		return usagef("cannot import %q: use units, people or catalog", pos[0])
	}
	t, err := tabular.ReadFile(pos[1])
	if err != nil {
		return err
	}
	a, done, err := openApp(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	res, err := imp(a, ctx, t)
	if err != nil {
		return err
	}
	a.Log.Info("import done", slog.String("what", pos[0]), slog.String("file", t.File), slog.Int("rows", res.Rows))
	fmt.Fprintln(env.Stdout, res.String())
	return nil
}

func runInvite(ctx context.Context, env Env, args []string) error {
	f := newFlags("invite", env)
	unit := f.String("unit", "", "only people in this unit's subtree")
	if _, err := f.parse(args); err != nil {
		return err
	}
	a, done, err := openApp(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	username, err := botUsername(ctx, a.Cfg)
	if err != nil {
		return err
	}
	var rows []app.InviteRow
	err = a.InTx(ctx, func(a *app.App) error {
		var err error
		rows, err = a.Invite(ctx, *unit, username)
		return err
	})
	if err != nil {
		return err
	}
	w := csv.NewWriter(env.Stdout)
	_ = w.Write([]string{"name", "phone", "role", "unit_code", "code", "link"})
	for _, r := range rows {
		_ = w.Write([]string{r.Name, r.Phone, r.Role, r.UnitCode, r.Code, r.Link})
	}
	w.Flush()
	return w.Error()
}

func runToken(ctx context.Context, env Env, args []string) error {
	f := newFlags("token", env)
	unit := f.String("unit", "", "unit code the token is scoped to (its subtree)")
	role := f.String("role", "", "role the token acts as")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "create" {
		return usagef("usage: zhibu token create --unit CODE --role ROLE")
	}
	if *unit == "" || *role == "" {
		return usagef("--unit and --role are required")
	}
	a, done, err := openApp(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	token, err := a.CreateToken(ctx, *unit, *role)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, token)
	return nil
}
