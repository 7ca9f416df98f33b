package e2e

import (
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/zhibu/zhibu/cli"
)

func cliRun(h *H, args, env []string, out, errw io.Writer) int {
	return cli.Run(h.Ctx, args, cli.Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: errw, Environ: env, Clock: h.Clock})
}

func writeXLSX(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		for j, v := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// readXLSX returns the rows of the first sheet of the workbook at path.
func readXLSX(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
