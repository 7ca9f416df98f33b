package command

import (
	"testing"
	"time"
)

// Dates ahead resolve forward (issue 15 item 6), on any day: 10 November, the last day
// of a quarter, 31 December.
func TestParseFutureDate(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 15, 0, 0, 0, cst) }
	for _, tc := range []struct {
		now  time.Time
		in   string
		want string // "" = not read
	}{
		{at(2026, 11, 10), "11-20", "2026-11-20"},
		{at(2026, 11, 10), "11月20日", "2026-11-20"},
		{at(2026, 11, 10), "11.20", "2026-11-20"},
		{at(2026, 11, 10), "11/20", "2026-11-20"},
		{at(2026, 11, 25), "11-20", "2027-11-20"},
		{at(2026, 11, 10), "11-10", "2026-11-10"},
		{at(2026, 11, 10), "2026-12-31", "2026-12-31"},
		{at(2026, 11, 10), "2025-12-31", "2025-12-31"}, // as written; the caller refuses it
		{at(2026, 11, 20), "5号", "2026-12-05"},
		{at(2026, 11, 20), "25号", "2026-11-25"},
		{at(2026, 11, 20), "20日", "2026-11-20"},
		{at(2026, 12, 20), "5号", "2027-01-05"},
		{at(2026, 11, 5), "31号", "2026-12-31"}, // November has no 31st
		{at(2026, 12, 31), "1-3", "2027-01-03"},
		{at(2026, 12, 31), "12月31日", "2026-12-31"},
		{at(2026, 12, 31), "明天", "2027-01-01"},
		{at(2026, 11, 26), "后天", "2026-11-28"},
		{at(2026, 11, 26), "大后天", "2026-11-29"},
		{at(2026, 11, 26), "今天", "2026-11-26"},
		{at(2026, 11, 26), "下周五", "2026-12-04"}, // a Thursday: next week's Friday
		{at(2026, 11, 29), "下周一", "2026-11-30"}, // a Sunday
		{at(2026, 11, 26), "本周五", "2026-11-27"},
		{at(2026, 11, 26), "月底", "2026-11-30"},
		{at(2026, 9, 30), "本月底", "2026-09-30"},
		{at(2026, 12, 10), "下月底", "2027-01-31"},
		{at(2026, 11, 26), "下个月底", "2026-12-31"},
		{at(2026, 11, 26), "2月底", "2027-02-28"},
		{at(2026, 11, 26), "年底", "2026-12-31"},
		{at(2026, 11, 26), "２０２６年１２月１日", "2026-12-01"},
		{at(2026, 11, 26), "2月30日", ""},
		{at(2026, 11, 26), "13月底", ""},
		{at(2026, 11, 26), "防汛", ""},
	} {
		d, ok := ParseFutureDate(tc.in, tc.now, cst)
		got := ""
		if ok {
			got = d.Format("2006-01-02")
			if d.Hour() != 0 || d.Location() != cst {
				t.Errorf("%s on %s: %v is not 00:00 in loc", tc.in, tc.now.Format("01-02"), d)
			}
		}
		if got != tc.want {
			t.Errorf("%q on %s = %q, want %q", tc.in, tc.now.Format("2006-01-02"), got, tc.want)
		}
	}
}

func TestParseFutureRange(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, cst)
	for _, tc := range []struct{ in, from, to string }{
		{"11-30", "", "2026-11-30"},
		{"11月28日至12月5日", "2026-11-28", "2026-12-05"},
		{"12-01~12-05", "2026-12-01", "2026-12-05"},
		{"明天到下周五", "2026-11-27", "2026-12-04"},
		{"12月28日至1月3日", "2026-12-28", "2027-01-03"},
		{"今天至月底", "2026-11-26", "2026-11-30"},
		{"12月5日至12月1日", "-", "-"},
		{"防汛至抢险", "-", "-"},
	} {
		from, to, ok := ParseFutureRange(tc.in, now, cst)
		f, e := "-", "-"
		if ok {
			f, e = "", to.Format("2006-01-02")
			if !from.IsZero() {
				f = from.Format("2006-01-02")
			}
		}
		if f != tc.from || e != tc.to {
			t.Errorf("%q = %s..%s, want %s..%s", tc.in, f, e, tc.from, tc.to)
		}
	}
}
