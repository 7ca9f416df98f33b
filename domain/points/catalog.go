package points

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/domain"
)

// The five categories, in display order.
const (
	CategorySafety   = "平安建设类" // public safety
	CategoryMorality = "道德建设类" // civic virtue
	CategoryVillage  = "乡村建设类" // village building
	CategoryBonus    = "加分项目"  // bonus items
	CategoryVeto     = "否决项目"  // veto items
)

// Categories returns the five categories in display order.
func Categories() []string {
	return []string{CategorySafety, CategoryMorality, CategoryVillage, CategoryBonus, CategoryVeto}
}

// Evidence is what a claim of an item must carry.
type Evidence string

const (
	EvidencePhoto       Evidence = "photo"       // a photo of the deed
	EvidenceWitness     Evidence = "witness"     // a cadre confirms: the review suffices
	EvidenceCertificate Evidence = "certificate" // a photo of a document
	EvidenceNone        Evidence = "none"
)

var evidences = []Evidence{EvidencePhoto, EvidenceWitness, EvidenceCertificate, EvidenceNone}

// Item is one entry of the points catalogue.
type Item struct {
	Code     string
	Category string
	Name     string
	NameEN   string
	// Points per occurrence, per household; negative for a deduction, 0 for a veto item.
	Points int
	// Veto disqualifies the household from the settlement period's ranking and rewards.
	Veto     bool
	Evidence Evidence
	// Caps per household; nil when unlimited.
	Caps []Cap
	// Claimable items may be claimed by villagers; the others are recorded by reviewers.
	Claimable bool
	Aliases   []string
}

// Columns is the catalogue header, in order.
var Columns = []string{"code", "category", "name", "name_en", "points", "veto", "evidence", "cap", "claimable", "aliases"}

const (
	colCode = iota
	colCategory
	colName
	colNameEN
	colPoints
	colVeto
	colEvidence
	colCap
	colClaimable
	colAliases
)

// maxPoints bounds the points of one item, far above any real scheme.
const maxPoints = 10000

var reCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)

// RowError is a fault in a catalogue file (domain.RowError).
type RowError = domain.RowError

// ParseCatalog reads a catalogue in CSV; name is the file name for error messages. See the
// package documentation for the rules. A fault in the file is a *RowError.
func ParseCatalog(r io.Reader, name string) ([]Item, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	var recs []record
	for {
		cells, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RowError{File: name, Row: pe.StartLine, Msg: "malformed CSV: " + pe.Err.Error()}
		}
		if err != nil {
			return nil, fmt.Errorf("points: read %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		recs = append(recs, record{line, cells})
	}
	return parseRecords(recs, name)
}

// ParseRows validates a catalogue read from elsewhere (an XLSX sheet) with the same rules as
// ParseCatalog: header is row 1 and rows[i] is reported as row i+2.
func ParseRows(header []string, rows [][]string, name string) ([]Item, error) {
	recs := make([]record, 0, len(rows)+1)
	recs = append(recs, record{1, header})
	for i, r := range rows {
		recs = append(recs, record{i + 2, r})
	}
	return parseRecords(recs, name)
}

// record is one row of cells and its line number in the file.
type record struct {
	line  int
	cells []string
}

func parseRecords(recs []record, name string) ([]Item, error) {
	if len(recs) == 0 {
		return nil, &RowError{File: name, Row: 1, Msg: fmt.Sprintf("the file is empty; the header must be %q", strings.Join(Columns, ","))}
	}
	if err := checkHeader(recs[0], name); err != nil {
		return nil, err
	}
	var items []Item
	firstLine := map[string]int{} // lower-case code → line
	for _, rec := range recs[1:] {
		cells := trimCells(rec.cells)
		if len(cells) == 0 {
			continue
		}
		if len(cells) > len(Columns) {
			return nil, &RowError{File: name, Row: rec.line, Msg: fmt.Sprintf("has %d cells, expected %d", len(cells), len(Columns))}
		}
		cells = append(cells, make([]string, len(Columns)-len(cells))...)
		it, col, msg := parseItem(cells)
		if msg != "" {
			return nil, &RowError{File: name, Row: rec.line, Column: Columns[col], Msg: msg}
		}
		k := strings.ToLower(it.Code)
		if first, dup := firstLine[k]; dup {
			return nil, &RowError{File: name, Row: rec.line, Column: "code", Msg: fmt.Sprintf("duplicate code %q (first on row %d)", it.Code, first)}
		}
		firstLine[k] = rec.line
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, &RowError{File: name, Row: recs[0].line + 1, Msg: "no items after the header"}
	}
	return items, nil
}

func checkHeader(rec record, name string) error {
	cells := trimCells(rec.cells)
	if len(cells) > 0 {
		cells[0] = strings.TrimPrefix(cells[0], "\uFEFF")
	}
	for i, want := range Columns {
		if i >= len(cells) || !strings.EqualFold(cells[i], want) {
			return &RowError{File: name, Row: rec.line, Column: want,
				Msg: fmt.Sprintf("the header must be %q, found %q", strings.Join(Columns, ","), strings.Join(cells, ","))}
		}
	}
	if len(cells) > len(Columns) {
		return &RowError{File: name, Row: rec.line, Column: cells[len(Columns)],
			Msg: fmt.Sprintf("the header must be %q, found %q", strings.Join(Columns, ","), strings.Join(cells, ","))}
	}
	return nil
}

// trimCells trims every cell and drops trailing empty cells (spreadsheets leave them).
func trimCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.TrimSpace(c)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// parseItem reads one row of exactly len(Columns) trimmed cells. On a fault it returns the
// column index and the message.
func parseItem(c []string) (it Item, col int, msg string) {
	it = Item{Code: c[colCode], Category: c[colCategory], Name: c[colName], NameEN: c[colNameEN]}
	if !reCode.MatchString(it.Code) {
		if it.Code == "" {
			return it, colCode, "must not be empty"
		}
		return it, colCode, fmt.Sprintf("%q is not a valid code (letters, digits, '_' or '-', at most 32)", it.Code)
	}
	if !isCategory(it.Category) {
		return it, colCategory, fmt.Sprintf("%q is not a category; use one of %s", it.Category, strings.Join(Categories(), ", "))
	}
	if it.Name == "" {
		return it, colName, "must not be empty"
	}
	p, err := strconv.Atoi(c[colPoints])
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return it, colPoints, fmt.Sprintf("%q is not a whole number", c[colPoints])
	}
	if err != nil || p < -maxPoints || p > maxPoints {
		return it, colPoints, fmt.Sprintf("%s is out of range (%d to %d)", c[colPoints], -maxPoints, maxPoints)
	}
	it.Points = p
	var ok bool
	if it.Veto, ok = parseBool(c[colVeto]); !ok {
		return it, colVeto, fmt.Sprintf("%q is not true or false", c[colVeto])
	}
	it.Evidence = Evidence(strings.ToLower(c[colEvidence]))
	if !isEvidence(it.Evidence) {
		return it, colEvidence, fmt.Sprintf("%q is not an evidence kind; use one of photo, witness, certificate, none", c[colEvidence])
	}
	if it.Caps, err = ParseCaps(c[colCap]); err != nil {
		return it, colCap, err.Error()
	}
	if it.Claimable, ok = parseBool(c[colClaimable]); !ok {
		return it, colClaimable, fmt.Sprintf("%q is not true or false", c[colClaimable])
	}
	it.Aliases = splitAliases(c[colAliases])

	switch {
	case it.Veto && it.Category != CategoryVeto:
		return it, colCategory, fmt.Sprintf("a veto item must be in %s, not %s", CategoryVeto, it.Category)
	case !it.Veto && it.Category == CategoryVeto:
		return it, colVeto, fmt.Sprintf("items in %s must have veto true", CategoryVeto)
	case it.Veto && it.Points != 0:
		return it, colPoints, fmt.Sprintf("a veto item must have 0 points, found %d", it.Points)
	case !it.Veto && it.Points == 0:
		return it, colPoints, "must not be 0 (only veto items have 0 points)"
	case it.Veto && it.Claimable:
		return it, colClaimable, "a veto item cannot be claimable: only reviewers record it"
	case it.Points < 0 && it.Claimable:
		return it, colClaimable, fmt.Sprintf("a deduction (%d points) cannot be claimable: only reviewers record it", it.Points)
	}
	return it, 0, ""
}

func isCategory(s string) bool {
	for _, c := range Categories() {
		if s == c {
			return true
		}
	}
	return false
}

func isEvidence(e Evidence) bool {
	for _, x := range evidences {
		if e == x {
			return true
		}
	}
	return false
}

func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false", "":
		return false, true
	}
	return false, false
}

// splitAliases splits '|'-separated aliases, trimmed, without empties or repeats.
func splitAliases(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range strings.Split(s, "|") {
		a = strings.TrimSpace(a)
		if a != "" && !seen[key(a)] {
			seen[key(a)] = true
			out = append(out, a)
		}
	}
	return out
}
