// Package clock is the one source of "now" in zhibu. Every rule that depends
// on time takes the instant as input; whatever reads the current instant gets
// it from a clockwork.Clock handed down from here (the wall clock in
// production, a fake one in tests), so that a test lives on the day it says
// and passes on the last day of a quarter and on 1 January alike.
//
// TestNoWallClock (clock_test.go) fails when code outside this package reads
// time.Now; what only measures elapsed time or paces sends uses Monotonic.
package clock

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// Clock is the injectable source of the current instant.
type Clock = clockwork.Clock

// Real is the wall clock.
func Real() Clock { return clockwork.NewRealClock() }

// Monotonic reads the wall clock for measuring elapsed time, pacing sends,
// leases and signature timestamps only: never for a date or a period.
func Monotonic() time.Time { return time.Now() }
