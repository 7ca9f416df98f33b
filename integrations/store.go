package integrations

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// store is what package integrations needs of the database: the *storage.Store
// methods its use cases call, and nothing else (issue #12). A use case
// reaches the database only through db() (TestFeaturesDeclareTheirStore).
type store interface {
	ActiveRobotsOf(ctx context.Context, unitID int64) ([]storage.Robot, error)
	CreateRobot(ctx context.Context, unitID int64, kind, url, secret string) (storage.Robot, error)
	CreateWebhookSubscription(ctx context.Context, n storage.NewWebhookSubscription) (storage.WebhookSubscription, error)
	DeleteWebhookSubscription(ctx context.Context, id int64, at time.Time) error
	// Enqueue writes to the outbox in the change's transaction, idempotently on DedupeKey.
	Enqueue(ctx context.Context, m storage.OutMessage) error
	RobotsIn(ctx context.Context, root int64) ([]storage.Robot, error)
	SetRobotActive(ctx context.Context, id int64, active bool) error
	UnitByCode(ctx context.Context, code string) (domain.Unit, error)
	UnitByID(ctx context.Context, id int64) (domain.Unit, error)
	WebhookAttemptsOf(ctx context.Context, deliveryIDs []int64) ([]storage.WebhookAttemptRow, error)
	WebhookDeliveries(ctx context.Context, subscriptionID int64, limit int, beforeID int64) ([]storage.WebhookDelivery, error)
	WebhookSubscription(ctx context.Context, id int64) (storage.WebhookSubscription, error)
	WebhookSubscriptionsIn(ctx context.Context, root int64) ([]storage.WebhookSubscription, error)
}

var _ store = (*storage.Store)(nil)

// db is the database the use cases run on (a transaction when a is bound to
// one), seen through store.
func (a Service) db() store { return a.Store }
