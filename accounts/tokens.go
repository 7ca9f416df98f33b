package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// API tokens and dashboard sessions (SPEC §5, §7.5). Tokens are made,
// listed and revoked by the operator's CLI only; the API and the dashboard
// authenticate with them. A token is stored hashed; a dashboard session is
// a random id of its own (the cookie), stored hashed too, that lives at
// most DashSessionLifetime and never beyond its token.

// DashSessionLifetime is how long a dashboard login lasts at most.
const DashSessionLifetime = 7 * 24 * time.Hour

var (
	// ErrTokenExpired is a token past its expiry. It wraps ErrNotFound:
	// whoever refuses unknown tokens refuses it too.
	ErrTokenExpired = fmt.Errorf("api token expired: %w", domain.ErrNotFound)
	// ErrNoDashboard is a token whose role may not see the dashboard.
	ErrNoDashboard = domain.Refuse(domain.ErrForbidden, "%s", acct.T("token.refuse.no_dashboard"))
)

// TokenRequest is `zhibu token create`.
type TokenRequest struct {
	UnitCode string
	Role     string
	Expires  string // see domain.ParseTokenExpiry; "" never expires
}

func operatorOnly(actor domain.Actor) error {
	if !actor.IsOperator() {
		return domain.Refuse(domain.ErrForbidden, "%s", acct.T("token.refuse.operator_only"))
	}
	return nil
}

func roleList() string {
	var b strings.Builder
	for i, r := range domain.Roles {
		if i > 0 {
			b.WriteString("、")
		}
		b.WriteString(r + "（" + domain.RoleNames[r] + "）")
	}
	return b.String()
}

// CreateToken creates an API token scoped to a unit subtree and a role; the
// token is returned once and stored hashed. Only the operator may.
func (a Service) CreateToken(ctx context.Context, actor domain.Actor, req TokenRequest) (string, error) {
	if err := operatorOnly(actor); err != nil {
		return "", err
	}
	if !domain.ValidRole(req.Role) {
		return "", domain.Refuse(domain.ErrInvalid, "%s", acct.T("token.refuse.no_role", "role", req.Role, "roles", roleList()))
	}
	now := a.Now()
	expires, err := domain.ParseTokenExpiry(req.Expires, now, a.Loc)
	if err != nil {
		return "", err
	}
	u, err := a.db().UnitByCode(ctx, req.UnitCode)
	if errors.Is(err, domain.ErrNotFound) {
		return "", domain.UnitNotFound(req.UnitCode)
	}
	if err != nil {
		return "", err
	}
	secret, err := randomCode(32)
	if err != nil {
		return "", err
	}
	token := "zb_" + secret
	details := map[string]any{"unit": req.UnitCode, "role": req.Role}
	if expires != nil {
		details["expires_at"] = expires.UTC().Format(time.RFC3339)
	}
	err = a.InTx(ctx, func(a *app.App) error {
		id, err := Of(a).db().CreateToken(ctx, Hash(token), u.ID, req.Role, now, expires)
		if err != nil {
			return err
		}
		return a.Audit(ctx, actor, "token.create", tokenSubject(id), true, details)
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

func tokenSubject(id int64) string { return "token:" + strconv.FormatInt(id, 10) }

// ListTokens lists the live and expired (not revoked) tokens of unitCode's
// subtree ("" = all). Only the operator may; no secret is ever shown.
func (a Service) ListTokens(ctx context.Context, actor domain.Actor, unitCode string) ([]storage.TokenRow, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	var root int64
	if unitCode != "" {
		u, err := a.db().UnitByCode(ctx, unitCode)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.UnitNotFound(unitCode)
		}
		if err != nil {
			return nil, err
		}
		root = u.ID
	}
	return a.db().Tokens(ctx, root)
}

// RevokeToken revokes a token at once: the API refuses it from the next
// request on and its dashboard sessions end. It reports false when the
// token had been revoked already. Only the operator may.
func (a Service) RevokeToken(ctx context.Context, actor domain.Actor, id int64) (bool, error) {
	if err := operatorOnly(actor); err != nil {
		return false, err
	}
	var live bool
	err := a.InTx(ctx, func(a *app.App) error {
		var err error
		live, err = Of(a).db().RevokeToken(ctx, id, a.Now())
		if errors.Is(err, domain.ErrNotFound) {
			return domain.Refuse(domain.ErrNotFound, "%s", acct.T("token.refuse.no_such", "id", strconv.FormatInt(id, 10)))
		}
		if err != nil || !live {
			return err
		}
		return a.Audit(ctx, actor, "token.revoke", tokenSubject(id), true, nil)
	})
	return live, err
}

// ActorByToken authenticates an API token: ErrNotFound when it is unknown
// or revoked, ErrTokenExpired when it has expired.
func (a Service) ActorByToken(ctx context.Context, token string) (domain.Actor, error) {
	t, err := a.db().TokenByHash(ctx, Hash(token), a.Now())
	if err != nil {
		return domain.Actor{}, err
	}
	if t.Expired(a.Now()) {
		return domain.Actor{}, ErrTokenExpired
	}
	return a.tokenActor(ctx, t)
}

func (a Service) tokenActor(ctx context.Context, t storage.APIToken) (domain.Actor, error) {
	u, err := a.db().UnitByID(ctx, t.UnitID)
	if err != nil {
		return domain.Actor{}, err
	}
	return domain.Actor{Label: "api:" + strconv.FormatInt(t.ID, 10),
		Roles: []domain.Role{{Role: t.Role, UnitID: u.ID, UnitCode: u.Code, UnitName: u.Name, UnitKind: u.Kind}}}, nil
}

// DashSession is a dashboard login: the id for the cookie (shown once,
// stored hashed) and when it ends.
type DashSession struct {
	ID      string
	Expires time.Time
	Actor   domain.Actor
}

// DashboardLogin opens a dashboard session with an API token of a role
// that may see the dashboard (organiser or admin): ErrNotFound for an
// unknown or revoked token, ErrTokenExpired, ErrNoDashboard (audited).
// The session ends after DashSessionLifetime or when the token expires,
// whichever comes first.
func (a Service) DashboardLogin(ctx context.Context, token string) (DashSession, error) {
	now := a.Now()
	t, err := a.db().TokenByHash(ctx, Hash(token), now)
	if err != nil {
		return DashSession{}, err
	}
	if t.Expired(now) {
		return DashSession{}, ErrTokenExpired
	}
	actor, err := a.tokenActor(ctx, t)
	if err != nil {
		return DashSession{}, err
	}
	if !app.MayViewDashboard(actor) {
		return DashSession{}, a.Refused(ctx, actor, "dashboard.login", tokenSubject(t.ID), ErrNoDashboard)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return DashSession{}, fmt.Errorf("app: session id: %w", err)
	}
	s := DashSession{ID: base64.RawURLEncoding.EncodeToString(raw), Expires: now.Add(DashSessionLifetime), Actor: actor}
	if t.ExpiresAt != nil && t.ExpiresAt.Before(s.Expires) {
		s.Expires = *t.ExpiresAt
	}
	err = a.InTx(ctx, func(a *app.App) error {
		if _, err := Of(a).db().CreateSession(ctx, Hash(s.ID), t.ID, now, s.Expires); err != nil {
			return err
		}
		return a.Audit(ctx, actor, "dashboard.login", tokenSubject(t.ID), true, nil)
	})
	if err != nil {
		return DashSession{}, err
	}
	return s, nil
}

// DashboardActor resolves a session id from the cookie: ErrNotFound when
// the session is unknown, ended or expired, or its token is revoked or
// expired (a dead session's row is deleted on the way); ErrNoDashboard,
// not audited, when its actor may not see the dashboard, so that no door
// serves a session DashboardLogin would not have opened.
func (a Service) DashboardActor(ctx context.Context, sessionID string) (domain.Actor, error) {
	if sessionID == "" {
		return domain.Actor{}, fmt.Errorf("app: no session: %w", domain.ErrNotFound)
	}
	s, err := a.db().SessionByHash(ctx, Hash(sessionID), a.Now())
	if errors.Is(err, domain.ErrNotFound) {
		if derr := a.db().DeleteSession(ctx, Hash(sessionID)); derr != nil {
			return domain.Actor{}, derr
		}
		return domain.Actor{}, err
	}
	if err != nil {
		return domain.Actor{}, err
	}
	actor, err := a.tokenActor(ctx, s.Token)
	if err != nil {
		return domain.Actor{}, err
	}
	if !app.MayViewDashboard(actor) {
		return domain.Actor{}, ErrNoDashboard
	}
	return actor, nil
}

// DashboardLogout ends a session; ending one that is gone is no error.
func (a Service) DashboardLogout(ctx context.Context, sessionID string) error {
	if sessionID == "" {
		return nil
	}
	return a.db().DeleteSession(ctx, Hash(sessionID))
}
