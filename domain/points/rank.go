package points

import (
	"cmp"
	"slices"
)

// RankRow is one household's total for a settlement period.
type RankRow struct {
	Household int64
	Name      string
	Points    int
	// Vetoed households are disqualified from the period's ranking and rewards.
	Vetoed bool
}

// Ranked is a RankRow with its place: 1, 2, 2, 4, …; 0 for a vetoed household.
type Ranked struct {
	RankRow
	Rank int
}

// Rank orders households by points (highest first), then name, then household id, with
// standard competition ranks: equal points share a rank and the next rank skips (1, 2, 2,
// 4). Vetoed households come after all others, in the same order, with rank 0. Names
// compare by code point, not by pinyin. rows is not modified.
func Rank(rows []RankRow) []Ranked {
	out := make([]Ranked, len(rows))
	for i, r := range rows {
		out[i] = Ranked{RankRow: r}
	}
	slices.SortFunc(out, func(a, b Ranked) int {
		if a.Vetoed != b.Vetoed {
			if a.Vetoed {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(b.Points, a.Points), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Household, b.Household))
	})
	for i := range out {
		switch {
		case out[i].Vetoed:
			out[i].Rank = 0
		case i > 0 && !out[i-1].Vetoed && out[i-1].Points == out[i].Points:
			out[i].Rank = out[i-1].Rank
		default:
			out[i].Rank = i + 1
		}
	}
	return out
}
