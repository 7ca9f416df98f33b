package app_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/storage"
)

// fill sets every field of v (a pointer) to a value of its own, numbered in
// field order, so that a view dropping, renaming, reordering or reformatting
// any field shows in its JSON.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 9, *n%60, 0, 0, time.FixedZone("CST", 8*3600))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"n":` + itoa(*n) + `}`))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), n)
	case reflect.String:
		v.SetString("s" + itoa(*n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: " + v.Kind().String())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func filled[T any]() T {
	var v T
	n := 0
	fill(reflect.ValueOf(&v).Elem(), &n)
	return v
}

// TestViewsJSON pins the API's JSON of each view byte for byte (SPEC §5.1,
// §7): a change here is a change of the external contract.
func TestViewsJSON(t *testing.T) {
	cases := []struct {
		name string
		view any
		want string
	}{
		{"claim", app.ViewClaim(filled[storage.Claim]()), `{"id":2,"village":"s4","village_name":"s5","household":"s7","person":"s11","recorded_by":"s14","kind":"s15","item_code":"s16","item_name":"s17","category":"s18","points":19,"veto":true,"evidence":"s21","note":"s22","photo":"s24","status":"s25","claimed_at":"2026-12-01T09:26:00+08:00","decided_at":"2026-12-01T09:28:00+08:00","decided_by":"s31","reason":"s32","frozen_by":34,"objections":35,"source":"s39","effective_at":"2026-12-01T09:47:00+08:00"}`},
		{"checkin", app.ViewCheckin(filled[storage.Checkin]()), `{"id":2,"branch_id":3,"branch":"s4","branch_name":"s5","date":"s6","present":8,"total":10,"topic":"s11","evidence":["s13"],"source":"s16","recorded_by":22,"recorded_by_name":"s24","recorded_at":"2026-12-01T09:25:00+08:00","withdrawn_at":"2026-12-01T09:27:00+08:00","rejected_at":"2026-12-01T09:29:00+08:00","rejected_by":31,"reject_reason":"s33","items":[{"obligation":"s37","period":"s38","unit_id":39,"unit":"s40","unit_name":"s41","late":true,"extra":true,"below_quorum":true}]}`},
		{"goods", app.ViewGoods(filled[storage.Goods]()), `{"village":"s4","village_name":"s5","code":"s6","name":"s7","points":8,"stock":10,"active":true}`},
		{"settlement", app.ViewSettlements([]storage.Settlement{filled[storage.Settlement]()})[0], `{"id":2,"village":"s4","village_name":"s5","period":"s6","kind":"s7","period_start":"2026-12-01T09:08:00+08:00","period_end":"2026-12-01T09:09:00+08:00","closed_at":"2026-12-01T09:10:00+08:00","households":11,"ranking":{"n":12}}`},
		{"miss", app.ViewMisses([]storage.Miss{filled[storage.Miss]()})[0], `{"digest_id":2,"person_id":3,"person":"s4","chat_id":5,"level":"s6","items":7,"via_fallback":true,"undeliverable":true,"failed":"s10","uncertain":true,"at":"2026-12-01T09:12:00+08:00"}`},
		{"ledger entry", app.ViewLedgerEntries([]storage.PointLedgerRow{filled[storage.PointLedgerRow]()})[0], `{"id":3,"household":"s5","village":"s7","kind":"s8","points":9,"claim_id":11,"reverses":13,"item_code":"s14","item_name":"s15","goods":"s16","note":"s17","recorded_at":"2026-12-01T09:18:00+08:00","effective_at":"2026-12-01T09:19:00+08:00","actor":"s22","recorded_by":"s23","village_name":"s24","members":"s25","balance_after":27,"reversed_by":29}`},
		{"audit", app.ViewAudit([]storage.AuditRow{filled[storage.AuditRow]()})[0], `{"id":2,"at":"2026-12-01T09:03:00+08:00","actor_id":5,"actor":"s6","action":"s7","subject":"s8","allowed":true,"details":{"n":10}}`},
		{"ledger_entry", app.ViewPointEntry(filled[storage.PointEntry]()), `{"id":2,"household":"s4","village":"s6","kind":"s7","points":8,"claim_id":10,"reverses":12,"item_code":"s13","item_name":"s14","goods":"s15","note":"s16","recorded_at":"2026-12-01T09:17:00+08:00","effective_at":"2026-12-01T09:18:00+08:00","actor":"s21","recorded_by":"s22"}`},
		{"household", app.ViewHousehold(filled[storage.Household]()), `{"id":2,"village_id":3,"village":"s4","village_name":"s5","code":"s6","name":"s7","members":"s8","head":"s9"}`},
		{"exemption", app.ViewExemption(filled[storage.Exemption]()), `{"id":2,"unit_id":3,"unit":"s4","obligation":"s5","period":"s6","reason":"s7","by_id":8,"actor":"s9","at":"2026-12-01T09:10:00+08:00","revoked_at":"2026-12-01T09:12:00+08:00"}`},
		{"silence", app.ViewSilence(filled[storage.Silence]()), `{"id":2,"unit_id":3,"unit":"s4","obligation":"s5","from":"2026-12-01T09:06:00+08:00","until":"2026-12-01T09:07:00+08:00","reason":"s8","actor":"s9"}`},
		{"webhook", app.ViewWebhook(filled[storage.WebhookSubscription]()), `{"id":2,"url":"s3","events":["s6"],"unit":"s8","active":true,"failure_count":10,"disabled_at":"2026-12-01T09:12:00+08:00","disabled_reason":"s14","created_by":"s15","created_at":"2026-12-01T09:16:00+08:00"}`},
		{"webhook delivery", app.ViewWebhookDeliveries([]storage.WebhookDelivery{filled[storage.WebhookDelivery]()})[0], `{"id":2,"subscription_id":3,"event_id":4,"type":"s5","status":"s6","attempts":7,"next_attempt_at":"2026-12-01T09:08:00+08:00","last_status":10,"last_error":"s12","created_at":"2026-12-01T09:13:00+08:00","delivered_at":"2026-12-01T09:15:00+08:00","failed_at":"2026-12-01T09:17:00+08:00"}`},
		{"webhook attempt", app.ViewWebhookAttempts([]storage.WebhookAttemptRow{filled[storage.WebhookAttemptRow]()})[0], `{"delivery_id":2,"event_id":3,"attempt":4,"at":"2026-12-01T09:05:00+08:00","status_code":7,"error":"s9","duration_ms":10}`},
	}
	esc, ack := filled[healthcheck.Escalation](), filled[storage.Ack]()
	esc.Ack = app.ViewAck(&ack)
	cases = append(cases, struct {
		name string
		view any
		want string
	}{"escalation", esc, `{"branch":"s2","branch_name":"s3","group":"s4","obligation":"s5","obligation_name":"s6","period":"s7","due":"2026-12-01T09:08:00+08:00","days_overdue":9,"escalated":true,"ack":{"unit_id":3,"obligation":"s4","period":"s5","person_id":6,"person":"s7","at":"2026-12-01T09:08:00+08:00","planned_on":"2026-12-01T09:10:00+08:00","until":"2026-12-01T09:11:00+08:00"}}`})
	for _, c := range cases {
		got, err := json.Marshal(c.view)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// TestViewsKeepNil: no rows stay null and an empty list stays [], as the
// rows were served.
func TestViewsKeepNil(t *testing.T) {
	if b, _ := json.Marshal(app.ViewClaims(nil)); string(b) != "null" {
		t.Errorf("views of no rows: %s, want null", b)
	}
	if b, _ := json.Marshal(app.ViewClaims([]storage.Claim{})); string(b) != "[]" {
		t.Errorf("views of an empty list: %s, want []", b)
	}
}
