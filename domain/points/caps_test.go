package points

import (
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseCaps(t *testing.T) {
	tests := []struct {
		in   string
		want []Cap
		err  string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{"1/day;8/month", []Cap{{1, Day}, {8, Month}}, ""},
		{"1/year", []Cap{{1, Year}}, ""},
		{"1/ever", []Cap{{1, Ever}}, ""},
		{"4/quarter", []Cap{{4, Quarter}}, ""},
		{" 1 / Day ；8/MONTH; ", []Cap{{1, Day}, {8, Month}}, ""},
		{"1/week", nil, `cap "1/week": "week" is not a period; use day, month, quarter, year or ever`},
		{"x/day", nil, `cap "x/day": "x" is not a whole number of at least 1`},
		{"0/day", nil, `cap "0/day": "0" is not a whole number of at least 1`},
		{"-1/day", nil, `cap "-1/day": "-1" is not a whole number of at least 1`},
		{"1day", nil, `cap "1day": write N/period, e.g. 1/day or 8/month`},
		{"1/day;2/day", nil, `cap "2/day": the period "day" is already capped`},
		{"1/day/month", nil, `cap "1/day/month": "day/month" is not a period`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCaps(tt.in)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("ParseCaps(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCaps(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	if s := (Cap{8, Month}).String(); s != "8/month" {
		t.Errorf("String = %q", s)
	}
}

func TestCapWindow(t *testing.T) {
	loc := shanghai(t)
	at := func(y int, m time.Month, d, h, mi, s int) time.Time { return time.Date(y, m, d, h, mi, s, 0, loc) }
	tests := []struct {
		name     string
		per      Span
		t        time.Time
		from, to time.Time
	}{
		{"day", Day, at(2026, 11, 20, 23, 59, 59), at(2026, 11, 20, 0, 0, 0), at(2026, 11, 21, 0, 0, 0)},
		{"day given in UTC", Day, time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC), at(2026, 11, 21, 0, 0, 0), at(2026, 11, 22, 0, 0, 0)},
		{"last second of November", Month, at(2026, 11, 30, 23, 59, 59), at(2026, 11, 1, 0, 0, 0), at(2026, 12, 1, 0, 0, 0)},
		{"first second of December", Month, at(2026, 12, 1, 0, 0, 0), at(2026, 12, 1, 0, 0, 0), at(2027, 1, 1, 0, 0, 0)},
		{"first of December is still November in UTC", Month, time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), at(2026, 12, 1, 0, 0, 0), at(2027, 1, 1, 0, 0, 0)},
		{"February of a leap year", Month, at(2028, 2, 29, 12, 0, 0), at(2028, 2, 1, 0, 0, 0), at(2028, 3, 1, 0, 0, 0)},
		{"Q3 last second", Quarter, at(2026, 9, 30, 23, 59, 59), at(2026, 7, 1, 0, 0, 0), at(2026, 10, 1, 0, 0, 0)},
		{"Q4 first second", Quarter, at(2026, 10, 1, 0, 0, 0), at(2026, 10, 1, 0, 0, 0), at(2027, 1, 1, 0, 0, 0)},
		{"Q1", Quarter, at(2026, 3, 31, 8, 0, 0), at(2026, 1, 1, 0, 0, 0), at(2026, 4, 1, 0, 0, 0)},
		{"year", Year, at(2026, 12, 31, 23, 59, 59), at(2026, 1, 1, 0, 0, 0), at(2027, 1, 1, 0, 0, 0)},
		{"ever", Ever, at(2026, 11, 20, 0, 0, 0), time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := Cap{1, tt.per}.Window(tt.t, loc)
			if !from.Equal(tt.from) || !to.Equal(tt.to) {
				t.Errorf("Window(%v) = [%v, %v), want [%v, %v)", tt.t, from, to, tt.from, tt.to)
			}
			if !tt.from.IsZero() && from.Location() != loc {
				t.Errorf("window in %v, want %v", from.Location(), loc)
			}
		})
	}
}

func TestCheckCaps(t *testing.T) {
	loc := shanghai(t)
	at := func(m time.Month, d, h, mi, s int) time.Time { return time.Date(2026, m, d, h, mi, s, 0, loc) }
	times := func(ts ...time.Time) []time.Time { return ts }
	eightInNov := func() []time.Time {
		var ts []time.Time
		for d := 1; d <= 8; d++ {
			ts = append(ts, at(11, d, 9, 0, 0))
		}
		return ts
	}
	patrol := Item{Code: "A01", Caps: []Cap{{1, Day}, {8, Month}}}
	oncePerQuarter := Item{Code: "B01", Caps: []Cap{{1, Quarter}}}
	once := Item{Code: "C05", Caps: []Cap{{1, Ever}}}
	twicePerYear := Item{Code: "D06", Caps: []Cap{{2, Year}}}
	tests := []struct {
		name     string
		item     Item
		existing []time.Time
		at       time.Time
		want     string // the refusal's key and args; "" = allowed
	}{
		{"no caps", Item{Code: "B03"}, eightInNov(), at(11, 9, 9, 0, 0), ""},
		{"first of the day", patrol, nil, at(11, 20, 9, 0, 0), ""},
		{"second of the day", patrol, times(at(11, 20, 0, 0, 0)), at(11, 20, 23, 59, 59), "cap_day max 1 count 1"},
		{"yesterday's last second does not count", patrol, times(at(11, 19, 23, 59, 59)), at(11, 20, 0, 0, 0), ""},
		{"day read in Shanghai, not UTC", patrol, times(time.Date(2026, 11, 19, 16, 30, 0, 0, time.UTC)), at(11, 20, 8, 0, 0), "cap_day max 1 count 1"},
		{"ninth in the month", patrol, eightInNov(), at(11, 30, 23, 59, 59), "cap_month max 8 count 8"},
		{"first second of the next month", patrol, eightInNov(), at(12, 1, 0, 0, 0), ""},
		{"seven in the month", patrol, eightInNov()[1:], at(11, 30, 10, 0, 0), ""},
		{"quarter: last second of Q3 counts for Q3 only", oncePerQuarter, times(at(9, 30, 23, 59, 59)), at(10, 1, 0, 0, 0), ""},
		{"quarter: same quarter", oncePerQuarter, times(at(10, 1, 0, 0, 0)), at(12, 31, 23, 59, 59), "cap_quarter max 1 count 1"},
		{"year", twicePerYear, times(at(1, 1, 0, 0, 0), at(6, 1, 0, 0, 0)), at(12, 31, 23, 59, 59), "cap_year max 2 count 2"},
		{"year: last year's do not count", twicePerYear, times(time.Date(2025, 12, 31, 23, 59, 59, 0, loc), at(6, 1, 0, 0, 0)), at(12, 31, 0, 0, 0), ""},
		{"ever: first", once, nil, at(11, 20, 0, 0, 0), ""},
		{"ever: years later", once, times(time.Date(2019, 5, 1, 0, 0, 0, 0, loc)), at(11, 20, 0, 0, 0), "cap_total max 1 count 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CheckCaps(tt.item, tt.existing, tt.at, loc)
			switch {
			case tt.want == "" && r != nil:
				t.Errorf("refused: %s", r)
			case tt.want != "" && r == nil:
				t.Errorf("allowed, want %q", tt.want)
			case r != nil && (refusalText(r) != tt.want || r.Reason != ReasonCap):
				t.Errorf("refusal %+v, want %q", r, tt.want)
			}
		})
	}
}

func TestSameDayAndDuplicate(t *testing.T) {
	loc := shanghai(t)
	a := time.Date(2026, 11, 20, 15, 59, 59, 0, time.UTC) // 23:59:59 on the 20th in Shanghai
	b := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)   // 00:00 on the 21st in Shanghai
	c := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	if SameDay(a, b, loc) {
		t.Error("23:59:59 and 00:00 of the next day in Shanghai are different days")
	}
	if !SameDay(a, c, loc) {
		t.Error("both are on the 20th in Shanghai")
	}
	if !SameDay(a, b, time.UTC) {
		t.Error("both are on the 20th in UTC")
	}
	if r := CheckDuplicate([]time.Time{c}, a, loc); r == nil || r.Reason != ReasonDuplicate || refusalText(r) != "duplicate" {
		t.Errorf("CheckDuplicate = %+v", r)
	}
	if r := CheckDuplicate([]time.Time{a}, b, loc); r != nil {
		t.Errorf("the next day is no duplicate: %+v", r)
	}
}

func TestEvidence(t *testing.T) {
	tests := []struct {
		ev      Evidence
		needs   bool
		refusal string // without a photo
	}{
		{EvidencePhoto, true, "evidence_photo"},
		{EvidenceCertificate, true, "evidence_certificate"},
		{EvidenceWitness, false, ""},
		{EvidenceNone, false, ""},
	}
	for _, tt := range tests {
		it := Item{Evidence: tt.ev}
		if NeedsPhoto(it) != tt.needs {
			t.Errorf("NeedsPhoto(%s) = %v", tt.ev, !tt.needs)
		}
		if r := CheckEvidence(it, true); r != nil {
			t.Errorf("%s with a photo refused: %s", tt.ev, r)
		}
		var got string
		if r := CheckEvidence(it, false); r != nil {
			got = refusalText(r)
			if r.Reason != ReasonEvidence {
				t.Errorf("%s: reason %q", tt.ev, r.Reason)
			}
		}
		if got != tt.refusal {
			t.Errorf("%s without a photo: %q, want %q", tt.ev, got, tt.refusal)
		}
	}
}

func TestCheckClaim(t *testing.T) {
	loc := shanghai(t)
	items := DefaultCatalog()
	byCode := map[string]Item{}
	for _, it := range items {
		byCode[it.Code] = it
	}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	earlier := now.Add(-2 * time.Hour)
	tests := []struct {
		name     string
		code     string
		existing []time.Time
		photo    bool
		want     Reason
	}{
		{"ok", "A01", nil, true, ""},
		{"deduction", "A07", nil, true, ReasonNotClaimable},
		{"veto", "E01", nil, true, ReasonNotClaimable},
		{"no photo", "A01", nil, false, ReasonEvidence},
		{"witness without photo", "A02", nil, false, ""},
		{"duplicate before cap", "A01", []time.Time{earlier}, true, ReasonDuplicate},
		{"duplicate on an uncapped item", "B03", []time.Time{earlier}, false, ReasonDuplicate},
		{"ever cap", "C05", []time.Time{now.AddDate(-1, 0, 0)}, true, ReasonCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CheckClaim(byCode[tt.code], tt.existing, now, loc, tt.photo)
			var got Reason
			if r != nil {
				got = r.Reason
			}
			if got != tt.want {
				t.Errorf("CheckClaim(%s) = %+v, want reason %q", tt.code, r, tt.want)
			}
		})
	}
	if r := CheckClaim(byCode["A07"], nil, now, loc, true); refusalText(r) != "not_claimable item 焚烧秸秆/违规野外用火" {
		t.Errorf("message %q", r)
	}
}

// refusalText is a refusal's key and its args, as the tests write them.
func refusalText(r *Refusal) string {
	return strings.TrimSpace(r.Key + " " + strings.Join(r.Args, " "))
}
