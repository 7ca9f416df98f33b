package accounts

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/storage"
)

// store is what package accounts needs of the database: the *storage.Store
// methods its use cases call, and nothing else (issue #12). A use case
// reaches the database only through db() (TestFeaturesDeclareTheirStore).
type store interface {
	AddRole(ctx context.Context, personID int64, role string, unitID int64) error
	// AuditLogBefore is a page of the audit log: the entries before beforeID (0: the newest).
	AuditLogBefore(ctx context.Context, action string, roots []int64, limit int, beforeID int64) ([]storage.AuditRow, error)
	BindFailuresSince(ctx context.Context, tgUserID int64, since time.Time) (int, time.Time, error)
	// BindGroup binds a group chat to a unit, replacing earlier bindings of either.
	BindGroup(ctx context.Context, chatID, unitID int64, title string, by int64) error
	// BindPublicGroup binds a chat as a village's villagers' group (/bind 公示).
	BindPublicGroup(ctx context.Context, chatID, unitID int64, title string, by int64) error
	ChatOf(ctx context.Context, personID int64) (storage.ChatLink, error)
	// ConsumeBindCode uses a code once; wrong, used and expired ones are all domain.ErrNotFound.
	ConsumeBindCode(ctx context.Context, hash []byte, now time.Time) (int64, error)
	CreateBindCode(ctx context.Context, personID int64, hash []byte, expires time.Time) error
	CreateRelinkRequest(ctx context.Context, r storage.RelinkRequest) (int64, error)
	CreateSession(ctx context.Context, hash []byte, tokenID int64, now, expires time.Time) (int64, error)
	CreateToken(ctx context.Context, hash []byte, unitID int64, role string, now time.Time, expires *time.Time) (int64, error)
	DeleteSession(ctx context.Context, hash []byte) error
	EnsureHousehold(ctx context.Context, villageID int64, code string) (int64, error)
	FinishRelinkRequest(ctx context.Context, id int64, status string) error
	GroupByChat(ctx context.Context, chatID int64) (storage.GroupChat, error)
	// HoldersInSubtree lists root's subtree's role holders (role "": every role).
	HoldersInSubtree(ctx context.Context, rootID int64, role string, unlinkedOnly bool) ([]storage.Holder, error)
	HoldersPage(ctx context.Context, rootID int64, role string, after *storage.HolderKey, limit int) ([]storage.Holder, error)
	// InSubtree reports whether unit lies in root's subtree (root included).
	InSubtree(ctx context.Context, root, unit int64) (bool, error)
	LinkChat(ctx context.Context, personID, tgUserID, chatID int64, username string) error
	LockRelinkRequest(ctx context.Context, id int64) (storage.RelinkRequest, error)
	PersonByID(ctx context.Context, id int64) (domain.Person, error)
	PersonByPhone(ctx context.Context, phone string) (domain.Person, error)
	PersonByTelegram(ctx context.Context, tgUserID int64) (int64, error)
	PublicGroupByChat(ctx context.Context, chatID int64) (storage.GroupChat, error)
	RecordBindFailure(ctx context.Context, tgUserID int64, at time.Time) error
	// RevokeToken also deletes the token's dashboard sessions.
	RevokeToken(ctx context.Context, id int64, now time.Time) (bool, error)
	RolesOf(ctx context.Context, personID int64) ([]domain.Role, error)
	// SessionByHash finds a live session of a live token and notes its use.
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (storage.DashSession, error)
	SetHousehold(ctx context.Context, personID, householdID int64) error
	SetHouseholdHead(ctx context.Context, householdID, personID int64) error
	Subtree(ctx context.Context, unitID int64) ([]domain.Unit, error)
	// TokenByHash finds an unrevoked token and notes its use (the caller refuses an expired one).
	TokenByHash(ctx context.Context, hash []byte, now time.Time) (storage.APIToken, error)
	Tokens(ctx context.Context, rootID int64) ([]storage.TokenRow, error)
	// UnbindPublicChat drops a chat's 公示 binding.
	UnbindPublicChat(ctx context.Context, chatID int64) error
	UnitByCode(ctx context.Context, code string) (domain.Unit, error)
	UnitByID(ctx context.Context, id int64) (domain.Unit, error)
	UnitCodes(ctx context.Context) (map[string]string, error)
	UnitParents(ctx context.Context) (map[string]string, error)
	// UpsertPerson finds a person by phone, else by name among the unit's holders, else creates one.
	UpsertPerson(ctx context.Context, name, phone string, unitID int64) (int64, bool, error)
	// UpsertUnits inserts or updates units by code, links parents and recomputes the paths.
	UpsertUnits(ctx context.Context, rows []storage.UnitRow, startedOn time.Time) (created, updated int, err error)
}

var _ store = (*storage.Store)(nil)

// db is the database the use cases run on (a transaction when a is bound to
// one), seen through store.
func (a Service) db() store { return a.Store }
