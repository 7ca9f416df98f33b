package cli

// zhibu export <what> [--unit CODE] [--format csv|xlsx] [--out FILE]
//
// Writes one table: CSV with an English snake_case header row (the default,
// to stdout), or XLSX with Chinese headers (--format xlsx, or an --out file
// ending in .xlsx). --unit limits it to a unit's subtree.
//
// Adding an export: a line in the exporters table (cli/commands.go) and, in
// cli/<feature>.go,
//
//	func exportLights(ctx context.Context, a *app.App, o exportOptions) (exportTable, error) {
//		return exportTable{
//			Sheet:  "红黄绿灯",
//			CSV:    []string{"branch_code", "obligation", "period", "light"},
//			XLSX:   []string{"支部", "规定动作", "期间", "灯"},
//			Rows:   rows,     // [][]any, one value per CSV column
//			XLSXRows: nil,    // optional: other cells for the XLSX (else Rows)
//		}, nil
//	}
//
// Cell values: string, int, int64, bool, time.Time, *int, *string (nil is an
// empty cell). CSV writes bools as true/false and times as RFC 3339 in the
// configured zone; XLSX writes bools as 是/否 and times as "2006-01-02
// 15:04:05" in that zone, numbers as numbers.

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
)

// exportOptions are the flags every exporter gets.
type exportOptions struct {
	Unit string    // unit code whose subtree to export; "" = everything
	At   time.Time // the command's "now", for exports as of an instant
}

// exportTable is what an exporter returns.
type exportTable struct {
	Sheet    string   // XLSX sheet name
	CSV      []string // CSV header, English snake_case
	XLSX     []string // XLSX header, Chinese
	Rows     [][]any  // CSV rows (and XLSX rows unless XLSXRows is set)
	XLSXRows [][]any  // XLSX rows when they differ from Rows (columns of XLSX)
}

type exporterFunc func(ctx context.Context, a *app.App, o exportOptions) (exportTable, error)

func exporterNames() string {
	names := make([]string, 0, len(exporters))
	for n := range exporters {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

func runExport(ctx context.Context, env Env, args []string) error {
	f := newFlags("export", env)
	unit := f.String("unit", "", "export only this unit's subtree (unit code)")
	format := f.String("format", "", "csv or xlsx (default: xlsx when --out ends in .xlsx, else csv)")
	out := f.String("out", "", "write to this file instead of stdout")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: zhibu export %s [--unit CODE] [--format csv|xlsx] [--out FILE]", exporterNames())
	}
	exp, ok := exporters[pos[0]]
	if !ok {
		return usagef("cannot export %q: use %s", pos[0], exporterNames())
	}
	kind := strings.ToLower(strings.TrimSpace(*format))
	if kind == "" {
		kind = "csv"
		if strings.HasSuffix(strings.ToLower(*out), ".xlsx") {
			kind = "xlsx"
		}
	}
	if kind != "csv" && kind != "xlsx" {
		return usagef("--format %q: use csv or xlsx", *format)
	}
	return withApp(ctx, f, func(a *app.App) error {
		t, err := exp(ctx, a, exportOptions{Unit: strings.TrimSpace(*unit), At: env.clock().Now()})
		if err != nil {
			return err
		}
		var w io.Writer = env.Stdout
		var file *os.File
		if *out != "" {
			if file, err = os.Create(*out); err != nil {
				return fmt.Errorf("%s: %w", *out, err)
			}
			w = file
		}
		if kind == "xlsx" {
			err = writeXLSX(w, t, a.Loc)
		} else {
			err = writeCSV(w, t, a.Loc)
		}
		if file != nil {
			if cerr := file.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(*out)
			}
		}
		if err != nil {
			return fmt.Errorf("export %s: %w", pos[0], err)
		}
		return nil
	})
}

func writeCSV(w io.Writer, t exportTable, loc *time.Location) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.CSV); err != nil {
		return err
	}
	rec := make([]string, len(t.CSV))
	for _, r := range t.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(r) {
				rec[i] = csvCell(r[i], loc)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return csvText(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case *int:
		if x == nil {
			return ""
		}
		return strconv.Itoa(*x)
	case *string:
		if x == nil {
			return ""
		}
		return csvText(*x)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.In(loc).Format(time.RFC3339)
	case *time.Time:
		if x == nil {
			return ""
		}
		return x.In(loc).Format(time.RFC3339)
	}
	if reflect.ValueOf(v).Kind() == reflect.String {
		return csvText(fmt.Sprint(v))
	}
	return fmt.Sprint(v)
}

// csvText neutralises a text cell that a spreadsheet would run as a formula
// (SPEC §7.5): one starting with =, +, -, @, tab or CR gets a leading '.
// Only text goes through here; numbers the writer formats itself (points
// like -5) stay numbers.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func xlsxCell(v any, loc *time.Location) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			return "是"
		}
		return "否"
	case *int:
		if x == nil {
			return nil
		}
		return *x
	case *string:
		if x == nil {
			return nil
		}
		return *x
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return x.In(loc).Format(time.DateTime)
	case *time.Time:
		if x == nil {
			return nil
		}
		return x.In(loc).Format(time.DateTime)
	}
	return v
}

func writeXLSX(w io.Writer, t exportTable, loc *time.Location) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t.Sheet
	if sheet == "" {
		sheet = "Sheet1"
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, max(1, len(t.XLSX)), 14); err != nil {
		return err
	}
	header := make([]any, len(t.XLSX))
	for i, h := range t.XLSX {
		header[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{}); err != nil {
		return err
	}
	rows := t.XLSXRows
	if rows == nil {
		rows = t.Rows
	}
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = xlsxCell(v, loc)
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

// Headers of the check-in ledger (台账). Columns after reject_reason are
// additions for people correcting the ledger: the check-in id (for /reject)
// and whether it is an extra record of a period already done.
var (
	checkinCSVHeader = []string{"unit_path", "branch_code", "branch_name", "obligation", "period", "date",
		"present", "total", "topic", "evidence_count", "recorded_by", "recorded_at", "on_time",
		"withdrawn", "rejected", "reject_reason", "checkin_id", "extra"}
	checkinXLSXHeader = []string{"单位", "支部", "规定动作", "期间", "日期", "应到", "实到", "主题", "佐证材料数",
		"记录人", "记录时间", "是否按时", "是否撤回", "是否驳回", "驳回理由", "打卡编号", "是否补充记录"}
)

// exportCheckins is the check-in ledger: one row per (check-in, obligation),
// per party group for 党小组会; unit_path ends with the unit the row counts
// for (the branch or the party group).
func exportCheckins(ctx context.Context, a *app.App, o exportOptions) (exportTable, error) {
	lines, err := checkin.Of(a).CheckinLedger(ctx, domain.Operator, o.Unit)
	if err != nil {
		return exportTable{}, err
	}
	t := exportTable{Sheet: "打卡台账", CSV: checkinCSVHeader, XLSX: checkinXLSXHeader}
	for _, l := range lines {
		reason := ""
		if l.RejectReason != nil {
			reason = *l.RejectReason
		}
		t.Rows = append(t.Rows, []any{l.UnitPath, l.BranchCode, l.BranchName, l.Obligation, l.Period, l.HeldOn,
			l.Present, l.Total, l.Topic, l.EvidenceCount, l.RecordedByName, l.RecordedAt, !l.Late,
			l.WithdrawnAt != nil, l.RejectedAt != nil, reason, l.CheckinID, l.Extra})
		period := l.Period
		if p, err := health.ParsePeriod(l.Period); err == nil {
			period = p.Label()
		}
		if l.Late {
			period += "（补开）" // held or recorded after its due time: never shown as on time
		}
		name := l.ObligationName
		if l.UnitKind == "group" {
			name += "（" + l.UnitName + "）"
		}
		t.XLSXRows = append(t.XLSXRows, []any{l.UnitPath, l.BranchName, name, period, l.HeldOn,
			l.Total, l.Present, l.Topic, l.EvidenceCount, l.RecordedByName, l.RecordedAt, !l.Late,
			l.WithdrawnAt != nil, l.RejectedAt != nil, reason, l.CheckinID, l.Extra})
	}
	return t, nil
}
