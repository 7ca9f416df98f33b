package handlers

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
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
func init() {
	routeSets = append(routeSets, func(api API, d Deps) {
		if d.App == nil {
			return
		}
		h := &webhookHandlers{app: d.App, log: d.Log}
		api.V1.POST("/webhooks", h.create)
		api.V1.GET("/webhooks", h.list)
		api.V1.DELETE("/webhooks/:id", h.delete)
		api.V1.GET("/webhooks/:id/attempts", h.attempts)
	})
}

type webhookHandlers struct {
	app *app.App
	log *slog.Logger
}

func (h *webhookHandlers) create(c *gin.Context) {
	var body app.WebhookRequest
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			FailErr(c, h.log, err)
			return
		}
		Fail(c, http.StatusBadRequest, BadJSON(err))
		return
	}
	created, err := h.app.CreateWebhook(c.Request.Context(), ActorOf(c), body)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"webhook": created.Subscription, "secret": created.Secret})
}

func (h *webhookHandlers) list(c *gin.Context) {
	ws, err := h.app.ListWebhooks(c.Request.Context(), ActorOf(c), c.Query("unit"))
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": ws})
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
	if err := h.app.DeleteWebhook(c.Request.Context(), ActorOf(c), id); err != nil {
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
	limit := 100
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			Fail(c, http.StatusBadRequest, "limit must be 1 to 1000")
			return
		}
		limit = n
	}
	ds, as, err := h.app.WebhookLog(c.Request.Context(), ActorOf(c), id, limit)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": ds, "attempts": as})
}
