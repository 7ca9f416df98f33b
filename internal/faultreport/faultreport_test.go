package faultreport

import (
	"fmt"
	"testing"
	"time"

	"github.com/zhibu/zhibu/internal/tgfake"
)

func TestTallyCountsLostAndDuplicated(t *testing.T) {
	msgs := []tgfake.Message{
		{ChatID: 1, Text: "a"}, {ChatID: 1, Text: "a"}, {ChatID: 1, Text: "a"}, // a: two extra copies
		{ChatID: 2, Text: "a"},                             // another chat's copy is not a's
		{ChatID: 3, Text: "red"}, {ChatID: 3, Text: "red"}, // red: one extra copy
		{ChatID: 4, Text: "b"},
		{ChatID: 6, Text: "c"}, {ChatID: 6, Text: "c"}, // c: owed three times, one short
	}
	wants := []Want{{Chat: 1, Text: "a"}, {Chat: 3, Text: "red", Red: true}, {Chat: 4, Text: "b"}, {Chat: 5, Text: "gone"}, {Chat: 1, Text: "b"},
		{Chat: 6, Text: "c", Times: 3}}
	got := Tally("x", msgs, wants, 910*time.Millisecond)
	want := Summary{Fault: "x", Lost: 3, Duplicated: 2, RedDuplicated: 1, Takeover: 910 * time.Millisecond}
	if got != want {
		t.Fatalf("Tally = %+v, want %+v", got, want)
	}
	if s := got.String(); s != "fault=x lost=3 duplicated=2 red_duplicated=1 takeover=0.91s" {
		t.Fatalf("String = %q", s)
	}
	if s := (Summary{Fault: "y", Takeover: NoTakeover}).String(); s != "fault=y lost=0 duplicated=0 red_duplicated=0 takeover=none" {
		t.Fatalf("String without a take-over = %q", s)
	}
	if s := (Summary{Fault: "z", Takeover: NoTakeover, Extra: "acked=3"}).String(); s != "fault=z lost=0 duplicated=0 red_duplicated=0 takeover=none acked=3" {
		t.Fatalf("String with a case's own figures = %q", s)
	}
}

// recorder is a testing.TB that keeps its errors.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()    {}
func (r *recorder) Log(...any) {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestReportFailsEachBrokenPromise(t *testing.T) {
	for _, c := range []struct {
		s    Summary
		errs int
	}{
		{Summary{Fault: "ok", Duplicated: 1, Takeover: time.Second}, 0},
		{Summary{Fault: "ok", Takeover: NoTakeover}, 0},
		{Summary{Fault: "lost", Lost: 1, Takeover: NoTakeover}, 1},
		{Summary{Fault: "red", RedDuplicated: 1, Takeover: NoTakeover}, 1},
		{Summary{Fault: "dups", Duplicated: 2, Takeover: NoTakeover}, 1},
		{Summary{Fault: "slow", Takeover: 16 * time.Second}, 1},
	} {
		r := &recorder{TB: t}
		Report(r, c.s, 1)
		if len(r.errs) != c.errs {
			t.Errorf("%+v: errors %q, want %d", c.s, r.errs, c.errs)
		}
	}
}
