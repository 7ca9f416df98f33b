package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
)

func TestParseTokenExpiry(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	// The last day of a year, late in the evening: "tomorrow" is next year.
	now := time.Date(2026, 12, 31, 23, 30, 0, 0, loc)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"30d", now.Add(30 * 24 * time.Hour)},
		{"12h", now.Add(12 * time.Hour)},
		{" 1d ", now.Add(24 * time.Hour)},
		{"2026-12-31", time.Date(2027, 1, 1, 0, 0, 0, 0, loc)}, // through today
		{"2027-01-31", time.Date(2027, 2, 1, 0, 0, 0, 0, loc)},
	} {
		got, err := domain.ParseTokenExpiry(c.in, now, loc)
		if err != nil || got == nil || !got.Equal(c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
	}
	if got, err := domain.ParseTokenExpiry("", now, loc); got != nil || err != nil {
		t.Errorf("empty: %v %v, want never", got, err)
	}
	for in, want := range map[string]string{
		"0d": "必须大于零", "-3d": "必须大于零", "30": "写法不对", "30m": "写法不对", "d": "写法不对", "+3d": "写法不对",
		"2026-12-30": "已经过去", "2027-02-30": "写法不对", "99999d": "太长", "2040-01-01": "太长", "9999999999999999999h": "写法不对",
	} {
		_, err := domain.ParseTokenExpiry(in, now, loc)
		var ue *domain.UserError
		if !errors.As(err, &ue) || !errors.Is(err, domain.ErrInvalid) || !strings.Contains(ue.Msg, want) || !strings.Contains(ue.Msg, strings.TrimSpace(in)) {
			t.Errorf("%q: %v, want a refusal saying %q", in, err, want)
		}
	}
}
