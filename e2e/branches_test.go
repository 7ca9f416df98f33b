package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/zhibu/zhibu/internal/testdb"
)

// What each branch owes (SPEC §7.1): the units import's branch columns,
// shown by the API, decide which obligations the health check charges.
func TestBranchAttributesImportAPIAndHealthcheck(t *testing.T) {
	loc := testdb.Loc
	fc := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 10, 0, 0, 0, loc))
	h := start(t, withClock(fc))
	h.Env = append(h.Env, "ZHIBU_HEALTHCHECK_START=2026-10-01")
	h.seed()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// B2 is small (5 members: no committee), meets on the first Friday and
	// its committee's term ends in March; HX-B1 is an enterprise branch.
	out := h.mustCLI("import", "units", write("attrs.csv", "code,name,kind,parent_code,members,theme_day,term_end,branch_type\n"+
		"QA-RZ-XZ-B2,幸福村第二党支部,branch,QA-RZ-XZ,5,第一个周五,2027-03-31,\n"+
		"QA-DB-HX-B1,和兴村党支部,branch,QA-DB-HX,,,,企业\n"))
	if !strings.Contains(out, "0 created, 2 updated") {
		t.Fatalf("import: %q", out)
	}
	// A bad value: refused naming row, column and value; nothing imported.
	_, errs, code := h.cli("import", "units", write("bad.csv", "code,name,kind,parent_code,members\n"+
		"QA-RZ-XZ-B1,幸福村第一党支部,branch,QA-RZ-XZ,9\nQA-RZ-XZ-B2,幸福村第二党支部,branch,QA-RZ-XZ,五\n"))
	if code != 1 || !strings.Contains(errs, `bad.csv: row 3, column "members": 正式党员数“五”无效`) {
		t.Fatalf("bad members: exit %d, %q", code, errs)
	}

	org := h.token("QA", "organiser")
	code, res := h.api("GET", "/api/v1/units", org, nil)
	if code != 200 {
		t.Fatalf("units: %d %v", code, res)
	}
	branches := map[string]map[string]any{}
	for _, u := range res["units"].([]any) {
		u := u.(map[string]any)
		if b, ok := u["branch"].(map[string]any); ok {
			branches[u["code"].(string)] = b
		} else if u["kind"] == "branch" {
			t.Fatalf("branch %v without its attributes", u)
		}
	}
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for code, want := range map[string]string{
		"QA-RZ-XZ-B1": `{"branch_type":"village","committee":true,"has_groups":false}`,
		"QA-RZ-XZ-B2": `{"branch_type":"village","committee":false,"has_groups":false,"members":5,"term_end":"2027-03-31","theme_weekday":"first-fri"}`,
		"QA-DB-HX-B1": `{"branch_type":"enterprise","committee":true,"has_groups":false}`,
	} {
		if got := j(branches[code]); got != want {
			t.Errorf("%s: %s, want %s", code, got, want)
		}
	}

	// The health check: B2 owes no 支委会 and no 党小组会 (no groups anywhere
	// here), its term reminder is yellow; B1 owes the 支委会.
	out = h.mustCLI("healthcheck", "--json", "--dry-run")
	var hc struct {
		Lights  []struct{ Branch, Obligation, Period, Light string } `json:"lights"`
		Digests []struct{ Person, Text string }
	}
	if err := json.Unmarshal([]byte(out), &hc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	have := map[string]bool{}
	for _, l := range hc.Lights {
		have[l.Branch+" "+l.Obligation] = true
		have[l.Branch+" "+l.Obligation+" "+l.Period+" "+l.Light] = true
	}
	if have["QA-RZ-XZ-B2 committee_meeting"] || have["QA-RZ-XZ-B1 group_meeting"] || have["QA-RZ-XZ-B2 group_meeting"] {
		t.Error("a committee or group meeting is charged to a branch without a committee or groups")
	}
	for _, l := range []string{"QA-RZ-XZ-B1 committee_meeting 2026-11 yellow", "QA-RZ-XZ-B2 term_end 2027 yellow",
		"QA-RZ-XZ-B2 dues 2026-10 red", "QA-RZ-XZ-B2 heart_talk 2026 green", "QA-RZ-XZ-B2 secretary_lecture 2026 green"} {
		if !have[l] {
			t.Errorf("no light %s", l)
		}
	}
	if have["QA-RZ-XZ-B1 term_end"] {
		t.Error("a term reminder without a term end")
	}
	var liText string
	for _, d := range hc.Digests {
		if d.Person == "李书记" {
			liText += d.Text
		}
	}
	if !strings.Contains(liText, "支部委员会任期将于2027年3月31日届满，请及时换届") {
		t.Errorf("李书记's digest lacks the term reminder:\n%s", liText)
	}
}
