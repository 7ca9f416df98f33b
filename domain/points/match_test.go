package points

import (
	"reflect"
	"testing"
)

func codes(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Code)
	}
	return out
}

func TestMatch(t *testing.T) {
	all := DefaultCatalog()
	claimable := Claimable(all)
	tests := []struct {
		name       string
		items      []Item
		query      string
		exact      string
		candidates []string
	}{
		{"code", all, "A01", "A01", nil},
		{"code lower-case", all, "b03", "B03", nil},
		{"code full-width", all, "Ｃ０５", "C05", nil},
		{"exact name", all, "孝老爱亲", "B01", nil},
		{"exact alias", all, "巡逻", "A01", nil},
		{"exact alias beats a name containing it", all, "反诈", "A04", nil},
		{"exact alias of a deduction", all, "酒驾", "A09", nil},
		{"deduction hidden from villagers", claimable, "酒驾", "", nil},
		{"veto hidden from villagers", claimable, "E01", "", nil},
		{"sentence containing an alias", all, "今天捡到钱包交给村委", "B04", nil},
		{"alias then a note", all, "巡逻 今晚和邻居一起", "A01", nil},
		{"code then a note", all, "C03 清雪 修路", "C03", nil},
		{"several aliases of one item", claimable, "义务劳动清雪", "C03", nil},
		{"part of a name", all, "见义勇", "D03", nil},
		{"ambiguous word ranks in catalogue order", all, "老人", "", []string{"B01", "B05", "B08"}},
		{"ambiguous for villagers", claimable, "老人", "", []string{"B01", "B05"}},
		{"longer overlap first", claimable, "安装反诈软件", "", []string{"A05", "A04"}},
		{"equal overlaps in catalogue order", claimable, "防火值守", "", []string{"A01", "A06"}},
		{"single rune does not match by substring", all, "孝", "", nil},
		{"nothing", all, "唱歌跳舞", "", nil},
		{"empty", all, "  ", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Match(tt.items, tt.query)
			got := ""
			if r.Exact != nil {
				got = r.Exact.Code
			}
			if got != tt.exact || !reflect.DeepEqual(codes(r.Candidates), tt.candidates) {
				t.Errorf("Match(%q) = exact %q, candidates %v; want %q, %v", tt.query, got, codes(r.Candidates), tt.exact, tt.candidates)
			}
			if r.Exact != nil && r.Candidates != nil {
				t.Error("both an exact match and candidates")
			}
		})
	}
}

func TestMatchSharedAliasAndLimit(t *testing.T) {
	var items []Item
	for _, c := range []string{"X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8", "X9", "X10"} {
		items = append(items, Item{Code: c, Name: "项目" + c, Aliases: []string{"共享"}, Claimable: true})
	}
	r := Match(items[:2], "共享")
	if r.Exact != nil || !reflect.DeepEqual(codes(r.Candidates), []string{"X1", "X2"}) {
		t.Errorf("shared alias: %+v", r)
	}
	r = Match(items, "共享")
	if len(r.Candidates) != MaxCandidates || r.Candidates[0].Code != "X1" {
		t.Errorf("limit: %v", codes(r.Candidates))
	}
	r = Match(items, "项目")
	if len(r.Candidates) != MaxCandidates {
		t.Errorf("limit on partial matches: %v", codes(r.Candidates))
	}
}

func TestMatchExactIsACopy(t *testing.T) {
	items := DefaultCatalog()
	r := Match(items, "A01")
	r.Exact.Name = "changed"
	if items[0].Name == "changed" {
		t.Error("Match returned a pointer into the caller's slice")
	}
}
