package handlers

import "github.com/gin-gonic/gin"

// routes is the whole table of the API and the dashboard: every /api/v1
// route (bearer-token authenticated unless skipAuthPaths says otherwise) and
// the pages. The webhook, health and metrics endpoints are in Routes.
func routes(r *gin.Engine, v1 *gin.RouterGroup, d Deps) {
	dir := &directory{d: d}
	v1.GET("/units", dir.units)
	v1.GET("/people", dir.people)
	v1.POST("/bind-codes", dir.bindCode)
	v1.GET("/audit", dir.audit)

	ci := &checkinHandlers{app: d.App, log: d.Log}
	v1.POST("/checkins", ci.create)
	v1.GET("/checkins", ci.list)

	hc := &healthHandlers{app: d.App, log: d.Log}
	v1.GET("/lights", hc.lights)
	v1.GET("/escalations", hc.escalations)
	v1.POST("/exemptions", hc.exempt)
	v1.POST("/exemptions/:id/revoke", hc.revoke)
	v1.POST("/silences", hc.silence)
	v1.GET("/notifications/misses", hc.misses)

	pt := &pointsHandlers{app: d.App, log: d.Log}
	v1.GET("/claims", pt.listClaims)
	v1.POST("/claims/:id/decision", pt.decide)
	v1.GET("/ledger", pt.ledger)
	v1.POST("/redemptions", pt.redeem)
	v1.GET("/goods", pt.goods)
	v1.GET("/settlements", pt.settlements)

	wh := &webhookHandlers{app: d.App, log: d.Log}
	v1.POST("/webhooks", wh.create)
	v1.GET("/webhooks", wh.list)
	v1.DELETE("/webhooks/:id", wh.delete)
	v1.GET("/webhooks/:id/attempts", wh.attempts)

	// Other platforms' signed check-ins: authenticated by signature, with a
	// body limit of their own.
	limit := int64(IntegrationMaxBody)
	if d.MaxBodyBytes > 0 && d.MaxBodyBytes < limit {
		limit = d.MaxBodyBytes
	}
	in := &integrationHandlers{app: d.App, log: d.Log, limit: limit}
	v1.POST("/integrations/checkins", in.checkin)

	registerDashboard(r, d)
}

// skipAuthPaths are the /api/v1 routes authenticated otherwise than by a
// bearer token.
var skipAuthPaths = map[string]bool{
	IntegrationCheckinsPath: true, // Standard Webhooks signature
}
