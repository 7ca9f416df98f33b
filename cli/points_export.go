package cli

import (
	"context"

	"github.com/zhibu/zhibu/app"
)

// `zhibu export ledger` (the points ledger with running balances) and
// `zhibu export claims` (every claim, deduction and veto with its decision).

func exportPointsTable(sheet string, fn func(*app.App, context.Context, string) (app.ExportTable, error)) exporterFunc {
	return func(ctx context.Context, a *app.App, o exportOptions) (exportTable, error) {
		t, err := fn(a, ctx, o.Unit)
		if err != nil {
			return exportTable{}, err
		}
		return exportTable{Sheet: sheet, CSV: t.Keys, XLSX: t.Titles, Rows: t.Rows}, nil
	}
}
