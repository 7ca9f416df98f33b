package health

import (
	"testing"
	"time"
	_ "time/tzdata"
)

// shanghai loads Asia/Shanghai from the embedded zone database, so tests
// pass with TZ=UTC and without system zone files.
func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatalf("load Asia/Shanghai: %v", err)
	}
	return loc
}

// at builds an instant in loc.
func at(loc *time.Location, y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, loc)
}

func obligation(t testing.TB, code string) Obligation {
	t.Helper()
	for _, ob := range DefaultObligations() {
		if ob.Code == code {
			return ob
		}
	}
	t.Fatalf("no default obligation %q", code)
	return Obligation{}
}
