package handlers

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/command"
)

// Inbound integrations (SPEC §5 "Integrations"):
//
//	POST /api/v1/integrations/checkins
//
// for other platforms, authenticated by a Standard Webhooks signature
// (webhook-id, webhook-timestamp, webhook-signature; secret from `zhibu
// integration create`) instead of a bearer token. The body:
//
//	{"branch":"QA-RZ-XZ-B1","obligations":["committee_meeting"],"date":"2026-11-20",
//	 "present":7,"total":9,"topic":"…","external_id":"…"}
//
// ("obligation":"主题党日+党课" may replace obligations; "group" names a
// party group; "evidence" lists photo URLs). Answers, in the order checked:
//
//	413  body over IntegrationMaxBody
//	401  missing headers, timestamp outside webhooks.tolerance, or no
//	     active integration's signature matches — {"error":"<why>"}
//	400  malformed JSON or field values — {"error":"<why>"}
//	200  {"duplicate":true,"checkin_id":N}: a webhook-id seen within the
//	     tolerance window (a replay or a sender's retry) or an external_id
//	     seen before; nothing is processed again
//	201  {"checkin_id":N,"checkin":{…},"lights":[…]}
//	403  / 422  the check-in rules refused it — {"error":"<中文原因>"}
//
// Replays are answered 200-duplicate rather than 409 because Standard
// Webhooks senders keep the webhook-id on retries: a retry after a lost
// answer must be acknowledged, or the sender retries until it gives up.

// IntegrationCheckinsPath is the inbound check-in route.
const IntegrationCheckinsPath = "/api/v1/integrations/checkins"

// IntegrationMaxBody bounds an inbound check-in's body, in bytes.
const IntegrationMaxBody = 64 << 10

type integrationHandlers struct {
	app   *app.App
	log   *slog.Logger
	limit int64
}

// integrationCheckinBody is the inbound check-in.
type integrationCheckinBody struct {
	Branch      string   `json:"branch"`
	Obligations []string `json:"obligations"`
	Obligation  string   `json:"obligation"`
	Group       string   `json:"group"`
	Date        string   `json:"date"`
	Present     int      `json:"present"`
	Total       int      `json:"total"`
	Topic       string   `json:"topic"`
	Evidence    []string `json:"evidence"`
	ExternalID  string   `json:"external_id"`
}

func (h *integrationHandlers) checkin(c *gin.Context) {
	body, ok := readBody(c, h.limit)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	in, err := checkin.Of(h.app).AuthenticateIntegration(ctx, c.Request.Header, body)
	var auth *checkin.AuthError
	if errors.As(err, &auth) {
		h.log.Warn("integration: refused request", slog.String("reason", auth.Reason), slog.String("remote", c.ClientIP()))
		Fail(c, http.StatusUnauthorized, auth.Reason)
		return
	}
	if err != nil {
		FailErr(c, h.log, err)
		return
	}

	var b integrationCheckinBody
	if !decodeStrict(c, h.log, bytes.NewReader(body), &b) {
		return
	}
	req, msg := h.request(b)
	if msg != "" {
		Fail(c, http.StatusBadRequest, msg)
		return
	}
	res, err := checkin.Of(h.app).RecordIntegrationCheckin(ctx, in, c.GetHeader("webhook-id"), strings.TrimSpace(b.ExternalID), req)
	var ue *domain.UserError
	switch {
	case errors.As(err, &ue) && statusOf(err) == http.StatusForbidden:
		Fail(c, http.StatusForbidden, ue.Msg)
	case errors.As(err, &ue):
		// A refusal of the check-in itself: the integrator's request was
		// well-formed, so 422 rather than the 400 of statusOf.
		Fail(c, http.StatusUnprocessableEntity, ue.Msg)
	case err != nil:
		FailErr(c, h.log, err)
	case res.Duplicate:
		c.JSON(http.StatusOK, gin.H{"duplicate": true, "checkin_id": res.CheckinID})
	default:
		c.JSON(http.StatusCreated, gin.H{"checkin_id": res.CheckinID, "checkin": app.ViewCheckin(res.Result.Checkin), "lights": lightsJSON(res.Result.Lights)})
	}
}

// request checks the body's fields and builds the check-in request; msg
// says what is wrong.
func (h *integrationHandlers) request(b integrationCheckinBody) (checkin.Request, string) {
	obligations := b.Obligations
	if b.Obligation != "" {
		obligations = append(obligations, strings.FieldsFunc(b.Obligation, func(r rune) bool {
			return r == '+' || r == '＋' || r == '、'
		})...)
	}
	if len(b.Evidence) > maxEvidence {
		return checkin.Request{}, "at most 20 evidence items"
	}
	for _, e := range b.Evidence {
		if e == "" || len(e) > maxEvidenceLen {
			return checkin.Request{}, "evidence items must be 1 to 1024 bytes"
		}
	}
	if b.Total == 0 && b.Present != 0 {
		return checkin.Request{}, "present needs total"
	}
	now := h.app.Now()
	date := now
	if b.Date != "" {
		d, ok := command.ParseDate(b.Date, now, h.app.Loc)
		if !ok {
			return checkin.Request{}, api.T("date.unknown", "date", b.Date)
		}
		date = d
	}
	return checkin.Request{BranchCode: strings.TrimSpace(b.Branch), Obligations: obligations, Group: b.Group,
		Date: date, Present: b.Present, Total: b.Total, Topic: strings.TrimSpace(b.Topic), Evidence: b.Evidence}, ""
}
