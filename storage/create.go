package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lib/pq"
)

// EnsureDatabase creates the database named in a postgres:// URL when it
// does not exist (used by the sandbox so that `make run` works on a fresh
// machine). It connects to the server's "postgres" database to do so.
func EnsureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil // key=value DSNs: leave creation to the operator
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return nil
	}
	admin := *u
	admin.Path = "/postgres"
	db, err := sql.Open("postgres", admin.String())
	if err != nil {
		return fmt.Errorf("storage: ensure database: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("storage: ensure database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil && !isUnique(err) {
		var pe *pq.Error
		if !(errors.As(err, &pe) && pe.Code == "42P04") { // duplicate_database: created meanwhile
			return fmt.Errorf("storage: create database %s: %w", name, err)
		}
	}
	return nil
}
