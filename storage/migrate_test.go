package storage_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// Two processes starting at once both migrate: the session lock makes one
// wait for the other, and both end on the same, complete schema.
func TestConcurrentMigrate(t *testing.T) {
	url := testdb.EmptyURL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		db, err := sqlx.Open("postgres", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = storage.Migrate(ctx, db.DB, slog.New(slog.DiscardHandler))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrator %d: %v", i, err)
		}
	}
	db, _ := sqlx.Open("postgres", url)
	defer db.Close()
	var applied, files int
	if err := db.Get(&applied, `SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`); err != nil {
		t.Fatal(err)
	}
	entries, _ := storage.Migrations.ReadDir(storage.MigrationsDir)
	files = len(entries)
	if applied != files {
		t.Fatalf("%d migrations applied, %d files", applied, files)
	}
}
