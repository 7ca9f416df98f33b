package cli

import (
	"context"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/villagepoints"
)

// `zhibu export ledger` (the points ledger with running balances) and
// `zhibu export claims` (every claim, deduction and veto with its decision).

func exportPointsTable(sheet string, fn func(*app.App, context.Context, domain.Actor, string) (villagepoints.ExportTable, error)) exporterFunc {
	return func(ctx context.Context, a *app.App, o exportOptions) (exportTable, error) {
		t, err := fn(a, ctx, domain.Operator, o.Unit)
		if err != nil {
			return exportTable{}, err
		}
		return exportTable{Sheet: sheet, CSV: t.Keys, XLSX: t.Titles, Rows: t.Rows}, nil
	}
}
