package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
)

// SaveCatalog stores a new catalogue version for a scope: unitID nil is the
// deployment-wide catalogue, else the unit's own (it applies to the unit's
// subtree). Run it inside InTx so that a catalogue is stored whole or not at
// all. It returns the version id.
func (s *Store) SaveCatalog(ctx context.Context, unitID *int64, file string, items []points.Item) (int64, error) {
	id, err := getValue[int64](ctx, s, "save catalogue", `INSERT INTO point_catalogs (unit_id, file) VALUES ($1, $2) RETURNING id`, unitID, file)
	if err != nil {
		return 0, err
	}
	for i, it := range items {
		caps := make([]string, len(it.Caps))
		for j, c := range it.Caps {
			caps[j] = c.String()
		}
		aliases := it.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		if err := exec(ctx, s, "save catalogue item "+it.Code, `
			INSERT INTO point_items (catalog_id, position, code, category, name, name_en, points, veto, evidence, caps, claimable, aliases)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			id, i, it.Code, it.Category, it.Name, it.NameEN, it.Points, it.Veto, string(it.Evidence), strings.Join(caps, ";"), it.Claimable, pq.StringArray(aliases)); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// ClearCatalog drops a unit's own catalogue: the unit falls back to the one
// above it. The versions stay as a record.
func (s *Store) ClearCatalog(ctx context.Context, unitID int64) error {
	return exec(ctx, s, "clear catalogue", `INSERT INTO point_catalogs (unit_id, cleared) VALUES ($1, true)`, unitID)
}

// CatalogSource says which stored catalogue applies to a unit.
type CatalogSource struct {
	ID     int64  `db:"id"`
	UnitID *int64 `db:"unit_id"`
	File   string `db:"file"`
}

// CatalogFor returns the catalogue that applies to unitID: the newest
// version of the nearest scope on the unit's path (itself first, then its
// ancestors, then the deployment-wide one), skipping scopes whose newest
// version clears them. It is domain.ErrNotFound when none was imported.
func (s *Store) CatalogFor(ctx context.Context, unitID int64) ([]points.Item, CatalogSource, error) {
	src, err := getOne[CatalogSource](ctx, s, fmt.Sprintf("catalogue for unit %d", unitID), `
		WITH latest AS (
			SELECT DISTINCT ON (c.unit_id) c.id, c.unit_id, c.file, c.cleared
			FROM point_catalogs c
			WHERE c.unit_id IS NULL OR c.unit_id = ANY (SELECT unnest(path) FROM units WHERE id = $1)
			ORDER BY c.unit_id, c.id DESC
		)
		SELECT l.id, l.unit_id, l.file FROM latest l
		LEFT JOIN units u ON u.id = $1
		WHERE NOT l.cleared
		ORDER BY COALESCE(array_position(u.path, l.unit_id), 0) DESC
		LIMIT 1`, unitID)
	if err != nil {
		return nil, src, err
	}
	items, err := s.catalogItems(ctx, src.ID)
	return items, src, err
}

// GlobalCatalog returns the deployment-wide catalogue, domain.ErrNotFound
// when none was imported.
func (s *Store) GlobalCatalog(ctx context.Context) ([]points.Item, error) {
	id, err := getOne[int64](ctx, s, "deployment-wide catalogue", `SELECT id FROM point_catalogs WHERE unit_id IS NULL AND NOT cleared ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return nil, err
	}
	return s.catalogItems(ctx, id)
}

func (s *Store) catalogItems(ctx context.Context, catalogID int64) ([]points.Item, error) {
	var rows []struct {
		Code      string         `db:"code"`
		Category  string         `db:"category"`
		Name      string         `db:"name"`
		NameEN    string         `db:"name_en"`
		Points    int            `db:"points"`
		Veto      bool           `db:"veto"`
		Evidence  string         `db:"evidence"`
		Caps      string         `db:"caps"`
		Claimable bool           `db:"claimable"`
		Aliases   pq.StringArray `db:"aliases"`
	}
	err := sqlxSelect(ctx, s, &rows, `
		SELECT code, category, name, name_en, points, veto, evidence, caps, claimable, aliases
		FROM point_items WHERE catalog_id = $1 ORDER BY position`, catalogID)
	if err != nil {
		return nil, fmt.Errorf("storage: catalogue %d: %w", catalogID, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("storage: catalogue %d has no items: %w", catalogID, domain.ErrNotFound)
	}
	items := make([]points.Item, len(rows))
	for i, r := range rows {
		caps, err := points.ParseCaps(r.Caps)
		if err != nil {
			return nil, fmt.Errorf("storage: catalogue %d item %s: %w", catalogID, r.Code, err)
		}
		var aliases []string
		if len(r.Aliases) > 0 {
			aliases = []string(r.Aliases)
		}
		items[i] = points.Item{Code: r.Code, Category: r.Category, Name: r.Name, NameEN: r.NameEN, Points: r.Points, Veto: r.Veto,
			Evidence: points.Evidence(r.Evidence), Caps: caps, Claimable: r.Claimable, Aliases: aliases}
	}
	return items, nil
}
