package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// failedTest is a test that has failed: it keeps its cleanups for the test
// to run, as the testing package would at the end of a failed test.
type failedTest struct {
	testing.TB
	cleanups []func()
}

func (f *failedTest) Failed() bool      { return true }
func (f *failedTest) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *failedTest) Fatalf(string, ...any) {
	f.TB.Helper()
	f.TB.Fatal("unexpected Fatalf in a failed test's cleanup")
}

func (f *failedTest) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

func admin(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", config().URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func dbName(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// TestFailedTestDatabaseIsDropped: a failed test's database is dropped at
// its cleanup, unless ZHIBU_KEEP_TESTDB=1.
func TestFailedTestDatabaseIsDropped(t *testing.T) {
	db := admin(t)

	ft := &failedTest{TB: t}
	store := New(ft)
	if _, err := store.DB().Exec(`SELECT 1`); err != nil {
		t.Fatal(err)
	}
	name := dbName(t, URL(ft))
	empty := dbName(t, EmptyURL(ft))
	if !exists(t, db, name) || !exists(t, db, empty) {
		t.Fatal("the test databases were not created")
	}
	ft.cleanup()
	for _, n := range []string{name, empty} {
		if exists(t, db, n) {
			t.Errorf("failed test's database %s is still there after cleanup", n)
		}
	}

	t.Setenv(KeepEnv, "1")
	ft = &failedTest{TB: t}
	kept := dbName(t, URL(ft))
	ft.cleanup()
	if !exists(t, db, kept) {
		t.Fatalf("%s=1: the failed test's database %s was dropped", KeepEnv, kept)
	}
	if _, err := db.Exec(fmt.Sprintf(`DROP DATABASE "%s"`, kept)); err != nil {
		t.Fatal(err)
	}
}

// TestSweepStale: the sweep drops idle instance databases past the age, and
// leaves templates, databases in use and young ones alone. It works on
// databases of its own (a random hash) so that it cannot touch those of
// tests running concurrently in other packages.
func TestSweepStale(t *testing.T) {
	db := admin(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "testdb_tpl_sweep" + hex.EncodeToString(b)
	pattern := strings.ReplaceAll(prefix, "_", `\_`) + `\_inst\_%`
	idle, busy, tpl := prefix+"_inst_idle", prefix+"_inst_busy", prefix+"_inst_tpl"
	for _, n := range []string{idle, busy, tpl} {
		if _, err := db.Exec(fmt.Sprintf(`CREATE DATABASE "%s"`, n)); err != nil {
			t.Fatal(err)
		}
		n := n
		t.Cleanup(func() {
			_, _ = db.Exec(fmt.Sprintf(`UPDATE pg_database SET datistemplate = false WHERE datname = '%s'`, n))
			_, _ = db.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS "%s" WITH (FORCE)`, n))
		})
	}
	if _, err := db.Exec(`UPDATE pg_database SET datistemplate = true WHERE datname = $1`, tpl); err != nil {
		t.Fatal(err)
	}
	c := config()
	c.Database = busy
	conn, err := sql.Open("postgres", c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Ping(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Young: nothing goes.
	dropped, err := sweepStale(ctx, db, pattern, time.Hour)
	if err != nil || len(dropped) != 0 {
		t.Fatalf("sweep of young databases: %v %v", dropped, err)
	}
	// Past the age: only the idle instance goes.
	time.Sleep(1100 * time.Millisecond)
	dropped, err = sweepStale(ctx, db, pattern, time.Second)
	if err != nil || len(dropped) != 1 || dropped[0] != idle {
		t.Fatalf("sweep: dropped %v (%v), want only %s", dropped, err, idle)
	}
	if exists(t, db, idle) || !exists(t, db, busy) || !exists(t, db, tpl) {
		t.Fatal("the sweep took the wrong databases")
	}
}
