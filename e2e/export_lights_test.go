package e2e

import (
	"encoding/csv"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// zhibu export lights writes the lights as of the command's clock (SPEC §5.1).
func TestExportLights(t *testing.T) {
	h := ciStart(t) // 2026-11-26 10:00 Shanghai: November's 支委会 is in its yellow window
	h.reply(h.b2, li, "/checkin 支委会 11-25 7/9 学习", "打卡成功")

	out := h.mustCLI("export", "lights", "--unit", "QA-RZ-XZ")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "branch_code,branch_name,group_code,group_name,obligation,period,light" {
		t.Fatalf("header %s", got)
	}
	find := func(branch, ob string) []string {
		for _, r := range recs[1:] {
			if r[0] == branch && r[4] == ob {
				return r
			}
		}
		t.Fatalf("no %s %s row in\n%s", branch, ob, out)
		return nil
	}
	if r := find("QA-RZ-XZ-B2", "committee_meeting"); r[1] != "幸福村第二党支部" || r[5] != "2026-11" || r[6] != "green" {
		t.Errorf("checked-in branch row %v", r)
	}
	if r := find("QA-RZ-XZ-B1", "committee_meeting"); r[5] != "2026-11" || r[6] != "yellow" {
		t.Errorf("branch without a check-in %v", r)
	}
	if r := find("QA-RZ-XZ-B1", "general_meeting"); r[5] != "2026-Q4" {
		t.Errorf("quarterly row %v", r)
	}

	// XLSX: Chinese headers, names and labels, no internal codes.
	path := filepath.Join(t.TempDir(), "灯.xlsx")
	h.mustCLI("export", "lights", "--unit", "QA-RZ-XZ", "--out", path)
	rows := readXLSX(t, path)
	if strings.Join(rows[0], ",") != "支部,党小组,规定动作,期间,灯" || len(rows) != len(recs) {
		t.Fatalf("xlsx header %v, %d rows vs %d", rows[0], len(rows), len(recs))
	}
	if !slices.ContainsFunc(rows[1:], func(r []string) bool {
		return len(r) == 5 && r[0] == "幸福村第二党支部" && r[2] == "支部委员会" && r[3] == "2026年11月" && r[4] == "绿灯"
	}) {
		t.Errorf("xlsx lacks the green 支委会 row: %v", rows)
	}
	for _, r := range rows[1:] {
		for _, c := range r {
			if strings.Contains(c, "QA-") || strings.Contains(c, "_") || strings.Contains(c, "-Q") {
				t.Fatalf("xlsx shows an internal code: %v", r)
			}
		}
	}
}
