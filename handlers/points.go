package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/villagepoints"
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
//	                        or {"household":"H001","goods_code":"G01","quantity":2}
//	                        record a redemption (shopkeeper or admin token); 409
//	                        when the balance or the stock does not cover it
//	GET  /api/v1/goods?unit=VILLAGE
//	                        the points shops' goods in the subtree (any token)
//	GET  /api/v1/settlements?unit=CODE&period=2026-11
//	                        settled rankings in the subtree (any token)

type pointsHandlers struct {
	app *app.App
	log *slog.Logger
}

func (h *pointsHandlers) listClaims(c *gin.Context) {
	p, before, ok := readPageAfter(c, idKey)
	if !ok {
		return
	}
	cs, err := villagepoints.Of(h.app).ListClaims(c.Request.Context(), ActorOf(c), c.Query("unit"), c.Query("status"), p.Limit+1, before)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	vs, next := pageByID(app.ViewClaims(cs), p.Limit, func(x app.ClaimView) int64 { return x.ID })
	c.JSON(http.StatusOK, gin.H{"claims": vs, "next_cursor": next})
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
	if !decodeBody(c, h.log, &body) {
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
	res, err := villagepoints.Of(h.app).DecideClaim(c.Request.Context(), ActorOf(c), id, approve, body.Reason)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	var entry any // null when no entry was written
	if res.Entry != nil {
		entry = app.ViewPointEntry(*res.Entry)
	}
	out := gin.H{"claim": app.ViewClaim(res.Claim), "ledger_entry": entry}
	if res.Awaiting > 0 {
		out["awaiting_approvals"], out["approvals"] = res.Awaiting, res.Approvals
	}
	c.JSON(http.StatusOK, out)
}

func (h *pointsHandlers) ledger(c *gin.Context) {
	p, ok := readPage(c)
	if !ok {
		return
	}
	v, err := villagepoints.Of(h.app).HouseholdLedger(c.Request.Context(), ActorOf(c), c.Query("unit"), strings.TrimSpace(c.Query("household")))
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	entries, next, ok := pageInMemory(c, p, app.ViewLedgerEntries(v.Entries), func(e app.LedgerEntryView) string { return strconv.FormatInt(e.ID, 10) })
	if !ok {
		return
	}
	c.JSON(http.StatusOK, ledgerPage{Household: app.ViewHousehold(v.Household), Balance: v.Balance, Publicity: v.Publicity,
		Entries: entries, NextCursor: next})
}

// ledgerPage is a page of a household's ledger.
type ledgerPage struct {
	Household  app.HouseholdView     `json:"household"`
	Balance    int                   `json:"balance"`
	Publicity  int                   `json:"publicity"`
	Entries    []app.LedgerEntryView `json:"entries"`
	NextCursor any                   `json:"next_cursor"`
}

type redemptionBody struct {
	Household string `json:"household"` // household code or a villager's phone
	Unit      string `json:"unit"`      // the village, when household codes repeat in the subtree
	Points    int    `json:"points"`
	Goods     string `json:"goods"`
	GoodsCode string `json:"goods_code"` // listed goods; points and goods are then ignored
	Quantity  int    `json:"quantity"`   // pieces of goods_code, default 1
}

func (h *pointsHandlers) redeem(c *gin.Context) {
	var body redemptionBody
	if !decodeBody(c, h.log, &body) {
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
	if len(body.GoodsCode) > 64 {
		Fail(c, http.StatusBadRequest, "goods_code is longer than 64 bytes")
		return
	}
	if body.GoodsCode == "" && body.Quantity != 0 {
		Fail(c, http.StatusBadRequest, "quantity needs goods_code")
		return
	}
	if body.GoodsCode != "" && (body.Quantity < 0 || body.Quantity > villagepoints.MaxRedeemQty) {
		Fail(c, http.StatusBadRequest, "quantity must be between 1 and 999")
		return
	}
	actor := ActorOf(c)
	if body.Unit != "" {
		narrowed, err := villagepoints.Of(h.app).NarrowActor(c.Request.Context(), actor, "points.redeem", body.Unit)
		if err != nil {
			FailErr(c, h.log, err)
			return
		}
		actor = narrowed
	}
	r, err := villagepoints.Of(h.app).Redeem(c.Request.Context(), actor, villagepoints.RedeemRequest{Target: strings.TrimSpace(body.Household), Points: body.Points, Goods: body.Goods,
		GoodsCode: strings.TrimSpace(body.GoodsCode), Qty: body.Quantity})
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	out := gin.H{"ledger_entry": app.ViewPointEntry(r.Entry), "household": app.ViewHousehold(r.Household), "balance_before": r.Before, "balance_after": r.After}
	if r.Goods != nil {
		out["goods"], out["quantity"], out["stock_after"] = app.ViewGoods(*r.Goods), r.Qty, r.StockLeft
	}
	c.JSON(http.StatusCreated, out)
}

func (h *pointsHandlers) settlements(c *gin.Context) {
	listWhole(c, h.log, "settlements", func(ctx context.Context, actor domain.Actor) ([]app.SettlementView, error) {
		rows, err := villagepoints.Of(h.app).Settlements(ctx, actor, c.Query("unit"), c.Query("period"))
		return app.ViewSettlements(rows), err
	}, func(s app.SettlementView) string { return strconv.FormatInt(s.ID, 10) })
}

func (h *pointsHandlers) goods(c *gin.Context) {
	listWhole(c, h.log, "goods", func(ctx context.Context, actor domain.Actor) ([]app.GoodsView, error) {
		rows, err := villagepoints.Of(h.app).ListGoods(ctx, actor, c.Query("unit"))
		return app.ViewGoodsList(rows), err
	}, func(g app.GoodsView) string { return g.VillageCode + "/" + g.Code })
}
