// Package testdb gives each test a fresh PostgreSQL database cloned from a
// template migrated once per migration set (pgtestdb). Tests talk to a real
// server; when it cannot be reached they fail with a clear message.
//
// The server is 127.0.0.1:5432, user postgres, trust auth, unless
// ZHIBUTEST_PG_HOST / ZHIBUTEST_PG_PORT / ZHIBUTEST_PG_USER say otherwise.
package testdb

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // driver
	"github.com/peterldowns/pgtestdb"
	"github.com/peterldowns/pgtestdb/migrators/goosemigrator"

	"github.com/zhibu/zhibu/storage"
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func config() pgtestdb.Config {
	return pgtestdb.Config{
		DriverName:                "postgres",
		Host:                      env("ZHIBUTEST_PG_HOST", "127.0.0.1"),
		Port:                      env("ZHIBUTEST_PG_PORT", "5432"),
		User:                      env("ZHIBUTEST_PG_USER", "postgres"),
		Database:                  "postgres",
		Options:                   "sslmode=disable",
		ForceTerminateConnections: true,
	}
}

func migrator() pgtestdb.Migrator {
	return goosemigrator.New(storage.MigrationsDir, goosemigrator.WithFS(storage.Migrations))
}

// check fails the test at once, with a hint, when PostgreSQL is down.
func check(t testing.TB) {
	t.Helper()
	c := config()
	db, err := sql.Open("postgres", c.URL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = db.PingContext(ctx)
		db.Close()
	}
	if err != nil {
		t.Fatalf("testdb: PostgreSQL at %s:%s is not reachable (%v); start it with `make db` or .ci/run", c.Host, c.Port, err)
	}
}

// URL creates a fresh migrated database and returns its connection URL.
func URL(t testing.TB) string {
	t.Helper()
	check(t)
	return pgtestdb.Custom(t, config(), migrator()).URL()
}

// New returns a Store over a fresh migrated database.
func New(t testing.TB) *storage.Store {
	t.Helper()
	db, err := sqlx.Open("postgres", storage.DriverURL(URL(t)))
	if err != nil {
		t.Fatalf("testdb: open: %v", err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() { db.Close() })
	return storage.New(db)
}

// EmptyURL creates a fresh database with no migrations applied.
func EmptyURL(t testing.TB) string {
	t.Helper()
	check(t)
	return pgtestdb.Custom(t, config(), pgtestdb.NoopMigrator{}).URL()
}
