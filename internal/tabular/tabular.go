// Package tabular reads the CSV and XLSX files operators import, as a header
// and rows of trimmed strings, and names bad cells by file, row and column.
package tabular

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/zhibu/zhibu/domain"
)

// RowError names the file, the 1-based row (the header is row 1) and the
// column of a bad cell (domain.RowError).
type RowError = domain.RowError

// Table is a file's header and data rows. Rows[i] is file row i+2.
type Table struct {
	File   string
	Header []string
	Rows   [][]string
}

// Cell returns row i's value in column col ("" when the row is short).
func (t *Table) Cell(i int, col string) string {
	for j, h := range t.Header {
		if h == col {
			if j < len(t.Rows[i]) {
				return t.Rows[i][j]
			}
			return ""
		}
	}
	return ""
}

// Err builds a RowError for data row i.
func (t *Table) Err(i int, col, format string, args ...any) error {
	return &RowError{File: t.File, Row: i + 2, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// RequireHeader checks that the header is exactly want, in order.
func (t *Table) RequireHeader(want ...string) error {
	if strings.Join(t.Header, ",") != strings.Join(want, ",") {
		return &RowError{File: t.File, Row: 1, Msg: fmt.Sprintf("header must be %q, got %q", strings.Join(want, ","), strings.Join(t.Header, ","))}
	}
	return nil
}

// ReadFile reads a .csv or .xlsx file (the first sheet).
func ReadFile(path string) (*Table, error) {
	name := filepath.Base(path)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return ReadCSV(f, name)
	case ".xlsx":
		return readXLSX(path, name)
	default:
		return nil, fmt.Errorf("%s: unsupported file type (use .csv or .xlsx)", name)
	}
}

// ReadCSV reads CSV; a UTF-8 byte order mark (as Excel writes) is skipped.
func ReadCSV(r io.Reader, name string) (*Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RowError{File: name, Row: pe.Line, Msg: pe.Err.Error()}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return build(records, name)
}

func readXLSX(path, name string) (*Table, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable XLSX file: %w", name, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%s: the workbook has no sheet", name)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return build(rows, name)
}

func build(records [][]string, name string) (*Table, error) {
	if len(records) == 0 {
		return nil, &RowError{File: name, Row: 1, Msg: "the file is empty; a header row is required"}
	}
	t := &Table{File: name}
	for i, h := range records[0] {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		t.Header = append(t.Header, strings.ToLower(h))
	}
	for i, r := range records[1:] {
		empty := true
		row := make([]string, len(r))
		for j, c := range r {
			row[j] = strings.TrimSpace(c)
			if row[j] != "" {
				empty = false
			}
			if msg := badCell(row[j]); msg != "" {
				col := ""
				if j < len(t.Header) {
					col = t.Header[j]
				}
				return nil, &RowError{File: name, Row: i + 2, Column: col, Msg: msg}
			}
		}
		if empty {
			// Keep row numbering: an empty row stays as an empty slot.
			row = nil
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// MaxCellLen bounds any cell; importers bound their own fields tighter.
const MaxCellLen = 1000

// badCell says what no importer can store: NUL, or a cell beyond MaxCellLen.
func badCell(s string) string {
	if strings.ContainsRune(s, 0) {
		return "contains a NUL character"
	}
	if utf8.RuneCountInString(s) > MaxCellLen {
		return fmt.Sprintf("is longer than %d characters", MaxCellLen)
	}
	return ""
}

// Blank reports whether data row i is empty (skipped by importers).
func (t *Table) Blank(i int) bool { return t.Rows[i] == nil }
