package cli

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"
)

// SPEC §7.5: text cells that a spreadsheet would run as formulas get a
// leading ', numbers stay numbers.
func TestWriteCSVNeutralisesFormulas(t *testing.T) {
	note := "@SUM(A1)"
	pts := -5
	tab := exportTable{
		CSV:  []string{"topic", "note", "points", "points_ptr", "plain", "tab", "cr", "plus", "minus"},
		Rows: [][]any{{`=HYPERLINK("http://x","y")`, &note, -5, &pts, "学习", "\tx", "\rx", "+1", "-1"}},
	}
	var buf bytes.Buffer
	if err := writeCSV(&buf, tab, time.UTC); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`'=HYPERLINK("http://x","y")`, "'@SUM(A1)", "-5", "-5", "学习", "'\tx", "'\rx", "'+1", "'-1"}
	for i, w := range want {
		if recs[1][i] != w {
			t.Errorf("%s: got %q, want %q", recs[0][i], recs[1][i], w)
		}
	}
}
