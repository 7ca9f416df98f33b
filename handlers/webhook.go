package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/integrations"
)

// Webhook subscription API (SPEC §5 "Integrations"), for admin tokens,
// within the token's unit subtree:
//
//	POST   /api/v1/webhooks   {"url":"https://…","unit":"QA-RZ","events":["checkin.recorded"]}
//	                          → 201 {"webhook":{…},"secret":"whsec_…"}; the secret is shown
//	                          only here. unit defaults to the token's unit, events to all.
//	GET    /api/v1/webhooks[?unit=CODE]          → {"webhooks":[…]}
//	DELETE /api/v1/webhooks/:id                  → 204
//	GET    /api/v1/webhooks/:id/attempts[?limit=N]
//	                          → {"deliveries":[…],"attempts":[…]}, newest first
//
// A subscription outside the token's subtree answers 404.

type webhookHandlers struct {
	app *app.App
	log *slog.Logger
}

func (h *webhookHandlers) create(c *gin.Context) {
	var body integrations.WebhookRequest
	if !decodeBody(c, h.log, &body) {
		return
	}
	created, err := integrations.Of(h.app).CreateWebhook(c.Request.Context(), ActorOf(c), body)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"webhook": app.ViewWebhook(created.Subscription), "secret": created.Secret})
}

func (h *webhookHandlers) list(c *gin.Context) {
	listWhole(c, h.log, "webhooks", func(ctx context.Context, actor domain.Actor) ([]app.WebhookView, error) {
		rows, err := integrations.Of(h.app).ListWebhooks(ctx, actor, c.Query("unit"))
		return app.ViewWebhooks(rows), err
	}, func(w app.WebhookView) string { return strconv.FormatInt(w.ID, 10) })
}

func webhookID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		Fail(c, http.StatusBadRequest, "id must be a positive number")
		return 0, false
	}
	return id, true
}

func (h *webhookHandlers) delete(c *gin.Context) {
	id, ok := webhookID(c)
	if !ok {
		return
	}
	if err := integrations.Of(h.app).DeleteWebhook(c.Request.Context(), ActorOf(c), id); err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *webhookHandlers) attempts(c *gin.Context) {
	id, ok := webhookID(c)
	if !ok {
		return
	}
	p, before, ok := readPageAfter(c, idKey)
	if !ok {
		return
	}
	drows, arows, err := integrations.Of(h.app).WebhookLog(c.Request.Context(), ActorOf(c), id, p.Limit+1, before)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	ds, next := pageByID(app.ViewWebhookDeliveries(drows), p.Limit, func(d app.WebhookDeliveryView) int64 { return d.ID })
	as := app.ViewWebhookAttempts(arows)
	if next != nil { // drop the attempts of the delivery that only told there is more
		kept := map[int64]bool{}
		for _, d := range ds {
			kept[d.ID] = true
		}
		as = slices.DeleteFunc(as, func(a app.WebhookAttemptView) bool { return !kept[a.DeliveryID] })
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": ds, "attempts": as, "next_cursor": next})
}
