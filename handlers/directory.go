package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
)

type directory struct{ d Deps }

// units: GET /api/v1/units?unit=CODE — the subtree (default: the token's unit).
func (h *directory) units(c *gin.Context) {
	listWhole(c, h.d.Log, "units", func(ctx context.Context, actor domain.Actor) ([]domain.Unit, error) {
		return accounts.Of(h.d.App).UnitTree(ctx, actor, c.Query("unit"))
	}, func(u domain.Unit) string { return u.Code })
}

type holderJSON struct {
	PersonID int64   `json:"person_id"`
	Name     string  `json:"name"`
	Phone    *string `json:"phone,omitempty"`
	Role     string  `json:"role"`
	Unit     string  `json:"unit"`
	Linked   bool    `json:"linked"`
	Reach    bool    `json:"reachable"`
}

// people: GET /api/v1/people?unit=CODE&role=ROLE — role holders in the subtree.
func (h *directory) people(c *gin.Context) {
	p, after, ok := readPageAfter(c, holderKey)
	if !ok {
		return
	}
	hs, err := accounts.Of(h.d.App).DirectoryPage(c.Request.Context(), ActorOf(c), c.Query("unit"), c.Query("role"), p.Limit+1, after)
	if err != nil {
		FailErr(c, h.d.Log, err)
		return
	}
	var next any
	if len(hs) > p.Limit {
		hs = hs[:p.Limit]
		x := hs[len(hs)-1]
		next = nextCursor(true, strconv.FormatInt(x.UnitID, 10)+"/"+x.Role+"/"+strconv.FormatInt(x.PersonID, 10))
	}
	out := make([]holderJSON, 0, len(hs))
	for _, x := range hs {
		out = append(out, holderJSON{PersonID: x.PersonID, Name: x.Name, Phone: x.Phone, Role: x.Role, Unit: x.UnitCode,
			Linked: x.ChatID != nil, Reach: x.ChatID != nil && !x.Unreachable})
	}
	c.JSON(http.StatusOK, gin.H{"people": out, "next_cursor": next})
}

// bindCode: POST /api/v1/bind-codes {"phone": "..."} — a fresh deep link.
func (h *directory) bindCode(c *gin.Context) {
	var req struct {
		Phone string `json:"phone"`
	}
	if err := c.ShouldBindJSON(&req); err != nil || req.Phone == "" {
		fail(c, http.StatusBadRequest, "body must be {\"phone\": \"...\"}")
		return
	}
	code, err := accounts.Of(h.d.App).IssueBindCode(c.Request.Context(), ActorOf(c), req.Phone)
	if err != nil {
		FailErr(c, h.d.Log, err)
		return
	}
	c.JSON(http.StatusCreated, code)
}

// audit: GET /api/v1/audit?action=&limit= — admins only.
func (h *directory) audit(c *gin.Context) {
	p, before, ok := readPageAfter(c, idKey)
	if !ok {
		return
	}
	rows, err := accounts.Of(h.d.App).AuditLogBefore(c.Request.Context(), ActorOf(c), c.Query("action"), p.Limit+1, before)
	if err != nil {
		FailErr(c, h.d.Log, err)
		return
	}
	entries, next := pageByID(app.ViewAudit(rows), p.Limit, func(r app.AuditView) int64 { return r.ID })
	c.JSON(http.StatusOK, gin.H{"entries": entries, "next_cursor": next})
}
