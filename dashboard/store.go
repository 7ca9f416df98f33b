package dashboard

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// store is what package dashboard needs of the database: the *storage.Store
// methods its use cases call, and nothing else (issue #12). A use case
// reaches the database only through db() (TestFeaturesDeclareTheirStore).
type store interface {
	Ancestors(ctx context.Context, unitID int64) ([]domain.Unit, error)
	Checkins(ctx context.Context, f storage.CheckinFilter) ([]storage.Checkin, error)
	PeriodTotals(ctx context.Context, villageIDs []int64, from, to time.Time) ([]storage.PeriodTotal, error)
	Settlements(ctx context.Context, f storage.SettlementFilter) ([]storage.Settlement, error)
	Subtree(ctx context.Context, unitID int64) ([]domain.Unit, error)
	UnitByID(ctx context.Context, id int64) (domain.Unit, error)
	VillageMonthlyTotals(ctx context.Context, villageID int64, from, to time.Time, tz string) ([]storage.MonthlyTotal, error)
}

var _ store = (*storage.Store)(nil)

// db is the database the use cases run on (a transaction when a is bound to
// one), seen through store.
func (a Service) db() store { return a.Store }
