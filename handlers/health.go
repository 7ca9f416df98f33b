package handlers

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/healthcheck"
)

// Health-check API (SPEC §2, §5), scoped to the token's unit subtree:
//
//	GET  /api/v1/lights?unit=CODE          lights of the subtree (default: the token's unit)
//	GET  /api/v1/escalations?unit=CODE     red items with who acknowledged them
//	POST /api/v1/exemptions                {"branch","obligation","period","reason"} (organiser/admin above)
//	POST /api/v1/exemptions/:id/revoke     {"reason"}
//	POST /api/v1/silences                  {"unit","obligation"?,"from"?,"until","reason"} (organiser/admin)
//	GET  /api/v1/notifications/misses?unit=CODE&since=RFC3339
//	                                       digests sent to a group instead, sent nowhere, or refused

type healthHandlers struct {
	app *app.App
	log *slog.Logger
}

type hcLightJSON struct {
	Branch     string `json:"branch"`
	Group      string `json:"group,omitempty"`
	Obligation string `json:"obligation"`
	Period     string `json:"period"`
	Light      string `json:"light"`
}

type hcCountsJSON struct {
	Green  int `json:"green"`
	Yellow int `json:"yellow"`
	Red    int `json:"red"`
}

// hcItemCursor is the cursor of a health item, in the lights and the
// escalations alike: the codes that name it.
func hcItemCursor(branch, group, obligation, period string) string {
	return branch + "|" + group + "|" + obligation + "|" + period
}

func (h *healthHandlers) lights(c *gin.Context) {
	p, ok := readPage(c)
	if !ok {
		return
	}
	u, ev, err := healthcheck.Of(h.app).LightsOf(c.Request.Context(), ActorOf(c), c.Query("unit"))
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	out := make([]hcLightJSON, 0, len(ev.Lights))
	for _, l := range ev.Lights {
		lj := hcLightJSON{Branch: ev.Codes[l.BranchID], Obligation: l.Obligation, Period: l.Period.Key(), Light: string(l.Light)}
		if l.GroupID != 0 {
			lj.Group = ev.Codes[l.GroupID]
		}
		out = append(out, lj)
	}
	out, next, ok := pageInMemory(c, p, out, func(l hcLightJSON) string {
		return hcItemCursor(l.Branch, l.Group, l.Obligation, l.Period)
	})
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"at": ev.At.In(h.app.Loc).Format(time.RFC3339), "unit": u.Code,
		"counts": hcCountsJSON{Green: ev.Counts.Green, Yellow: ev.Counts.Yellow, Red: ev.Counts.Red}, "lights": out, "next_cursor": next})
}

func (h *healthHandlers) escalations(c *gin.Context) {
	p, ok := readPage(c)
	if !ok {
		return
	}
	u, es, err := healthcheck.Of(h.app).Escalations(c.Request.Context(), ActorOf(c), c.Query("unit"))
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	if es == nil {
		es = []healthcheck.Escalation{}
	}
	es, next, ok := pageInMemory(c, p, es, func(e healthcheck.Escalation) string {
		return hcItemCursor(e.Branch, e.Group, e.Obligation, e.Period)
	})
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"unit": u.Code, "escalations": es, "next_cursor": next})
}

type hcExemptBody struct {
	Branch     string `json:"branch"` // branch or party group code
	Obligation string `json:"obligation"`
	Period     string `json:"period"`
	Reason     string `json:"reason"`
}

func (h *healthHandlers) exempt(c *gin.Context) {
	var b hcExemptBody
	if !decodeBody(c, h.log, &b) {
		return
	}
	if b.Branch == "" || b.Obligation == "" || b.Period == "" {
		Fail(c, http.StatusBadRequest, "branch, obligation and period are required")
		return
	}
	xs, err := healthcheck.Of(h.app).Exempt(c.Request.Context(), ActorOf(c), healthcheck.ExemptRequest{UnitCode: b.Branch, Obligation: b.Obligation, Period: b.Period, Reason: b.Reason})
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"exemptions": app.ViewExemptions(xs)})
}

func (h *healthHandlers) revoke(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		Fail(c, http.StatusBadRequest, "bad exemption id")
		return
	}
	var b struct {
		Reason string `json:"reason"`
	}
	if !decodeBody(c, h.log, &b) {
		return
	}
	x, err := healthcheck.Of(h.app).RevokeExemption(c.Request.Context(), ActorOf(c), id, b.Reason)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"exemption": app.ViewExemption(x)})
}

type hcSilenceBody struct {
	Unit       string `json:"unit"`
	Obligation string `json:"obligation"`
	From       string `json:"from"`  // RFC 3339 or 2026-11-20 (start of day); default now
	Until      string `json:"until"` // RFC 3339, or 2026-11-20 (silenced through that day)
	Reason     string `json:"reason"`
}

// hcParseWhen reads an RFC 3339 instant or a date; a date means the start of
// the day, or with endOfDay the start of the next.
func hcParseWhen(s string, loc *time.Location, endOfDay bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, false
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, true
}

func (h *healthHandlers) silence(c *gin.Context) {
	var b hcSilenceBody
	if !decodeBody(c, h.log, &b) {
		return
	}
	if b.Unit == "" || b.Until == "" {
		Fail(c, http.StatusBadRequest, "unit and until are required")
		return
	}
	req := healthcheck.SilenceRequest{UnitCode: b.Unit, Obligation: b.Obligation, Reason: b.Reason}
	var ok bool
	if req.Until, ok = hcParseWhen(b.Until, h.app.Loc, true); !ok {
		Fail(c, http.StatusBadRequest, "until: want RFC 3339 or YYYY-MM-DD")
		return
	}
	if b.From != "" {
		if req.From, ok = hcParseWhen(b.From, h.app.Loc, false); !ok {
			Fail(c, http.StatusBadRequest, "from: want RFC 3339 or YYYY-MM-DD")
			return
		}
	}
	x, err := healthcheck.Of(h.app).Silence(c.Request.Context(), ActorOf(c), req)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"silence": app.ViewSilence(x)})
}

func (h *healthHandlers) misses(c *gin.Context) {
	p, ok := readPage(c)
	if !ok {
		return
	}
	since := h.app.Now().AddDate(0, 0, -30)
	if s := c.Query("since"); s != "" {
		t, ok := hcParseWhen(s, h.app.Loc, false)
		if !ok {
			Fail(c, http.StatusBadRequest, "since: want RFC 3339 or YYYY-MM-DD")
			return
		}
		since = t
	}
	u, ms, err := healthcheck.Of(h.app).Misses(c.Request.Context(), ActorOf(c), c.Query("unit"), since, 500)
	if err != nil {
		FailErr(c, h.log, err)
		return
	}
	vs, next, ok := pageInMemory(c, p, app.ViewMisses(ms), func(m app.MissView) string {
		return strconv.FormatInt(m.DigestID, 10) + "/" + strconv.FormatInt(m.PersonID, 10)
	})
	if !ok {
		return
	}
	out := make([]any, 0, len(vs))
	for _, m := range vs {
		out = append(out, m)
	}
	c.JSON(http.StatusOK, gin.H{"unit": u.Code, "since": since.In(h.app.Loc).Format(time.RFC3339), "misses": out, "next_cursor": next})
}
