package points

import (
	"errors"
	"testing"
	"time"
)

func TestBalance(t *testing.T) {
	loc := shanghai(t)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	entries := []Entry{
		{ID: 1, Household: 7, Points: 5, EffectiveAt: t0},
		{ID: 2, Household: 7, Points: 2, EffectiveAt: t0.AddDate(0, 0, 3)},
		{ID: 3, Household: 7, Points: -3, EffectiveAt: t0.Add(time.Hour)},
	}
	entries = append(entries, Reverse(entries[0], t0.AddDate(0, 0, 1)))
	tests := []struct {
		at            time.Time
		want, pending int
	}{
		{t0.Add(-time.Nanosecond), 0, -1}, // nothing effective: +5 +2 -3 -5 in publicity
		{t0, 5, -6},
		{t0.Add(time.Hour), 2, -3},
		{t0.AddDate(0, 0, 1), -3, 2}, // the +5 is reversed
		{t0.AddDate(0, 0, 3), -1, 0},
	}
	for _, tt := range tests {
		if got := Balance(entries, tt.at); got != tt.want {
			t.Errorf("Balance at %v = %d, want %d", tt.at, got, tt.want)
		}
		if got := Pending(entries, tt.at); got != tt.pending {
			t.Errorf("Pending at %v = %d, want %d", tt.at, got, tt.pending)
		}
	}
	if r := entries[3]; r.Reverses != 1 || r.Points != -5 || r.Household != 7 || r.ID != 0 {
		t.Errorf("Reverse = %+v", r)
	}
}

func TestEffectiveAt(t *testing.T) {
	loc := shanghai(t)
	approved := time.Date(2026, 11, 30, 15, 4, 5, 0, time.UTC) // 23:04:05 on 11-30 in Shanghai
	tests := []struct {
		days int
		want time.Time
	}{
		{0, approved},
		{-1, approved},
		{1, time.Date(2026, 12, 1, 23, 4, 5, 0, loc)},
		{3, time.Date(2026, 12, 3, 23, 4, 5, 0, loc)},
		{31, time.Date(2026, 12, 31, 23, 4, 5, 0, loc)},
	}
	for _, tt := range tests {
		if got := EffectiveAt(approved, tt.days, loc); !got.Equal(tt.want) {
			t.Errorf("EffectiveAt(+%d) = %v, want %v", tt.days, got, tt.want)
		}
	}
	// Same wall-clock time even across a daylight-saving change.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
	if got := EffectiveAt(before, 3, ny); got.Hour() != 12 || got.Day() != 10 {
		t.Errorf("across DST: %v", got)
	}
}

func TestCanRedeem(t *testing.T) {
	tests := []struct {
		balance, amount int
		want            string
		reason          Reason
	}{
		{20, 20, "", ""},
		{21, 1, "", ""},
		{12, 20, "balance balance 12 amount 20", ReasonBalance},
		{-5, 1, "balance balance -5 amount 1", ReasonBalance},
		{12, 0, "amount", ReasonAmount},
		{12, -3, "amount", ReasonAmount},
	}
	for _, tt := range tests {
		err := CanRedeem(tt.balance, tt.amount)
		if tt.want == "" {
			if err != nil {
				t.Errorf("CanRedeem(%d, %d) = %v", tt.balance, tt.amount, err)
			}
			continue
		}
		var r *Refusal
		if !errors.As(err, &r) || refusalText(r) != tt.want || r.Reason != tt.reason {
			t.Errorf("CanRedeem(%d, %d) = %v, want %q", tt.balance, tt.amount, err, tt.want)
		}
	}
}
