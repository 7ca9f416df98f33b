package domain

import (
	"strconv"
	"strings"
	"time"
)

// MaxTokenLifetime bounds `zhibu token create --expires`.
const MaxTokenLifetime = 10 * 366 * 24 * time.Hour

// ParseTokenExpiry reads `zhibu token create --expires`: a lifetime in
// days or hours ("30d", "12h") counted from now, or the last day the token
// works ("2027-01-31", through the end of that day in loc). It returns the
// first instant the token no longer works; "" is nil (never expires). A
// lifetime that is not positive, longer than ten years, or a day already
// over is refused.
func ParseTokenExpiry(s string, now time.Time, loc *time.Location) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	bad := Refuse(ErrInvalid, textExpiryForm, s)
	var at time.Time
	if day, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		at = day.AddDate(0, 0, 1)
		if !at.After(now) {
			return nil, Refuse(ErrInvalid, textExpiryPast, s)
		}
	} else {
		unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour}[s[len(s)-1]]
		n, err := strconv.Atoi(s[:len(s)-1])
		if unit == 0 || err != nil || strings.HasPrefix(s, "+") {
			return nil, bad
		}
		if n <= 0 {
			return nil, Refuse(ErrInvalid, textExpiryPositive, s)
		}
		if int64(n) > int64(MaxTokenLifetime/unit) {
			return nil, Refuse(ErrInvalid, textExpiryTooLong, s)
		}
		at = now.Add(time.Duration(n) * unit)
	}
	if at.Sub(now) > MaxTokenLifetime {
		return nil, Refuse(ErrInvalid, textExpiryTooLong, s)
	}
	return &at, nil
}
