package points

import (
	"strconv"
	"time"
)

// Entry is one line of a household's append-only points ledger. A correction is a new
// entry reversing an earlier one (see Reverse), never an update.
type Entry struct {
	ID          int64
	Household   int64
	Points      int
	EffectiveAt time.Time
	// Reverses is the ID of the entry this one cancels; 0 when none.
	Reverses int64
}

// Balance sums the points of the entries effective at or before at.
func Balance(entries []Entry, at time.Time) int {
	sum := 0
	for _, e := range entries {
		if !e.EffectiveAt.After(at) {
			sum += e.Points
		}
	}
	return sum
}

// Pending sums the points of the entries not yet effective at at: those in publicity.
func Pending(entries []Entry, at time.Time) int {
	sum := 0
	for _, e := range entries {
		if e.EffectiveAt.After(at) {
			sum += e.Points
		}
	}
	return sum
}

// Reverse returns the entry that cancels e, effective at at. The caller assigns its ID.
func Reverse(e Entry, at time.Time) Entry {
	return Entry{Household: e.Household, Points: -e.Points, EffectiveAt: at, Reverses: e.ID}
}

// EffectiveAt is when points approved at approvedAt take effect: publicityDays calendar days
// later at the same wall-clock time in loc (12-01 15:04 + 3 days = 12-04 15:04), or at once
// when publicityDays is 0 or less.
func EffectiveAt(approvedAt time.Time, publicityDays int, loc *time.Location) time.Time {
	if publicityDays <= 0 {
		return approvedAt
	}
	if loc == nil {
		loc = time.UTC
	}
	return approvedAt.In(loc).AddDate(0, 0, publicityDays)
}

// CanRedeem refuses a redemption of amount points from balance that is not a positive
// amount or would leave the balance below zero. The refusal is a *Refusal.
func CanRedeem(balance, amount int) error {
	if amount < 1 {
		return &Refusal{ReasonAmount, "amount", nil}
	}
	if balance-amount < 0 {
		return &Refusal{ReasonBalance, "balance", []string{"balance", strconv.Itoa(balance), "amount", strconv.Itoa(amount)}}
	}
	return nil
}
