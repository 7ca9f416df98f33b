package testdb

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

func TestProxyBlackholeIsSilentAndHeals(t *testing.T) {
	p, via := NewProxy(t, URL(t))
	db, err := sql.Open("postgres", via)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	done := make(chan error, 1)
	go func() {
		var one int
		done <- db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
	}()
	select {
	case err := <-done:
		t.Fatalf("a query through a blackhole returned: %v", err)
	case <-time.After(time.Second):
	}
	// Heal closes the silent connection: the query returns (database/sql
	// may retry it on a new connection) and the next one works.
	p.Heal()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the query still hangs after Heal")
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}
