package points

import (
	"reflect"
	"testing"
)

func TestRank(t *testing.T) {
	rows := []RankRow{
		{Household: 1, Name: "王家", Points: 30},
		{Household: 2, Name: "李家", Points: 50},
		{Household: 3, Name: "张家", Points: 30, Vetoed: true},
		{Household: 4, Name: "赵家", Points: 40},
		{Household: 5, Name: "陈家", Points: 40},
		{Household: 6, Name: "刘家", Points: 90, Vetoed: true},
		{Household: 7, Name: "孙家", Points: 10},
		{Household: 8, Name: "王家", Points: 40}, // same name as 1: by household id
		{Household: 9, Name: "周家", Points: -5},
	}
	type r struct {
		household int64
		rank      int
	}
	var got []r
	for _, x := range Rank(rows) {
		got = append(got, r{x.Household, x.Rank})
	}
	// 40-point names in code-point order: 王 (U+738B) < 赵 (U+8D75) < 陈 (U+9648).
	want := []r{{2, 1}, {8, 2}, {4, 2}, {5, 2}, {1, 5}, {7, 6}, {9, 7}, {6, 0}, {3, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rank = %v\nwant   %v", got, want)
	}
	if rows[0].Household != 1 {
		t.Error("Rank changed its input")
	}
}

func TestRankEdges(t *testing.T) {
	if got := Rank(nil); len(got) != 0 {
		t.Errorf("Rank(nil) = %v", got)
	}
	all := Rank([]RankRow{{Household: 1, Points: 5, Vetoed: true}, {Household: 2, Points: 5, Vetoed: true}})
	for _, x := range all {
		if x.Rank != 0 || !x.Vetoed {
			t.Errorf("all vetoed: %+v", x)
		}
	}
	ties := Rank([]RankRow{{Household: 1, Name: "a"}, {Household: 2, Name: "b"}, {Household: 3, Name: "c"}})
	for _, x := range ties {
		if x.Rank != 1 {
			t.Errorf("all tied at 0: %+v", x)
		}
	}
}
