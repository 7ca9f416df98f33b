// Package testdb gives each test a fresh PostgreSQL database cloned from a
// template migrated once per migration set (pgtestdb). Tests talk to a real
// server; when it cannot be reached they fail with a clear message.
//
// The server is 127.0.0.1:5432, user postgres, trust auth, unless
// ZHIBUTEST_PG_HOST / ZHIBUTEST_PG_PORT / ZHIBUTEST_PG_USER say otherwise.
//
// Every test database is dropped at the test's cleanup, whether the test
// passed or failed; ZHIBU_KEEP_TESTDB=1 keeps a failed test's database for
// inspection (its URL is in the test's log). The first test of each process
// also drops instance databases that died with their test process (a
// timeout, ^C) before their cleanup could run: see sweepStale.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
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

// KeepEnv names the environment variable that keeps failed tests' databases.
const KeepEnv = "ZHIBU_KEEP_TESTDB"

func keepFailed() bool { return os.Getenv(KeepEnv) == "1" }

// dropAlways is the test as pgtestdb sees it. pgtestdb keeps the database of
// a failed test; dropAlways reports the test as passed (unless KeepEnv is
// set) so that pgtestdb's cleanup drops the database either way.
type dropAlways struct{ testing.TB }

func (d dropAlways) Failed() bool {
	if !d.TB.Failed() {
		return false
	}
	if keepFailed() {
		d.TB.Logf("testdb: %s=1: the database is kept for inspection", KeepEnv)
		return true
	}
	return false
}

// instancePattern matches pgtestdb's instance databases
// (testdb_tpl_<hash>_inst_<id>), never its templates (testdb_tpl_<hash>).
const instancePattern = `testdb\_tpl\_%\_inst\_%`

// staleAfter is the age past which an instance database nobody is connected
// to belongs to no live test process: longer than a whole run (`make test`
// stops at 20 minutes), so that a database another package's test has just
// created, and not yet connected to, is never taken.
const staleAfter = 30 * time.Minute

var sweepOnce sync.Once

// sweepStale drops the instance databases matching pattern that are older
// than age and have no session. Only instances, only idle ones, and without
// FORCE: a database someone connects to meanwhile refuses the DROP and stays.
// The age is that of the database's PG_VERSION file, written when it was
// created. It returns the databases it dropped.
func sweepStale(ctx context.Context, db *sql.DB, pattern string, age time.Duration) ([]string, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT d.datname FROM pg_database d
		WHERE d.datname LIKE $1 AND NOT d.datistemplate
		  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)
		  AND now() - (pg_stat_file('base/' || d.oid || '/PG_VERSION', true)).modification > make_interval(secs => $2)
		ORDER BY d.datname`, pattern, age.Seconds())
	if err != nil {
		return nil, fmt.Errorf("testdb: list stale databases: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var dropped []string
	for _, n := range names {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS "%s"`, n)); err == nil {
			dropped = append(dropped, n)
		}
	}
	return dropped, nil
}

// check fails the test at once, with a hint, when PostgreSQL is down; the
// first call of the process sweeps stale instance databases.
func check(t testing.TB) {
	t.Helper()
	c := config()
	db, err := sql.Open("postgres", c.URL())
	if err == nil {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = db.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("testdb: PostgreSQL at %s:%s is not reachable (%v); start it with `make db` or .ci/run", c.Host, c.Port, err)
	}
	if keepFailed() {
		return // the kept databases are someone's to inspect
	}
	sweepOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if dropped, err := sweepStale(ctx, db, instancePattern, staleAfter); err != nil {
			t.Logf("%v", err)
		} else if len(dropped) > 0 {
			t.Logf("testdb: dropped %d stale test databases", len(dropped))
		}
	})
}

// URL creates a fresh migrated database and returns its connection URL.
func URL(t testing.TB) string {
	t.Helper()
	check(t)
	return pgtestdb.Custom(dropAlways{t}, config(), migrator()).URL()
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
	return pgtestdb.Custom(dropAlways{t}, config(), pgtestdb.NoopMigrator{}).URL()
}
