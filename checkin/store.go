package checkin

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// store is what package checkin needs of the database: the *storage.Store
// methods its use cases call, and nothing else (issue #12). A use case
// reaches the database only through db() (TestFeaturesDeclareTheirStore).
type store interface {
	ActiveIntegrations(ctx context.Context) ([]storage.Integration, error)
	// AddAlbumPhoto is called after LockAlbum; it also adds the photo to the album's check-in.
	AddAlbumPhoto(ctx context.Context, chatID int64, mediaGroupID, fileID string, updateID int64) error
	// AlbumHasPendingText reports whether a message of the album was read as free text already.
	AlbumHasPendingText(ctx context.Context, chatID int64, mediaGroupID string) (bool, error)
	AlbumPhotos(ctx context.Context, chatID int64, mediaGroupID string) ([]string, error)
	Ancestors(ctx context.Context, unitID int64) ([]domain.Unit, error)
	// AppendEvent appends a domain event (the source of outbound webhooks).
	AppendEvent(ctx context.Context, typ string, unitID int64, payload any) error
	ChatOf(ctx context.Context, personID int64) (storage.ChatLink, error)
	// CheckedIn lists the branch's (unit, obligation, period) with an active check-in.
	CheckedIn(ctx context.Context, branchID int64) (map[storage.DoneKey]bool, error)
	CheckinByID(ctx context.Context, id int64) (storage.Checkin, error)
	CheckinDone(ctx context.Context, unitID int64, obligation, period string) (bool, error)
	CheckinLedger(ctx context.Context, rootID int64) ([]storage.LedgerRow, error)
	Checkins(ctx context.Context, f storage.CheckinFilter) ([]storage.Checkin, error)
	// ClaimExternalID reserves an integration's external id for good.
	ClaimExternalID(ctx context.Context, integrationID int64, externalID string, now time.Time) (fresh bool, prior int64, err error)
	// ClaimIntegrationMessage reserves a message id; fresh is false on a replay (prior: its check-in).
	ClaimIntegrationMessage(ctx context.Context, integrationID int64, msgID string, now time.Time) (fresh bool, prior int64, err error)
	CreateIntegration(ctx context.Context, name, secret string, unitID int64, role string) (storage.Integration, error)
	CreatePendingCheckin(ctx context.Context, personID, chatID int64, request any, at time.Time) (int64, error)
	// Enqueue writes to the outbox in the change's transaction, idempotently on DedupeKey.
	Enqueue(ctx context.Context, m storage.OutMessage) error
	// ForgetIntegrationMessages drops the message ids received before before (out of tolerance).
	ForgetIntegrationMessages(ctx context.Context, before time.Time) error
	GroupByChat(ctx context.Context, chatID int64) (storage.GroupChat, error)
	GroupOfUnit(ctx context.Context, unitID int64) (storage.GroupChat, error)
	GroupsOf(ctx context.Context, branchID int64) ([]domain.Unit, error)
	// HoldersInSubtree lists root's subtree's role holders (role "": every role).
	HoldersInSubtree(ctx context.Context, rootID int64, role string, unlinkedOnly bool) ([]storage.Holder, error)
	InsertCheckin(ctx context.Context, c storage.NewCheckin) (int64, error)
	InsertCheckinItem(ctx context.Context, it storage.CheckinItem) error
	// InsertDraft stores an ambiguous claim, to be taken by a tap (TakeDraft).
	InsertDraft(ctx context.Context, d storage.ClaimDraft) (int64, error)
	Integrations(ctx context.Context) ([]storage.Integration, error)
	LastCheckinBy(ctx context.Context, personID int64) (storage.Checkin, error)
	// LinkIntegrationCheckin notes the check-in a message (and its external id) created.
	LinkIntegrationCheckin(ctx context.Context, integrationID int64, msgID, externalID string, checkinID int64) error
	LockAlbum(ctx context.Context, chatID int64, mediaGroupID string) error
	// LockCheckinBranch serialises the branch's check-ins until the transaction ends.
	LockCheckinBranch(ctx context.Context, branchID int64) error
	LockPendingCheckin(ctx context.Context, id int64) (storage.PendingCheckin, error)
	LockPendingText(ctx context.Context, id int64) (storage.PendingText, error)
	// PendingTextOfCard is the pending free text whose card is message (chatID, messageID).
	PendingTextOfCard(ctx context.Context, chatID, messageID int64) (int64, error)
	PersonByID(ctx context.Context, id int64) (domain.Person, error)
	RejectCheckin(ctx context.Context, id, by int64, reason string, at time.Time) (bool, error)
	// SavePendingText keeps a reading; a message kept already keeps its first one.
	SavePendingText(ctx context.Context, p storage.PendingText, reading any) (int64, error)
	SetIntegrationActive(ctx context.Context, name string, active bool) error
	TouchIntegration(ctx context.Context, id int64, at time.Time) error
	UnitByCode(ctx context.Context, code string) (domain.Unit, error)
	UnitByID(ctx context.Context, id int64) (domain.Unit, error)
	// UpdatePendingText corrects an unused reading; false when it was used meanwhile.
	UpdatePendingText(ctx context.Context, id int64, reading any) (bool, error)
	UsePendingCheckin(ctx context.Context, id int64, at time.Time) (bool, error)
	UsePendingText(ctx context.Context, id int64, outcome string, at time.Time) (bool, error)
	WithdrawCheckin(ctx context.Context, id int64, at time.Time) (bool, error)
}

var _ store = (*storage.Store)(nil)

// db is the database the use cases run on (a transaction when a is bound to
// one), seen through store.
func (a Service) db() store { return a.Store }
