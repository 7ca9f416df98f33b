// Package faultreport is the fault suite's scorecard (issue #17, SPEC
// §7.7): from the messages the fake Bot API recorded during one fault it
// counts what was expected but never delivered (lost) and what was
// delivered more than once (duplicated, red supervision notices apart),
// prints one summary line in a fixed format and checks the promises:
//
//	fault=kill9-leader lost=0 duplicated=1 red_duplicated=0 takeover=0.91s
//
// takeover is the time from the fault to another replica leading, or
// "none" in a case without a take-over. `go test ./e2e ./outbox -run Fault
// -count=1 -v -p 1` runs every case (docs/SCALING.md, BENCHMARKS.md).
package faultreport

import (
	"fmt"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/tgfake"
)

// MaxTakeover bounds a take-over (SPEC §7.7: a dead leader's messages go
// out within 15 s of it; the suite asks the take-over itself to be as
// quick).
const MaxTakeover = 15 * time.Second

// NoTakeover marks a case in which no other replica takes over.
const NoTakeover time.Duration = -1

// Want is one message the fault must not lose: its chat and its text as
// sent. Red marks a red supervision notice, which must never arrive twice.
// Times is how often the text is owed to the chat (0 counts as 1: a reply
// to each of several updates may read the same).
type Want struct {
	Chat  int64
	Text  string
	Red   bool
	Times int
}

// Summary is the outcome of one fault case.
type Summary struct {
	Fault         string
	Lost          int // wanted messages never delivered
	Duplicated    int // extra copies of wanted messages other than red notices
	RedDuplicated int // extra copies of red notices
	Takeover      time.Duration
	// Extra is a case's own figures (key=value, space-separated), appended
	// to the line.
	Extra string
}

// Tally counts msgs (what the fake Bot API recorded) against wants.
func Tally(fault string, msgs []tgfake.Message, wants []Want, takeover time.Duration) Summary {
	s := Summary{Fault: fault, Takeover: takeover}
	for _, w := range wants {
		n := 0
		for _, m := range msgs {
			if m.ChatID == w.Chat && m.Text == w.Text {
				n++
			}
		}
		owed := max(w.Times, 1)
		switch {
		case n < owed:
			s.Lost += owed - n
		case w.Red:
			s.RedDuplicated += n - owed
		default:
			s.Duplicated += n - owed
		}
	}
	return s
}

// String is the summary line.
func (s Summary) String() string {
	to := "none"
	if s.Takeover >= 0 {
		to = fmt.Sprintf("%.2fs", s.Takeover.Seconds())
	}
	line := fmt.Sprintf("fault=%s lost=%d duplicated=%d red_duplicated=%d takeover=%s",
		s.Fault, s.Lost, s.Duplicated, s.RedDuplicated, to)
	if s.Extra != "" {
		line += " " + s.Extra
	}
	return line
}

// Report logs the summary line and fails t unless nothing was lost, no red
// notice arrived twice, at most maxDuplicated other copies arrived and a
// take-over, if any, came within MaxTakeover.
func Report(t testing.TB, s Summary, maxDuplicated int) {
	t.Helper()
	t.Log(s.String())
	if s.Lost != 0 {
		t.Errorf("%s: %d message(s) lost, want 0", s.Fault, s.Lost)
	}
	if s.RedDuplicated != 0 {
		t.Errorf("%s: %d extra copies of red notices, want none (a red notice never twice)", s.Fault, s.RedDuplicated)
	}
	if s.Duplicated > maxDuplicated {
		t.Errorf("%s: %d duplicated message(s), want at most %d", s.Fault, s.Duplicated, maxDuplicated)
	}
	if s.Takeover > MaxTakeover {
		t.Errorf("%s: take-over after %s, want within %s", s.Fault, s.Takeover, MaxTakeover)
	}
}
