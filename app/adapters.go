package app

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/storage"
)

// What the adapters (bot, handlers, scheduler, cli) need of storage reaches
// them through here, so that they import app and domain, never storage
// (TestAdaptersDoNotImportStorage).

// Store is the database handle the composition root holds and passes on.
type Store = storage.Store

// The update log as the bot's ingest and router write it (Inbox).
type (
	NewUpdate     = storage.NewUpdate
	StoredUpdate  = storage.StoredUpdate
	PendingUpdate = storage.PendingUpdate
	Outcome       = storage.Outcome
)

// IsBadData reports an error the database raised for the data itself, which
// retrying the same batch cannot cure.
func IsBadData(err error) bool { return storage.IsBadData(err) }

// IsUnavailable reports an error of a database that could not be reached.
func IsUnavailable(err error) bool { return storage.IsUnavailable(err) }

// Village points as the bot shows them.
type Claim = storage.Claim

// ClaimApproved is the status of an approved claim.
const ClaimApproved = storage.ClaimApproved

// Ledger entry kinds.
const (
	EntryAward      = storage.EntryAward
	EntryDeduction  = storage.EntryDeduction
	EntryVeto       = storage.EntryVeto
	EntryRedemption = storage.EntryRedemption
	EntryReversal   = storage.EntryReversal
)

// ConnOptions are the database.* bounds on every connection.
func ConnOptions(cfg config.Config) storage.ConnOptions {
	d := cfg.Database
	return storage.ConnOptions{MaxOpen: d.MaxOpenConns, ConnectTimeout: time.Duration(d.ConnectTimeout),
		StatementTimeout: time.Duration(d.StatementTimeout), TCPUserTimeout: time.Duration(d.TCPUserTimeout), KeepAlive: time.Duration(d.TCPKeepalive)}
}

// OpenDatabase connects with cfg's bounds and migrates to the newest schema;
// the caller closes the Store.
func OpenDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*Store, error) {
	store, err := storage.OpenWith(ctx, cfg.Database.URL, ConnOptions(cfg))
	if err != nil {
		return nil, err
	}
	if err := storage.Migrate(ctx, store.DB().DB, log); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// SQLDB is the database/sql pool under store, for what takes one: the
// leader's elector (its advisory lock) and the pool's metrics.
func SQLDB(store *Store) *sql.DB { return store.DB().DB }

// EnsureDatabase creates the database of dsn when it does not exist (sandbox).
func EnsureDatabase(ctx context.Context, dsn string) error { return storage.EnsureDatabase(ctx, dsn) }

// ListenConn is the URL and dialer of a LISTEN connection with the pool's bounds.
func ListenConn(cfg config.Config) (string, *storage.Dialer) {
	co := ConnOptions(cfg)
	return storage.ConnURL(cfg.Database.URL, co), storage.NewDialer(co)
}

// PendingTextKey is the dedupe key of a free-text reading's card.
func PendingTextKey(id int64) string { return storage.PendingTextKey(id) }
