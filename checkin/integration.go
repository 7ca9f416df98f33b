package checkin

// Inbound integrations (SPEC §5 "Integrations"): another platform posts
// check-ins to POST /api/v1/integrations/checkins, signed per Standard
// Webhooks with the secret it got from `zhibu integration create`.
//
// Rules, in order:
//
//  1. The request must carry webhook-id (1–256 printable ASCII characters),
//     webhook-timestamp and webhook-signature, else it is not authenticated.
//  2. Its timestamp must lie within webhooks.tolerance of now (either way),
//     else it is refused as stale: a captured request cannot be replayed
//     later.
//  3. Its signature must verify with the secret of an active integration,
//     which identifies the integration (secrets are random; each active
//     integration's secret is tried in turn).
//  4. A webhook-id the integration already used within the tolerance window
//     is a replay: it is answered as a duplicate, with the check-in it
//     created, and nothing is processed again. (Senders keep the id on
//     retries, so a retry after a lost answer is acknowledged, not refused.)
//  5. An external_id the integration already used, at any time, is likewise
//     a duplicate of the check-in it created.
//  6. The check-in goes through RecordCheckin as the integration's actor
//     ("integration:<name>", holding its role in its unit): every check-in
//     rule applies and every refusal comes back in Chinese. A refused
//     request leaves its id and external id unused.
//
// Ids and the check-in are written in one transaction, so two copies of a
// request arriving at once record one check-in.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/integrations"
	"github.com/zhibu/zhibu/storage"
)

// IntegrationRoles are the roles an integration may act as.
var IntegrationRoles = []string{domain.RoleAdmin, domain.RoleSecretary}

// maxMessageID bounds a webhook-id.
const maxMessageID = 256

// AuthError is a request that is not authenticated; Reason says why
// (English, for the integrator's developer).
type AuthError struct{ Reason string }

func (e *AuthError) Error() string { return "integration: " + e.Reason }

// CreateIntegration registers an inbound integration (operator only) and
// returns it with its secret, shown this once.
func (a Service) CreateIntegration(ctx context.Context, actor domain.Actor, name, unitCode, role string) (storage.Integration, string, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ManageIntegrations, "integration.create"); err != nil {
		return storage.Integration{}, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\n/") {
		return storage.Integration{}, "", fmt.Errorf("--name %q: 1 to 64 characters without spaces or '/'", name)
	}
	if role == "" {
		role = domain.RoleAdmin
	}
	if !slices.Contains(IntegrationRoles, role) {
		return storage.Integration{}, "", fmt.Errorf("--role %q: use admin (the unit's subtree) or secretary (one branch)", role)
	}
	u, err := a.db().UnitByCode(ctx, unitCode)
	if err != nil {
		return storage.Integration{}, "", err
	}
	if role == domain.RoleSecretary && !u.IsBranch() {
		return storage.Integration{}, "", fmt.Errorf("--role secretary needs a branch, and %s is a %s", u.Code, u.Kind)
	}
	secret, err := integrations.NewWebhookSecret()
	if err != nil {
		return storage.Integration{}, "", err
	}
	var in storage.Integration
	err = a.InTx(ctx, func(a *app.App) error {
		var err error
		if in, err = Of(a).db().CreateIntegration(ctx, name, secret, u.ID, role); err != nil {
			return err
		}
		return a.Audit(ctx, actor, "integration.create", "integration:"+name, true, map[string]any{"unit": u.Code, "role": role})
	})
	return in, secret, err
}

// ListIntegrations lists every integration (operator only).
func (a Service) ListIntegrations(ctx context.Context, actor domain.Actor) ([]storage.Integration, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ManageIntegrations, "integration.list"); err != nil {
		return nil, err
	}
	return a.db().Integrations(ctx)
}

// SetIntegrationActive turns an integration on or off (operator only).
func (a Service) SetIntegrationActive(ctx context.Context, actor domain.Actor, name string, active bool) error {
	return a.SetActive(ctx, actor, access.ManageIntegrations, "integration.active", "integration:"+name, active, func(a *app.App) error {
		return Of(a).db().SetIntegrationActive(ctx, name, active)
	})
}

// AuthenticateIntegration applies rules 1–3 to a request's headers and
// body and returns the integration that signed it, or an *AuthError.
func (a Service) AuthenticateIntegration(ctx context.Context, h http.Header, body []byte) (storage.Integration, error) {
	id := h.Get(standardwebhooks.HeaderWebhookID)
	ts := h.Get(standardwebhooks.HeaderWebhookTimestamp)
	sig := h.Get(standardwebhooks.HeaderWebhookSignature)
	if id == "" || ts == "" || sig == "" {
		return storage.Integration{}, &AuthError{"missing webhook-id, webhook-timestamp or webhook-signature header"}
	}
	if len(id) > maxMessageID || strings.IndexFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return storage.Integration{}, &AuthError{"webhook-id must be 1 to 256 printable ASCII characters"}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return storage.Integration{}, &AuthError{"webhook-timestamp is not Unix seconds"}
	}
	tol := a.Cfg.Webhooks.Tolerance.D()
	if d := a.Now().Sub(time.Unix(secs, 0)); d > tol || d < -tol {
		return storage.Integration{}, &AuthError{fmt.Sprintf("webhook-timestamp is more than %s away from the server's time", tol)}
	}
	ins, err := a.db().ActiveIntegrations(ctx)
	if err != nil {
		return storage.Integration{}, err
	}
	for _, in := range ins {
		wh, err := standardwebhooks.NewWebhook(in.Secret)
		if err != nil {
			a.Log.Error("integration: stored secret is not base64", slog.String("integration", in.Name))
			continue
		}
		if wh.VerifyIgnoringTimestamp(body, h) == nil {
			return in, nil
		}
	}
	return storage.Integration{}, &AuthError{"signature does not match any active integration"}
}

// IntegrationActor is the actor an integration acts as.
func IntegrationActor(in storage.Integration) domain.Actor {
	return domain.Actor{Label: "integration:" + in.Name, Roles: []domain.Role{{
		Role: in.Role, UnitID: in.UnitID, UnitCode: in.UnitCode, UnitName: in.UnitName, UnitKind: in.UnitKind}}}
}

// IntegrationCheckinResult is what became of an integration's check-in.
type IntegrationCheckinResult struct {
	Duplicate bool  // a replay or a repeated external id: nothing recorded
	CheckinID int64 // the check-in recorded now, or by the original request
	Result    Result
}

// maxExternalID bounds an external id.
const maxExternalID = 128

// RecordIntegrationCheckin applies rules 4–6 (see the top of this file) to
// a check-in that in sent with webhook-id msgID.
func (a Service) RecordIntegrationCheckin(ctx context.Context, in storage.Integration, msgID, externalID string, req Request) (IntegrationCheckinResult, error) {
	var out IntegrationCheckinResult
	if len(externalID) > maxExternalID {
		return out, domain.Refuse(domain.ErrInvalid, "%s", api.T("checkin.refuse.external_id_long", "max", strconv.Itoa(maxExternalID)))
	}
	actor := IntegrationActor(in)
	req.Source = "integration:" + in.Name
	req.ChatID, req.InGroup, req.MessageID, req.BranchID = 0, false, 0, 0
	now := a.Now()
	if err := a.db().ForgetIntegrationMessages(ctx, now.Add(-2*a.Cfg.Webhooks.Tolerance.D())); err != nil {
		return out, err
	}
	// Noted outside the transaction: a row lock on the integration would
	// serialise its concurrent requests.
	if err := a.db().TouchIntegration(ctx, in.ID, now); err != nil {
		return out, err
	}
	// A refusal (audited) undoes the claims of the ids with the rest: they
	// stay free for a corrected request.
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		fresh, prior, err := Of(a).db().ClaimIntegrationMessage(ctx, in.ID, msgID, now)
		if err != nil {
			return err
		}
		if !fresh {
			out = IntegrationCheckinResult{Duplicate: true, CheckinID: prior}
			return nil
		}
		if externalID != "" {
			fresh, prior, err := Of(a).db().ClaimExternalID(ctx, in.ID, externalID, now)
			if err != nil {
				return err
			}
			if !fresh {
				out = IntegrationCheckinResult{Duplicate: true, CheckinID: prior}
				return Of(a).db().LinkIntegrationCheckin(ctx, in.ID, msgID, "", prior)
			}
		}
		res, err := Of(a).RecordCheckin(ctx, actor, req)
		if err != nil {
			return err
		}
		out = IntegrationCheckinResult{CheckinID: res.Checkin.ID, Result: res}
		return Of(a).db().LinkIntegrationCheckin(ctx, in.ID, msgID, externalID, res.Checkin.ID)
	})
	var choose *app.ErrChooseBranch
	if errors.As(err, &choose) {
		return IntegrationCheckinResult{}, domain.Refuse(domain.ErrInvalid, "%s", api.T("checkin.refuse.no_branch"))
	}
	if err != nil {
		return IntegrationCheckinResult{}, err
	}
	return out, nil
}
