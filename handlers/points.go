package handlers

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
)

// Village points API (SPEC §4, §5), every route scoped to the token's unit
// subtree and role, through the same use cases as the chat commands:
//
//	GET  /api/v1/claims?unit=CODE&status=pending|approved|rejected|frozen&limit=N
//	                        claims in the subtree (reviewer, organiser, admin tokens)
//	POST /api/v1/claims/:id/decision   {"decision":"approve"|"reject","reason":"…"}
//	                        decide a pending claim (reviewer or admin token over
//	                        its village); 409 when it was decided already
//	GET  /api/v1/ledger?household=H001|13800000006&unit=VILLAGE
//	                        a household's ledger with running balances
//	                        (reviewer, organiser, shopkeeper, admin tokens)
//	POST /api/v1/redemptions  {"household":"H001","unit":"QA-RZ-XZ","points":5,"goods":"…"}
//	                        record a redemption (shopkeeper or admin token); 409
//	                        when the balance does not cover it
//	GET  /api/v1/settlements?unit=CODE&period=2026-11
//	                        settled rankings in the subtree (any token)
func init() {
	routeSets = append(routeSets, func(api API, d Deps) {
		if d.App == nil {
			return
		}
		h := &pointsHandlers{app: d.App, log: d.Log}
		api.V1.GET("/claims", h.listClaims)
		api.V1.POST("/claims/:id/decision", h.decide)
		api.V1.GET("/ledger", h.ledger)
		api.V1.POST("/redemptions", h.redeem)
		api.V1.GET("/settlements", h.settlements)
	})
}

type pointsHandlers struct {
	app *app.App
	log *slog.Logger
}

// decode reads a JSON body strictly; false when it answered 400 or 413.
func (h *pointsHandlers) decode(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			FailErr(c, h.log, err)
			return false
		}
		Fail(c, http.StatusBadRequest, BadJSON(err))
		return false
	}
	return true
}

func (h *pointsHandlers) listClaims(c *gin.Context) {
	limit := 0
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			Fail(c, http.StatusBadRequest, "limit must be a positive number")
			return
		}
		limit = n
	}
	cs, err := h.app.ListClaims(c.Request.Context(), ActorOf(c), c.Query("unit"), c.Query("status"), limit)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"claims": cs})
}

type decisionBody struct {
	Decision string `json:"decision"` // approve | reject
	Reason   string `json:"reason"`
}

func (h *pointsHandlers) decide(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		Fail(c, http.StatusBadRequest, "claim id must be a positive number")
		return
	}
	var body decisionBody
	if !h.decode(c, &body) {
		return
	}
	var approve bool
	switch strings.ToLower(strings.TrimSpace(body.Decision)) {
	case "approve", "approved", "ok":
		approve = true
	case "reject", "rejected", "no":
	default:
		Fail(c, http.StatusBadRequest, `decision must be "approve" or "reject"`)
		return
	}
	if len(body.Reason) > 2000 {
		Fail(c, http.StatusBadRequest, "reason is longer than 2000 bytes")
		return
	}
	var res app.DecisionResult
	err = h.app.InTxRefusable(c.Request.Context(), func(a *app.App) error {
		res, err = a.DecideClaim(c.Request.Context(), ActorOf(c), id, approve, body.Reason)
		return err
	})
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"claim": res.Claim, "ledger_entry": res.Entry})
}

func (h *pointsHandlers) ledger(c *gin.Context) {
	v, err := h.app.HouseholdLedger(c.Request.Context(), ActorOf(c), c.Query("unit"), strings.TrimSpace(c.Query("household")))
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

type redemptionBody struct {
	Household string `json:"household"` // household code or a villager's phone
	Unit      string `json:"unit"`      // the village, when household codes repeat in the subtree
	Points    int    `json:"points"`
	Goods     string `json:"goods"`
}

func (h *pointsHandlers) redeem(c *gin.Context) {
	var body redemptionBody
	if !h.decode(c, &body) {
		return
	}
	if strings.TrimSpace(body.Household) == "" {
		Fail(c, http.StatusBadRequest, "household is required (a household code or a phone number)")
		return
	}
	if len(body.Goods) > 1000 {
		Fail(c, http.StatusBadRequest, "goods is longer than 1000 bytes")
		return
	}
	actor := ActorOf(c)
	if body.Unit != "" {
		narrowed, err := h.app.NarrowActor(c.Request.Context(), actor, body.Unit)
		if err != nil {
			FailErr(c, h.log, err)
			return
		}
		actor = narrowed
	}
	var r app.Redemption
	err := h.app.InTxRefusable(c.Request.Context(), func(a *app.App) (err error) {
		r, err = a.Redeem(c.Request.Context(), actor, app.RedeemRequest{Target: strings.TrimSpace(body.Household), Points: body.Points, Goods: body.Goods})
		return err
	})
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"ledger_entry": r.Entry, "household": r.Household, "balance_before": r.Before, "balance_after": r.After})
}

func (h *pointsHandlers) settlements(c *gin.Context) {
	ss, err := h.app.Settlements(c.Request.Context(), ActorOf(c), c.Query("unit"), c.Query("period"))
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"settlements": ss})
}
