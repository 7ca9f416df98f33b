package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain/command"
)

// Check-in API (SPEC §3, §5):
//
//	POST /api/v1/checkins   record a check-in: the same use case as /checkin,
//	                        the actor is the token (a secretary token of the
//	                        branch, or an admin token of it or a unit above)
//	GET  /api/v1/checkins?unit=CODE&from=YYYY-MM-DD&to=YYYY-MM-DD
//	                        check-ins of the branches in unit's subtree (default:
//	                        the token's unit); 403 outside the token's subtree

type checkinHandlers struct {
	app *app.App
	log *slog.Logger
}

// checkinBody is the POST body. Obligations are codes, names or aliases;
// "obligation" may instead name them joined by '+' ("主题党日+党课").
type checkinBody struct {
	Branch      string   `json:"branch"`
	Obligations []string `json:"obligations"`
	Obligation  string   `json:"obligation"`
	Group       string   `json:"group"`
	Date        string   `json:"date"` // 2026-11-20 (or any /checkin date form); default today
	Present     int      `json:"present"`
	Total       int      `json:"total"`
	Topic       string   `json:"topic"`
	Evidence    []string `json:"evidence"` // file ids or URLs
}

// Bounds on a POSTed check-in's evidence.
const (
	maxEvidence    = 20
	maxEvidenceLen = 1024
)

func (h *checkinHandlers) create(c *gin.Context) {
	var body checkinBody
	if !decodeBody(c, h.log, &body) {
		return
	}
	obligations := body.Obligations
	if body.Obligation != "" {
		obligations = append(obligations, strings.FieldsFunc(body.Obligation, func(r rune) bool {
			return r == '+' || r == '＋' || r == '、'
		})...)
	}
	if len(body.Evidence) > maxEvidence {
		Fail(c, http.StatusBadRequest, "at most 20 evidence items")
		return
	}
	for _, e := range body.Evidence {
		if e == "" || len(e) > maxEvidenceLen {
			Fail(c, http.StatusBadRequest, "evidence items must be 1 to 1024 bytes")
			return
		}
	}
	now := h.app.Now()
	date := now
	if body.Date != "" {
		d, ok := command.ParseDate(body.Date, now, h.app.Loc)
		if !ok {
			Fail(c, http.StatusBadRequest, api.T("date.unknown", "date", body.Date))
			return
		}
		date = d
	}
	if body.Total == 0 && body.Present != 0 {
		Fail(c, http.StatusBadRequest, "present needs total")
		return
	}
	req := checkin.Request{BranchCode: strings.TrimSpace(body.Branch), Obligations: obligations, Group: body.Group,
		Date: date, Present: body.Present, Total: body.Total, Topic: strings.TrimSpace(body.Topic),
		Evidence: body.Evidence, Source: checkin.SourceAPI}
	res, err := checkin.Of(h.app).RecordCheckin(c.Request.Context(), ActorOf(c), req)
	var choose *app.ErrChooseBranch
	if errors.As(err, &choose) {
		Fail(c, http.StatusBadRequest, "branch is required: the token may check in for several branches")
		return
	}
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"checkin": app.ViewCheckin(res.Checkin), "lights": lightsJSON(res.Lights)})
}

func (h *checkinHandlers) list(c *gin.Context) {
	p, before, ok := readPageAfter(c, checkinKey)
	if !ok {
		return
	}
	rows, err := checkin.Of(h.app).ListCheckins(c.Request.Context(), ActorOf(c), c.Query("unit"), c.Query("from"), c.Query("to"), p.Limit+1, before)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	cs := app.ViewCheckins(rows)
	if cs == nil {
		cs = []app.CheckinView{}
	}
	var next any
	if len(cs) > p.Limit {
		cs = cs[:p.Limit]
		last := cs[len(cs)-1]
		next = nextCursor(true, last.HeldOn+"/"+strconv.FormatInt(last.ID, 10))
	}
	c.JSON(http.StatusOK, gin.H{"checkins": cs, "next_cursor": next})
}

type lightJSON struct {
	Obligation string `json:"obligation"`
	Period     string `json:"period"`
	Group      string `json:"group,omitempty"`
	Light      string `json:"light"`
}

func lightsJSON(v checkin.LightsView) []lightJSON {
	out := make([]lightJSON, 0, len(v.Items))
	for _, it := range v.Items {
		out = append(out, lightJSON{Obligation: it.Obligation, Period: it.Period.Key(), Group: v.Groups[it.GroupID], Light: string(it.Light)})
	}
	return out
}
