package villagepoints

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/internal/tabular"
)

// CatalogFor returns the points catalogue that applies to a unit (normally a
// village): the newest import for the unit itself or the nearest unit above
// it (a county's or a village's own catalogue), else the deployment-wide
// import (`zhibu import catalog FILE`), else the file named by
// points.catalog, else the built-in 39-item catalogue. unitID 0 skips the
// unit scopes.
func (a Service) CatalogFor(ctx context.Context, unitID int64) ([]points.Item, error) {
	if unitID != 0 {
		items, _, err := a.db().CatalogFor(ctx, unitID)
		if err == nil {
			return items, nil
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
	} else {
		items, err := a.db().GlobalCatalog(ctx)
		if err == nil {
			return items, nil
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
	}
	if path := a.Cfg.Points.Catalog; path != "" {
		t, err := tabular.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("points.catalog: %w", err)
		}
		items, err := points.ParseRows(t.Header, t.Rows, filepath.Base(path))
		if err != nil {
			return nil, fmt.Errorf("points.catalog: %w", err)
		}
		return items, nil
	}
	return points.DefaultCatalog(), nil
}

// CheckCatalogConfig reads the file named by points.catalog, if any, so that
// a bad file stops `serve` at start instead of failing the first claim.
func CheckCatalogConfig(path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("points.catalog: %w", err)
	}
	t, err := tabular.ReadFile(path)
	if err != nil {
		return fmt.Errorf("points.catalog: %w", err)
	}
	if _, err := points.ParseRows(t.Header, t.Rows, filepath.Base(path)); err != nil {
		return fmt.Errorf("points.catalog: %w", err)
	}
	return nil
}

// ImportCatalog validates a catalogue file (header
// code,category,name,name_en,points,veto,evidence,cap,claimable,aliases) and
// stores it as the deployment-wide catalogue: every row or none. Created
// counts codes new to the scope, Updated codes it had before.
func (a Service) ImportCatalog(ctx context.Context, actor domain.Actor, t *tabular.Table) (app.ImportResult, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "import.catalog"); err != nil {
		return app.ImportResult{File: t.File}, err
	}
	return a.importCatalog(ctx, nil, t)
}

// ImportUnitCatalog stores a catalogue for one unit's subtree: a county's
// own, or a village's override of the county's.
func (a Service) ImportUnitCatalog(ctx context.Context, actor domain.Actor, unitCode string, t *tabular.Table) (app.ImportResult, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "import.catalog"); err != nil {
		return app.ImportResult{File: t.File}, err
	}
	u, err := a.db().UnitByCode(ctx, unitCode)
	if err != nil {
		return app.ImportResult{File: t.File}, err
	}
	return a.importCatalog(ctx, &u, t)
}

func (a Service) importCatalog(ctx context.Context, unit *domain.Unit, t *tabular.Table) (app.ImportResult, error) {
	res := app.ImportResult{File: t.File}
	items, err := points.ParseRows(t.Header, t.Rows, t.File)
	if err != nil {
		return res, err
	}
	err = a.InTx(ctx, func(a *app.App) error {
		var before []points.Item
		var unitID *int64
		scope := "*"
		if unit != nil {
			unitID, scope = &unit.ID, unit.Code
			before, err = Of(a).CatalogFor(ctx, unit.ID)
		} else {
			before, err = Of(a).CatalogFor(ctx, 0)
		}
		if err != nil {
			return err
		}
		had := map[string]bool{}
		for _, it := range before {
			had[it.Code] = true
		}
		for _, it := range items {
			if had[it.Code] {
				res.Updated++
			} else {
				res.Created++
			}
		}
		res.Rows = len(items)
		id, err := Of(a).db().SaveCatalog(ctx, unitID, t.File, items)
		if err != nil {
			return err
		}
		return a.Audit(ctx, domain.Operator, "import.catalog", t.File, true,
			map[string]any{"scope": scope, "version": id, "items": len(items)})
	})
	return res, err
}

// ClearUnitCatalog drops a unit's own catalogue: it inherits again.
func (a Service) ClearUnitCatalog(ctx context.Context, actor domain.Actor, unitCode string) error {
	if err := a.AuthoriseGlobal(ctx, actor, access.ImportData, "import.catalog"); err != nil {
		return err
	}
	u, err := a.db().UnitByCode(ctx, unitCode)
	if err != nil {
		return err
	}
	return a.InTx(ctx, func(a *app.App) error {
		if err := Of(a).db().ClearCatalog(ctx, u.ID); err != nil {
			return err
		}
		return a.Audit(ctx, domain.Operator, "catalog.clear", u.Code, true, nil)
	})
}

// CatalogForActor is the catalogue of the actor's village (the first unit
// they hold a role in), else the deployment-wide one.
func (a Service) CatalogForActor(ctx context.Context, actor domain.Actor) ([]points.Item, error) {
	for _, r := range actor.Roles {
		if r.UnitKind == domain.KindVillage || r.UnitKind == domain.KindCommunity {
			return a.CatalogFor(ctx, r.UnitID)
		}
	}
	if len(actor.Roles) > 0 {
		return a.CatalogFor(ctx, actor.Roles[0].UnitID)
	}
	return a.CatalogFor(ctx, 0)
}
