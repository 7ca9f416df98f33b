package healthcheck

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// store is what package healthcheck needs of the database: the *storage.Store
// methods its use cases call, and nothing else (issue #12). A use case
// reaches the database only through db() (TestFeaturesDeclareTheirStore).
type store interface {
	AddAck(ctx context.Context, a storage.Ack) error
	// AppendLightEvents appends one light.changed event per change.
	AppendLightEvents(ctx context.Context, cs []storage.LightChange) error
	// BelowQuorumItems lists the items whose active check-ins were all held below quorum.
	BelowQuorumItems(ctx context.Context, rootID int64) ([]storage.BelowQuorum, error)
	CalendarDays(ctx context.Context) ([]storage.CalendarDay, error)
	// CreateExemption gives created=false and the standing id when the item is exempt already.
	CreateExemption(ctx context.Context, e storage.Exemption) (id int64, created bool, err error)
	CreateSilence(ctx context.Context, x storage.Silence, byID int64) (int64, error)
	// Enqueue writes to the outbox in the change's transaction, idempotently on DedupeKey.
	Enqueue(ctx context.Context, m storage.OutMessage) error
	ExemptionByID(ctx context.Context, id int64) (storage.Exemption, error)
	HealthAcks(ctx context.Context, rootID int64) ([]storage.Ack, error)
	HealthExemptions(ctx context.Context, rootID int64) ([]storage.HealthItem, error)
	HealthMisses(ctx context.Context, rootID int64, since time.Time, limit int) ([]storage.Miss, error)
	HealthSilences(ctx context.Context, rootID int64, at time.Time) ([]storage.Silence, error)
	// HealthTree streams root's subtree and ancestors with what an evaluation needs.
	HealthTree(ctx context.Context, rootID int64, parts storage.TreeParts, fn func(*storage.HealthRow) error) error
	// HealthTreeSize is how many rows HealthTree will give (an estimate), to size arrays once.
	HealthTreeSize(ctx context.Context, rootID int64) (int, error)
	// LockHealthcheck takes the evaluation lock until the transaction ends.
	LockHealthcheck(ctx context.Context) error
	// OrganiserUnitsOver says, per (persons[i], units[i]), where the person organises over units[i].
	OrganiserUnitsOver(ctx context.Context, persons, units, candidates []int64) ([]int64, error)
	// RecordDigests logs an evaluation's digests and enqueues the deliverable ones.
	RecordDigests(ctx context.Context, at time.Time, ds []storage.DigestRecord) (int, error)
	RecordHealthRun(ctx context.Context, r storage.HealthRun) error
	ReplaceCalendarYears(ctx context.Context, years []int, days []storage.CalendarDay) (replaced int, err error)
	RevokeExemption(ctx context.Context, id, byID int64, reason string, at time.Time) (storage.Exemption, error)
	// RobotUnits lists the units with at least one active robot.
	RobotUnits(ctx context.Context) ([]int64, error)
	// SaveHealthMemory replaces the given units' memory (mems[i] is units[i]'s).
	SaveHealthMemory(ctx context.Context, units []int64, mems []storage.HealthMemory) error
	Subtree(ctx context.Context, unitID int64) ([]domain.Unit, error)
	TopOrganisers(ctx context.Context) ([]storage.Holder, error)
	// TuneForScan raises work_mem and turns JIT off for the transaction.
	TuneForScan(ctx context.Context) error
	UnitByCode(ctx context.Context, code string) (domain.Unit, error)
	UnitByID(ctx context.Context, id int64) (domain.Unit, error)
}

var _ store = (*storage.Store)(nil)

// db is the database the use cases run on (a transaction when a is bound to
// one), seen through store.
func (a Service) db() store { return a.Store }
