package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/zhibu/zhibu/storage"
)

// importUnits imports rows as of at in one transaction, as the CLI does,
// and returns the new units' ids by code.
func importUnits(t *testing.T, s *storage.Store, at time.Time, rows []storage.UnitRow) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *storage.Store) error { _, _, err := tx.UpsertUnits(ctx, rows, at); return err }); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, r := range rows {
		u, err := s.UnitByCode(ctx, r.Code)
		if err != nil {
			t.Fatal(err)
		}
		ids[r.Code] = u.ID
	}
	return ids
}
