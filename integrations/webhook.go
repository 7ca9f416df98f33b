package integrations

// Outbound webhook subscriptions (SPEC §5 "Integrations"). An admin (API
// token or person with the admin role) manages the subscriptions of units
// in their subtree; the operator's CLI manages any. A subscription gets the
// events of its unit's subtree, of the types it names (none: all). Its
// secret is generated here, returned once and never shown again. Package
// webhooks delivers.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/internal/safedial"
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/storage"
)

// api is what the API use cases say (internal/texts/api.yaml).
var api = texts.API

// WebhookEventTypes are the event types a subscription may name.
var WebhookEventTypes = []string{
	"light.changed", "checkin.recorded", "checkin.withdrawn", "checkin.rejected",
	"claim.submitted", "claim.decided", "points.redeemed", "settlement.closed",
}

// maxWebhookURL bounds a subscription URL, in bytes.
const maxWebhookURL = 2048

// WebhookRequest is a subscription to create.
type WebhookRequest struct {
	URL      string   `json:"url"`
	UnitCode string   `json:"unit"`   // "" = the actor's admin unit
	Events   []string `json:"events"` // empty = every type
}

// CreatedWebhook is a new subscription with its secret, shown this once.
type CreatedWebhook struct {
	Subscription storage.WebhookSubscription
	Secret       string
}

var errNotAdmin = domain.Refuse(domain.ErrForbidden, "%s", api.T("webhook.refuse.not_admin"))

// scopeUnit resolves the unit a request names ("" = the actor's only admin
// unit) and checks that the actor administers it.
func (a Service) scopeUnit(ctx context.Context, actor domain.Actor, code string) (domain.Unit, error) {
	if code == "" {
		admins := actor.UnitsWith(domain.RoleAdmin)
		switch {
		case len(admins) == 1:
			return a.db().UnitByID(ctx, admins[0].UnitID)
		case actor.IsOperator() || len(admins) > 1:
			return domain.Unit{}, domain.Refuse(domain.ErrInvalid, "%s", api.T("webhook.refuse.no_unit"))
		default:
			return domain.Unit{}, errNotAdmin
		}
	}
	u, err := a.db().UnitByCode(ctx, code)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Unit{}, domain.UnitNotFound(code)
	}
	if err != nil {
		return domain.Unit{}, err
	}
	ok, err := a.Can(ctx, actor, access.ManageWebhooks, u.ID)
	if err != nil {
		return domain.Unit{}, err
	}
	if !ok {
		return domain.Unit{}, domain.Refuse(domain.ErrForbidden, "%s", api.T("webhook.refuse.forbidden", "unit", u.Name, "code", u.Code))
	}
	return u, nil
}

// checkURL accepts absolute http(s) URLs. Unless
// webhooks.allow_private_targets, it refuses localhost and literal
// loopback, private, link-local and unspecified addresses (SPEC §7.5);
// names are checked again on the resolved address at connect time.
func (a Service) checkURL(raw string) (*url.URL, error) {
	if len(raw) > maxWebhookURL {
		return nil, domain.Refuse(domain.ErrInvalid, "%s", api.T("webhook.refuse.url_long", "max", strconv.Itoa(maxWebhookURL)))
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, domain.Refuse(domain.ErrInvalid, "%s", api.T("webhook.refuse.url_form"))
	}
	if !a.Cfg.Webhooks.AllowPrivateTargets && safedial.CheckHost(u.Hostname()) != nil {
		return nil, domain.Refuse(domain.ErrInvalid, "%s", api.T("webhook.refuse.private", "host", u.Hostname()))
	}
	return u, nil
}

// NewWebhookSecret returns a fresh Standard Webhooks secret: "whsec_" and
// 32 random bytes in base64.
func NewWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("app: webhook secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

// CreateWebhook creates a subscription scoped to a unit the actor
// administers and returns it with its secret.
func (a Service) CreateWebhook(ctx context.Context, actor domain.Actor, req WebhookRequest) (CreatedWebhook, error) {
	const action = "webhook.create"
	var out CreatedWebhook
	err := a.InTxRefusable(ctx, func(a *app.App) error {
		u, err := Of(a).scopeUnit(ctx, actor, strings.TrimSpace(req.UnitCode))
		if err != nil {
			return Of(a).refusedOr(ctx, actor, action, req.UnitCode, err)
		}
		target, err := Of(a).checkURL(req.URL)
		if err != nil {
			return a.Refused(ctx, actor, action, u.Code, err)
		}
		var types []string
		for _, t := range req.Events {
			t = strings.TrimSpace(t)
			if t == "" || slices.Contains(types, t) {
				continue
			}
			if !slices.Contains(WebhookEventTypes, t) {
				return a.Refused(ctx, actor, action, u.Code, domain.Refuse(domain.ErrInvalid, "%s", api.T("webhook.refuse.unknown_event_type", "type", t, "types", strings.Join(WebhookEventTypes, "、"))))
			}
			types = append(types, t)
		}
		secret, err := NewWebhookSecret()
		if err != nil {
			return err
		}
		sub, err := Of(a).db().CreateWebhookSubscription(ctx, storage.NewWebhookSubscription{
			URL: target.String(), Secret: secret, EventTypes: types, UnitID: u.ID, CreatedBy: actor.Label})
		if err != nil {
			return err
		}
		out = CreatedWebhook{Subscription: sub, Secret: secret}
		// The URL may carry a token of the receiver's: audit its host only.
		return a.Audit(ctx, actor, action, "webhook:"+strconv.FormatInt(sub.ID, 10), true,
			map[string]any{"unit": u.Code, "host": target.Host, "events": types})
	})
	return out, err
}

// refusedOr audits err when it is a refusal, and returns it.
func (a Service) refusedOr(ctx context.Context, actor domain.Actor, action, subject string, err error) error {
	var ue *domain.UserError
	if errors.As(err, &ue) {
		return a.Refused(ctx, actor, action, subject, err)
	}
	return err
}

// ListWebhooks lists the subscriptions in the subtree of unitCode ("" = the
// actor's admin unit; the operator: all).
func (a Service) ListWebhooks(ctx context.Context, actor domain.Actor, unitCode string) ([]storage.WebhookSubscription, error) {
	if actor.IsOperator() && unitCode == "" {
		return a.db().WebhookSubscriptionsIn(ctx, 0)
	}
	u, err := a.scopeUnit(ctx, actor, unitCode)
	if err != nil {
		return nil, err
	}
	return a.db().WebhookSubscriptionsIn(ctx, u.ID)
}

// webhookOf returns subscription id when the actor administers its unit;
// otherwise it does not exist for them.
func (a Service) webhookOf(ctx context.Context, actor domain.Actor, id int64) (storage.WebhookSubscription, error) {
	notFound := domain.Refuse(domain.ErrNotFound, "%s", api.T("webhook.refuse.no_such", "id", strconv.FormatInt(id, 10)))
	w, err := a.db().WebhookSubscription(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return w, notFound
	}
	if err != nil {
		return w, err
	}
	ok, err := a.Can(ctx, actor, access.ManageWebhooks, w.UnitID)
	if err != nil {
		return w, err
	}
	if !ok {
		return w, notFound
	}
	return w, nil
}

// DeleteWebhook removes a subscription of a unit the actor administers.
// Its deliveries and attempts stay on record.
func (a Service) DeleteWebhook(ctx context.Context, actor domain.Actor, id int64) error {
	const action = "webhook.delete"
	subject := "webhook:" + strconv.FormatInt(id, 10)
	return a.InTxRefusable(ctx, func(a *app.App) error {
		if _, err := Of(a).webhookOf(ctx, actor, id); err != nil {
			return Of(a).refusedOr(ctx, actor, action, subject, err)
		}
		if err := Of(a).db().DeleteWebhookSubscription(ctx, id, a.Now()); err != nil {
			return err
		}
		return a.Audit(ctx, actor, action, subject, true, nil)
	})
}

// WebhookLog returns a subscription's deliveries, newest first (limit of
// them, older than beforeID when that is > 0: the next page), and the
// attempts of those deliveries.
func (a Service) WebhookLog(ctx context.Context, actor domain.Actor, id int64, limit int, beforeID int64) ([]storage.WebhookDelivery, []storage.WebhookAttemptRow, error) {
	if _, err := a.webhookOf(ctx, actor, id); err != nil {
		return nil, nil, err
	}
	ds, err := a.db().WebhookDeliveries(ctx, id, limit, beforeID)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	as, err := a.db().WebhookAttemptsOf(ctx, ids)
	return ds, as, err
}
