// Package app is the kernel every feature shares: the dependencies of the
// use cases (store, config, zone, clock, log), the one authorisation path
// (access.go), audit, transactions that undo a refusal (tx.go), the update
// log the bot drives (inbox.go), replies, units and the API's views. The use
// cases themselves live in the feature packages (accounts, checkin,
// healthcheck, integrations, villagepoints, dashboard, demo), each a Service
// over *App. A use case runs on the Store it is given, which is a
// transaction when the caller opened one, so that a state change, its
// messages and its audit entry commit together.
package app

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/clock"
	"github.com/zhibu/zhibu/storage"
)

// App carries the dependencies of the use cases.
type App struct {
	Store *storage.Store
	Cfg   config.Config
	Loc   *time.Location
	Now   func() time.Time
	Log   *slog.Logger
	// username is the bot's username, shared with the copies With makes:
	// serve may learn it from getMe after start.
	username *atomic.Pointer[string]
}

// BotUsername returns the bot's username without @, "" while unknown.
func (a *App) BotUsername() string {
	if a.username == nil {
		return ""
	}
	if p := a.username.Load(); p != nil {
		return *p
	}
	return ""
}

// SetBotUsername records the bot's username; safe while the App is in use.
// An App not built by New gets its holder here, before it is shared.
func (a *App) SetBotUsername(name string) {
	if a.username == nil {
		a.username = new(atomic.Pointer[string])
	}
	a.username.Store(&name)
}

// New builds an App; now may be nil for the wall clock.
func New(store *storage.Store, cfg config.Config, now func() time.Time, log *slog.Logger) *App {
	if now == nil {
		now = clock.Real().Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &App{Store: store, Cfg: cfg, Loc: cfg.Location(), Now: now, Log: log, username: new(atomic.Pointer[string])}
}

// With returns a copy of the App working on tx.
func (a *App) With(tx *storage.Store) *App {
	c := *a
	c.Store = tx
	return &c
}

// InTx runs fn with an App bound to one transaction.
func (a *App) InTx(ctx context.Context, fn func(*App) error) error {
	return a.Store.InTx(ctx, func(tx *storage.Store) error { return fn(a.With(tx)) })
}

// Audit records an action; errors here fail the use case, since an action
// that cannot be audited must not happen.
func (a *App) Audit(ctx context.Context, actor domain.Actor, action, subject string, allowed bool, details map[string]any) error {
	return a.Store.Audit(ctx, storage.AuditEntry{ActorID: actor.PersonID, Actor: actor.Label, Action: action, Subject: subject, Allowed: allowed, Details: details})
}

// Refused records a refusal in the audit log and returns the refusal.
func (a *App) Refused(ctx context.Context, actor domain.Actor, action, subject string, refusal error) error {
	if err := a.Audit(ctx, actor, action, subject, false, map[string]any{"reason": refusal.Error()}); err != nil {
		return err
	}
	return refusal
}
