package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func tokenUnits(t *testing.T, s *storage.Store, at time.Time) (county, township int64) {
	t.Helper()
	rows := []storage.UnitRow{
		{Code: "QA", Name: "乾安县", Kind: "county"},
		{Code: "QA-RZ", Name: "让字镇", Kind: "township", ParentCode: "QA"},
		{Code: "QA-DB", Name: "大布苏镇", Kind: "township", ParentCode: "QA"},
	}
	ids := importUnits(t, s, at, rows)
	return ids["QA"], ids["QA-RZ"]
}

func TestTokensExpireListAndRevoke(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	now := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	county, rz := tokenUnits(t, s, now)
	soon := now.Add(time.Hour)
	a, err := s.CreateToken(ctx, []byte("hash-a"), rz, "admin", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateToken(ctx, []byte("hash-b"), county, "organiser", now, &soon)
	if err != nil {
		t.Fatal(err)
	}

	// Use is noted at the given instant; an expired token is found (so
	// that the caller can say it expired) but its use is not noted.
	tok, err := s.TokenByHash(ctx, []byte("hash-b"), now.Add(time.Minute))
	if err != nil || tok.ID != b || tok.Expired(now.Add(time.Minute)) || !tok.Expired(soon) {
		t.Fatalf("token b: %+v %v", tok, err)
	}
	if tok, err = s.TokenByHash(ctx, []byte("hash-b"), soon.Add(time.Minute)); err != nil || !tok.Expired(soon.Add(time.Minute)) {
		t.Fatalf("expired token b: %+v %v", tok, err)
	}
	rows, err := s.Tokens(ctx, 0)
	if err != nil || len(rows) != 2 {
		t.Fatalf("tokens: %+v %v", rows, err)
	}
	if r := rows[1]; r.ID != b || r.UnitCode != "QA" || r.Role != "organiser" || !r.CreatedAt.Equal(now) || r.ExpiresAt == nil ||
		!r.ExpiresAt.Equal(soon) || r.LastUsedAt == nil || !r.LastUsedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("row b %+v", r)
	}
	if rows[0].ID != a || rows[0].LastUsedAt != nil || rows[0].ExpiresAt != nil {
		t.Fatalf("row a %+v", rows[0])
	}
	if rows, err = s.Tokens(ctx, rz); err != nil || len(rows) != 1 || rows[0].ID != a {
		t.Fatalf("tokens of QA-RZ: %+v %v", rows, err)
	}

	// Revoking: once, then "already"; unknown ids are not found; a revoked
	// token is neither found nor listed.
	if live, err := s.RevokeToken(ctx, a, now); err != nil || !live {
		t.Fatalf("revoke a: %v %v", live, err)
	}
	if live, err := s.RevokeToken(ctx, a, now); err != nil || live {
		t.Fatalf("revoke a again: %v %v", live, err)
	}
	if _, err := s.RevokeToken(ctx, 999999, now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if _, err := s.TokenByHash(ctx, []byte("hash-a"), now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("revoked token found: %v", err)
	}
	if rows, err = s.Tokens(ctx, 0); err != nil || len(rows) != 1 || rows[0].ID != b {
		t.Fatalf("tokens after revoke: %+v %v", rows, err)
	}
}

func TestDashboardSessionsEndWithTheirToken(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	now := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	_, rz := tokenUnits(t, s, now)
	tokEnd := now.Add(48 * time.Hour)
	tok, err := s.CreateToken(ctx, []byte("tok"), rz, "organiser", now, &tokEnd)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateToken(ctx, []byte("other"), rz, "admin", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, []byte("s1"), tok, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, []byte("s2"), tok, now, now.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, []byte("s3"), other, now, now.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, []byte("s1"), other, now, now.Add(time.Hour)); err == nil {
		t.Fatal("two sessions with one id")
	}

	// A live session resolves to its token and notes its use.
	at := now.Add(30 * time.Minute)
	ds, err := s.SessionByHash(ctx, []byte("s1"), at)
	if err != nil || ds.Token.ID != tok || ds.Token.UnitID != rz || ds.Token.Role != "organiser" || ds.Token.ExpiresAt == nil || !ds.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("session s1: %+v %v", ds, err)
	}
	var seen, used time.Time
	_ = s.DB().GetContext(ctx, &seen, `SELECT last_seen_at FROM dashboard_sessions WHERE session_hash = 's1'`)
	_ = s.DB().GetContext(ctx, &used, `SELECT last_used_at FROM api_tokens WHERE id = $1`, tok)
	if !seen.Equal(at) || !used.Equal(at) {
		t.Fatalf("last seen %v, token last used %v; want %v", seen, used, at)
	}
	if _, err := s.SessionByHash(ctx, []byte("nope"), at); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	// The session's own expiry, then the token's, end it.
	if _, err := s.SessionByHash(ctx, []byte("s1"), now.Add(time.Hour)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("s2"), tokEnd.Add(-time.Second)); err != nil {
		t.Fatalf("s2 before its token expires: %v", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("s2"), tokEnd); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("session of an expired token: %v", err)
	}
	// A new session prunes the expired ones.
	if _, err := s.CreateSession(ctx, []byte("s4"), other, now.Add(2*time.Hour), now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SessionCount(ctx, tok); err != nil || n != 1 {
		t.Fatalf("sessions of tok after pruning: %d %v, want s2 only", n, err)
	}
	// Logout deletes one session; revoking deletes all of a token's.
	if err := s.DeleteSession(ctx, []byte("s4")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, []byte("s4")); err != nil {
		t.Fatalf("deleting a deleted session: %v", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("s4"), now.Add(2*time.Hour)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("logged-out session: %v", err)
	}
	if _, err := s.RevokeToken(ctx, other, now); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SessionCount(ctx, other); err != nil || n != 0 {
		t.Fatalf("sessions of a revoked token: %d %v", n, err)
	}
	if n, err := s.SessionCount(ctx, tok); err != nil || n != 1 {
		t.Fatalf("revoking another token ended tok's sessions: %d %v", n, err)
	}
}
