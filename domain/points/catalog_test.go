package points

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

const header = "code,category,name,name_en,points,veto,evidence,cap,claimable,aliases\n"

func TestDefaultCatalog(t *testing.T) {
	items := DefaultCatalog()
	if len(items) != 39 {
		t.Fatalf("%d items, want 39", len(items))
	}
	count := map[string]int{}
	for _, it := range items {
		count[it.Category]++
	}
	want := []int{9, 9, 9, 7, 5}
	for i, c := range Categories() {
		if count[c] != want[i] {
			t.Errorf("%s: %d items, want %d", c, count[c], want[i])
		}
	}
	a01 := items[0]
	wantA01 := Item{
		Code: "A01", Category: CategorySafety, Name: "参加治安巡逻/护村队值守", NameEN: "joins village patrol shift",
		Points: 2, Evidence: EvidencePhoto, Caps: []Cap{{1, Day}, {8, Month}}, Claimable: true,
		Aliases: []string{"巡逻", "护村", "值守"},
	}
	if !reflect.DeepEqual(a01, wantA01) {
		t.Errorf("A01 = %#v\nwant %#v", a01, wantA01)
	}
	e01 := items[34]
	if e01.Code != "E01" || !e01.Veto || e01.Points != 0 || e01.Claimable || e01.Category != CategoryVeto {
		t.Errorf("E01 = %#v", e01)
	}

	// Each call is a copy the caller may change.
	items[0].Caps[0].N = 99
	items[0].Aliases[0] = "changed"
	items[1].Name = "changed"
	again := DefaultCatalog()
	if again[0].Caps[0].N != 1 || again[0].Aliases[0] != "巡逻" || again[1].Name == "changed" {
		t.Error("DefaultCatalog shares state between calls")
	}
}

// The shipped copy is the published 39-item sample byte for byte: its
// checksum was taken from the sample when it was copied in, so an accidental
// edit fails here without the test reading anything outside the repository.
func TestDefaultCatalogIsTheSample(t *testing.T) {
	const sampleSHA256 = "4afecba5fd787178c86d44a31fa18290ce002a0e4bde79ee28414258dbd361f3"
	sum := sha256.Sum256([]byte(defaultCatalogCSV))
	if got := hex.EncodeToString(sum[:]); got != sampleSHA256 {
		t.Errorf("default_catalog.csv has sha256 %s, the sample %s: the shipped catalogue was edited", got, sampleSHA256)
	}
}

func TestParseCatalogForms(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"BOM", "\uFEFF" + header + "A01,平安建设类,巡逻,,2,false,photo,1/day,true,巡逻\n"},
		{"CRLF", strings.ReplaceAll(header+"A01,平安建设类,巡逻,,2,false,photo,1/day,true,巡逻\n", "\n", "\r\n")},
		{"spaces and case", " Code , CATEGORY,name,name_en,points,veto,evidence,cap,claimable,aliases \n A01 , 平安建设类 , 巡逻 ,, 2 , FALSE , Photo , 1/day , True , 巡逻 \n"},
		{"blank and short rows", header + "\n,,,,,,,,,\nA01,平安建设类,巡逻,,2,false,photo,1/day,true,巡逻\n"},
		{"quoted", header + `A01,平安建设类,"巡逻, 值守",,2,false,photo,1/day,true,巡逻` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ParseCatalog(strings.NewReader(tt.in), "c.csv")
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Code != "A01" || items[0].Points != 2 || items[0].Evidence != EvidencePhoto || !items[0].Claimable {
				t.Errorf("items = %#v", items)
			}
		})
	}
}

func TestParseCatalogOptionalCells(t *testing.T) {
	items, err := ParseCatalog(strings.NewReader(header+"B03,道德建设类,红白喜事简办,,5,,witness,,true,\nA07,平安建设类,焚烧秸秆,,-10,false,photo,,,\n"), "c.csv")
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Caps != nil || items[0].Aliases != nil || items[0].Veto {
		t.Errorf("B03 = %#v", items[0])
	}
	if items[1].Claimable {
		t.Error("empty claimable must read as false")
	}
}

func TestParseCatalogErrors(t *testing.T) {
	const ok = "A01,平安建设类,巡逻,patrol,2,false,photo,1/day,true,巡逻\n"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `c.csv: row 1: the file is empty; the header must be "code,category,name,name_en,points,veto,evidence,cap,claimable,aliases"`},
		{"header only", header, `c.csv: row 2: no items after the header`},
		{"wrong header", "code,category,name,points\n" + ok, `c.csv: row 1, column "name_en": the header must be "code,category,name,name_en,points,veto,evidence,cap,claimable,aliases", found "code,category,name,points"`},
		{"extra header column", strings.TrimSuffix(header, "\n") + ",note\n" + ok, `c.csv: row 1, column "note": the header must be`},
		{"points not a number", header + ok + "A02,平安建设类,调解,,abc,false,witness,2/month,true,调解\n", `c.csv: row 3, column "points": "abc" is not a whole number`},
		{"points out of range", header + "A02,平安建设类,调解,,20000,false,witness,,true,\n", `c.csv: row 2, column "points": 20000 is out of range (-10000 to 10000)`},
		{"points overflow", header + "A02,平安建设类,调解,,99999999999999999999,false,witness,,true,\n", `c.csv: row 2, column "points": 99999999999999999999 is out of range`},
		{"duplicate code", header + ok + "\na01,平安建设类,又一个,,2,false,photo,,true,\n", `c.csv: row 4, column "code": duplicate code "a01" (first on row 2)`},
		{"missing code", header + ",平安建设类,巡逻,,2,false,photo,,true,\n", `c.csv: row 2, column "code": must not be empty`},
		{"bad code", header + "A 01,平安建设类,巡逻,,2,false,photo,,true,\n", `c.csv: row 2, column "code": "A 01" is not a valid code`},
		{"unknown category", header + "A01,治安类,巡逻,,2,false,photo,,true,\n", `c.csv: row 2, column "category": "治安类" is not a category; use one of 平安建设类, 道德建设类, 乡村建设类, 加分项目, 否决项目`},
		{"missing name", header + "A01,平安建设类,,,2,false,photo,,true,\n", `c.csv: row 2, column "name": must not be empty`},
		{"bad veto", header + "A01,平安建设类,巡逻,,2,no,photo,,true,\n", `c.csv: row 2, column "veto": "no" is not true or false`},
		{"unknown evidence", header + "A01,平安建设类,巡逻,,2,false,video,,true,\n", `c.csv: row 2, column "evidence": "video" is not an evidence kind; use one of photo, witness, certificate, none`},
		{"missing evidence", header + "A01,平安建设类,巡逻,,2,false,,,true,\n", `c.csv: row 2, column "evidence": "" is not an evidence kind`},
		{"bad cap", header + "A01,平安建设类,巡逻,,2,false,photo,1/day;2/week,true,\n", `c.csv: row 2, column "cap": cap "2/week": "week" is not a period; use day, month, quarter, year or ever`},
		{"bad claimable", header + "A01,平安建设类,巡逻,,2,false,photo,,yes,\n", `c.csv: row 2, column "claimable": "yes" is not true or false`},
		{"veto outside its category", header + "A01,平安建设类,巡逻,,0,true,photo,,false,\n", `c.csv: row 2, column "category": a veto item must be in 否决项目, not 平安建设类`},
		{"veto category without veto", header + "E01,否决项目,违法,,0,false,certificate,,false,\n", `c.csv: row 2, column "veto": items in 否决项目 must have veto true`},
		{"veto with points", header + "E01,否决项目,违法,,-50,true,certificate,,false,\n", `c.csv: row 2, column "points": a veto item must have 0 points, found -50`},
		{"zero points", header + "A01,平安建设类,巡逻,,0,false,photo,,true,\n", `c.csv: row 2, column "points": must not be 0 (only veto items have 0 points)`},
		{"claimable veto", header + "E01,否决项目,违法,,0,true,certificate,,true,\n", `c.csv: row 2, column "claimable": a veto item cannot be claimable: only reviewers record it`},
		{"claimable deduction", header + "A07,平安建设类,烧秸秆,,-10,false,photo,,true,\n", `c.csv: row 2, column "claimable": a deduction (-10 points) cannot be claimable: only reviewers record it`},
		{"too many cells", header + strings.TrimSuffix(ok, "\n") + ",extra\n", `c.csv: row 2: has 11 cells, expected 10`},
		{"bad quoting", header + ok + "A02,\"平安建设类,调解\n", `c.csv: row 3: malformed CSV: extraneous or missing " in quoted-field`},
		{"line numbers after a multi-line cell", header + "A01,平安建设类,\"巡逻\n值守\",,2,false,photo,,true,\nA02,平安建设类,调解,,x,false,witness,,true,\n", `c.csv: row 4, column "points": "x" is not a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ParseCatalog(strings.NewReader(tt.in), "c.csv")
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("ParseCatalog = %v, %v; want a *RowError", items, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n %s\nwant it to start with\n %s", err, tt.want)
			}
		})
	}
}

func TestRowErrorFormat(t *testing.T) {
	e := &RowError{File: "points-sample.csv", Row: 7, Column: "points", Msg: `"abc" is not a whole number`}
	if got, want := e.Error(), `points-sample.csv: row 7, column "points": "abc" is not a whole number`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	e = &RowError{Row: 3, Msg: "has 11 cells, expected 10"}
	if got, want := e.Error(), `row 3: has 11 cells, expected 10`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseCatalogReadError(t *testing.T) {
	_, err := ParseCatalog(iotest.ErrReader(errors.New("disk gone")), "c.csv")
	var re *RowError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("err = %v, want the read error wrapped, not a *RowError", err)
	}
}

// Rows from a spreadsheet: trailing empty cells are trimmed by the reader, and rows[i] is row i+2.
func TestParseRows(t *testing.T) {
	head := strings.Split(strings.TrimSpace(header), ",")
	rows := [][]string{
		{"A01", "平安建设类", "巡逻", "", "2", "FALSE", "photo", "1/day;8/month", "TRUE", "巡逻|值守"},
		{"B03", "道德建设类", "红白喜事简办", "", "5", "FALSE", "witness", "", "TRUE"},
		{},
		{"A07", "平安建设类", "焚烧秸秆", "", "-10", "FALSE", "photo"},
	}
	items, err := ParseRows(append(head, "", ""), rows, "sheet.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[1].Aliases != nil || items[2].Claimable || len(items[0].Caps) != 2 {
		t.Errorf("items = %#v", items)
	}
	rows = append(rows, []string{"A08", "平安建设类", "打架", "", "-5", "FALSE", "witness", "", "maybe"})
	_, err = ParseRows(head, rows, "sheet.xlsx")
	if got, want := err.Error(), `sheet.xlsx: row 6, column "claimable": "maybe" is not true or false`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
