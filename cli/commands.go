package cli

import (
	"context"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/villagepoints"
)

// subcommands is the binary's whole command table (`zhibu help` lists it).
var subcommands = map[string]subcommand{
	"serve":       {"run the HTTP server, bot, scheduler and delivery", runServe},
	"migrate":     {"apply database migrations", runMigrate},
	"import":      {"import units|people|catalog|holidays|goods FILE (CSV or XLSX; all rows or none)", runImport},
	"export":      {"export checkins|lights|ledger|claims|settlements [--unit CODE] [--format csv|xlsx] [--out FILE]", runExport},
	"invite":      {"print fresh bind codes for unlinked people as CSV [--unit CODE]", runInvite},
	"token":       {"create --unit CODE --role ROLE [--expires 30d|2027-01-31]: print a new API token; list [--unit CODE]; revoke ID", runToken},
	"healthcheck": {"evaluate branch lights and send reminders [--at RFC3339] [--dry-run] [--unit CODE] [--json]", runHealthcheck},
	"demo":        {"load the demo county (units, people, linked sandbox accounts) into the database", runDemo},
	"points":      {"catalog --unit CODE FILE|--clear: a unit's own points catalogue; settle [--at T]: close the last periods; publicity [--at T]: post the daily 公示 list", runPoints},
	"integration": {"create --name N --unit CODE [--role admin|secretary]: an inbound integration (prints its secret); list; enable|disable --name N", runIntegration},
	"webhook":     {"create --url U --unit CODE [--events a,b]: an outbound webhook (prints its secret); list [--unit CODE]; delete ID", runWebhook},
	"robot":       {"add --unit CODE --kind wecom|dingtalk|feishu --url URL [--secret S]: a group robot (prints its id); list [--unit CODE]; enable|disable ID", runRobot},
}

// importers maps `zhibu import <what>` to the use case that applies a table.
var importers = map[string]func(a *app.App, ctx context.Context, actor domain.Actor, t *tabular.Table) (app.ImportResult, error){
	"units":    on(accounts.Of, accounts.Service.ImportUnits),
	"people":   on(accounts.Of, accounts.Service.ImportPeople),
	"catalog":  on(villagepoints.Of, villagepoints.Service.ImportCatalog),
	"holidays": on(healthcheck.Of, healthcheck.Service.ImportHolidays),
	"goods":    on(villagepoints.Of, villagepoints.Service.ImportGoods),
}

// exporters maps `zhibu export <what>` to its exporter.
var exporters = map[string]exporterFunc{
	"checkins":    exportCheckins,
	"lights":      exportLights,
	"ledger":      exportPointsTable("积分台账", on(villagepoints.Of, villagepoints.Service.ExportLedger)),
	"claims":      exportPointsTable("积分申报", on(villagepoints.Of, villagepoints.Service.ExportClaims)),
	"settlements": exportPointsTable("积分结算", on(villagepoints.Of, villagepoints.Service.ExportSettlements)),
}

// on turns a use case of a feature's Service into a function of the shared
// *app.App, the form the tables above hold.
func on[S, X, Y, Z, R any](of func(*app.App) S, useCase func(S, X, Y, Z) (R, error)) func(*app.App, X, Y, Z) (R, error) {
	return func(a *app.App, x X, y Y, z Z) (R, error) { return useCase(of(a), x, y, z) }
}
