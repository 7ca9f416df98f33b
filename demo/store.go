package demo

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// store is what package demo needs of the database: the *storage.Store
// methods its use cases call, and nothing else (issue #12). A use case
// reaches the database only through db() (TestFeaturesDeclareTheirStore).
type store interface {
	AllUnits(ctx context.Context) ([]domain.Unit, error)
	// BindGroup binds a group chat to a unit, replacing earlier bindings of either.
	BindGroup(ctx context.Context, chatID, unitID int64, title string, by int64) error
	ChatMessageCounts(ctx context.Context, chats []int64) (map[int64]int, error)
	ChatSends(ctx context.Context, chats []int64, limit int) ([]storage.ChatSend, error)
	ChatUpdates(ctx context.Context, chats []int64, limit int) ([]storage.ChatUpdate, error)
	// ConversationIDs is the highest update id and, per chat, the highest message id stored.
	ConversationIDs(ctx context.Context) (int64, map[int64]int, error)
	InsertDemoCheckins(ctx context.Context, cs []storage.DemoCheckin) error
	InsertDemoClaims(ctx context.Context, cs []storage.DemoClaim) error
	InsertDemoPeople(ctx context.Context, ps []storage.DemoPerson) (storage.DemoIDs, error)
	LinkChat(ctx context.Context, personID, tgUserID, chatID int64, username string) error
	SetAllStartedOn(ctx context.Context, d time.Time) error
	UnitByCode(ctx context.Context, code string) (domain.Unit, error)
	// UpdateSettled reports the update processed and nothing due waiting to go out.
	UpdateSettled(ctx context.Context, id int64) (bool, error)
}

var _ store = (*storage.Store)(nil)

// db is the database the use cases run on (a transaction when a is bound to
// one), seen through store.
func (a Service) db() store { return a.Store }
