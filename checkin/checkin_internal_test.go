package checkin

import (
	"strings"
	"testing"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/domain/health"
)

func TestSplitGroup(t *testing.T) {
	var es []command.MatcherEntry
	for _, o := range health.DefaultObligations() {
		es = append(es, command.MatcherEntry{Code: o.Code, Name: o.Name, Aliases: o.Aliases})
	}
	m := command.NewMatcher(es)
	tests := []struct {
		name, in, args, group string
	}{
		{"suffix", "党小组会@第一党小组 11-20", "党小组会 11-20", "第一党小组"},
		{"full-width at", "党小组会＠第一党小组 7/9", "党小组会 7/9", "第一党小组"},
		{"joined", "主题党日+党小组会@G1", "主题党日+党小组会", "G1"},
		{"separate word", "党小组会 @第二党小组 学习", "党小组会 学习", "第二党小组"},
		{"branch first", "QA-B1 小组会@第一", "QA-B1 小组会", "第一"},
		{"e-mail in the topic is no group", "支委会 11-20 联系 a@b.cn", "支委会 11-20 联系 a@b.cn", ""},
		{"bare at", "党小组会@ 11-20", "党小组会@ 11-20", ""},
		{"none", "支委会 11-20", "支委会 11-20", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args, group := splitGroup(strings.Fields(tc.in), m)
			if strings.Join(args, " ") != tc.args || group != tc.group {
				t.Fatalf("got %q %q, want %q %q", args, group, tc.args, tc.group)
			}
		})
	}
}

func TestMatchGroup(t *testing.T) {
	groups := []domain.Unit{{ID: 1, Code: "B2-G1", Name: "第一党小组"}, {ID: 2, Code: "B2-G2", Name: "第二党小组"}}
	tests := []struct {
		word  string
		loose bool
		want  int64
	}{
		{"第一党小组", false, 1},
		{"b2-g2", false, 2},
		{"第一", false, 0},
		{"第一", true, 1},
		{"党小组", true, 0}, // ambiguous
		{"", true, 0},
	}
	for _, tc := range tests {
		g, ok := matchGroup(groups, tc.word, tc.loose)
		if ok != (tc.want != 0) || g.ID != tc.want {
			t.Fatalf("%q loose=%v: got %d %v", tc.word, tc.loose, g.ID, ok)
		}
	}
}

func TestMergeIDs(t *testing.T) {
	if got := strings.Join(mergeIDs([]string{"a", "b"}, []string{"b", "c", ""}), ","); got != "a,b,c" {
		t.Fatalf("merge %q", got)
	}
}
