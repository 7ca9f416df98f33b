package villagepoints

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// store is what package villagepoints needs of the database: the *storage.Store
// methods its use cases call, and nothing else (issue #12). A use case
// reaches the database only through db() (TestFeaturesDeclareTheirStore).
type store interface {
	AddApproval(ctx context.Context, claimID int64, round int, a storage.Approval) (added bool, err error)
	AllUnits(ctx context.Context) ([]domain.Unit, error)
	// AppendEvent appends a domain event (the source of outbound webhooks).
	AppendEvent(ctx context.Context, typ string, unitID int64, payload any) error
	AppendPointEntry(ctx context.Context, e storage.PointEntry) (int64, error)
	Approvals(ctx context.Context, claimID int64, round int) ([]storage.Approval, error)
	// CatalogFor is the newest catalogue of the nearest scope on the unit's path.
	CatalogFor(ctx context.Context, unitID int64) ([]points.Item, storage.CatalogSource, error)
	ChatOf(ctx context.Context, personID int64) (storage.ChatLink, error)
	ClaimByID(ctx context.Context, id int64) (storage.Claim, error)
	// ClaimEntry is the claim's entry no reversal cancels yet: what an objection reverses.
	ClaimEntry(ctx context.Context, claimID int64) (storage.PointEntry, error)
	Claims(ctx context.Context, f storage.ClaimFilter) ([]storage.Claim, error)
	ClearCatalog(ctx context.Context, unitID int64) error
	CountClaimsSince(ctx context.Context, personID int64, since time.Time) (int, error)
	// DecideClaim is one conditional UPDATE: of concurrent deciders exactly one wins.
	DecideClaim(ctx context.Context, id int64, d storage.ClaimDecision) (ok bool, err error)
	// DecideObjection is one conditional UPDATE: of concurrent deciders exactly one wins.
	DecideObjection(ctx context.Context, id int64, status string, at time.Time, decider string) (ok bool, err error)
	// Enqueue writes to the outbox in the change's transaction, idempotently on DedupeKey.
	Enqueue(ctx context.Context, m storage.OutMessage) error
	// FirstPointAt is when the first ledger entry was recorded (zero: none).
	FirstPointAt(ctx context.Context) (time.Time, error)
	// FreezeClaims freezes the household's pending claims because of a veto.
	FreezeClaims(ctx context.Context, householdID, vetoID int64) ([]int64, error)
	GlobalCatalog(ctx context.Context) ([]points.Item, error)
	GoodsByCode(ctx context.Context, villageID int64, code string) (storage.Goods, error)
	GoodsList(ctx context.Context, f storage.GoodsFilter) ([]storage.Goods, error)
	GroupOfUnit(ctx context.Context, unitID int64) (storage.GroupChat, error)
	// HoldersInSubtree lists root's subtree's role holders (role "": every role).
	HoldersInSubtree(ctx context.Context, rootID int64, role string, unlinkedOnly bool) ([]storage.Holder, error)
	HouseholdByID(ctx context.Context, id int64) (storage.Household, error)
	HouseholdChats(ctx context.Context, householdID int64) ([]storage.ChatLink, error)
	// HouseholdPoints is the household's snapshot at t with its n newest entries.
	HouseholdPoints(ctx context.Context, householdID, personID int64, t time.Time, n int) (storage.PointsSnapshot, error)
	HouseholdsByCode(ctx context.Context, villageIDs []int64, code string) ([]storage.Household, error)
	InPublicity(ctx context.Context, villageID int64, t time.Time) ([]storage.Claim, error)
	// InSubtree reports whether unit lies in root's subtree (root included).
	InSubtree(ctx context.Context, root, unit int64) (bool, error)
	InsertClaim(ctx context.Context, c storage.NewClaim) (int64, error)
	// InsertDraft stores an ambiguous claim, to be taken by a tap (TakeDraft).
	InsertDraft(ctx context.Context, d storage.ClaimDraft) (int64, error)
	InsertObjection(ctx context.Context, o storage.Objection) (id int64, ok bool, err error)
	// InsertSettlement settles a period once: inserted is false when it was settled already.
	InsertSettlement(ctx context.Context, st storage.Settlement, rows []storage.SettlementRow) (id int64, inserted bool, err error)
	InsertSettlementPost(ctx context.Context, settlementID int64) error
	// LastClaimEntry is the claim's newest award, deduction or veto entry, reversed or not.
	LastClaimEntry(ctx context.Context, claimID int64) (storage.PointEntry, error)
	// LiveClaimTimes are when the household's live claims of an item were made (caps, duplicates).
	LiveClaimTimes(ctx context.Context, householdID int64, itemCode string) ([]time.Time, error)
	// LockHousehold is the household's mutex (claims, decisions, redemptions) until the transaction ends.
	LockHousehold(ctx context.Context, id int64) error
	// MarkSettlementPosted gives ok=false when another run announced the settlement.
	MarkSettlementPosted(ctx context.Context, settlementID int64, at time.Time) (bool, error)
	ObjectionByID(ctx context.Context, id int64) (storage.Objection, error)
	OpenObjection(ctx context.Context, claimID int64) (storage.Objection, error)
	PendingSettlementPosts(ctx context.Context) ([]storage.Settlement, error)
	PeriodTotals(ctx context.Context, villageIDs []int64, from, to time.Time) ([]storage.PeriodTotal, error)
	// PeriodTotalsFrom is PeriodTotals built from the shorter settlements already made.
	PeriodTotalsFrom(ctx context.Context, villageIDs []int64, from, to time.Time, settled []int64, gaps []storage.LedgerGap) ([]storage.PeriodTotal, error)
	PersonByID(ctx context.Context, id int64) (domain.Person, error)
	PersonByPhone(ctx context.Context, phone string) (domain.Person, error)
	// PointBalance is the balance at t and the points still in publicity.
	PointBalance(ctx context.Context, householdID int64, t time.Time) (balance, publicity int, err error)
	PointLedger(ctx context.Context, f storage.PointLedgerFilter) ([]storage.PointLedgerRow, error)
	// PublicGroupByChat is the 公示 binding of a chat (domain.ErrNotFound: none).
	PublicGroupByChat(ctx context.Context, chatID int64) (storage.GroupChat, error)
	// PublicGroupOfUnit is the villagers' group of the village, else its bound group.
	PublicGroupOfUnit(ctx context.Context, unitID int64) (storage.GroupChat, error)
	// PublicGroups lists the villages with a chat for public posts (the daily 公示 list).
	PublicGroups(ctx context.Context) ([]storage.GroupChat, error)
	// ReopenClaim puts an approved claim back to pending for a new review round.
	ReopenClaim(ctx context.Context, id int64, reason string) (ok bool, err error)
	RolesOf(ctx context.Context, personID int64) ([]domain.Role, error)
	SaveCatalog(ctx context.Context, unitID *int64, file string, items []points.Item) (int64, error)
	SetClaimCards(ctx context.Context, id int64, keys []string) error
	SetObjectionCards(ctx context.Context, id int64, keys []string) error
	SettledWithin(ctx context.Context, villageIDs []int64, kind string, from, to time.Time) ([]storage.SettledSpan, error)
	Settlements(ctx context.Context, f storage.SettlementFilter) ([]storage.Settlement, error)
	Subtree(ctx context.Context, unitID int64) ([]domain.Unit, error)
	// TakeDraft marks a person's draft used, once (domain.ErrNotFound after).
	TakeDraft(ctx context.Context, id, personID int64, at, notBefore time.Time) (storage.ClaimDraft, error)
	// TakeStock takes qty pieces of limited goods without overselling (ok=false: short).
	TakeStock(ctx context.Context, goodsID int64, qty int) (left *int, ok bool, err error)
	// UnderObjection lists the claims held by an open villager's objection (公示异议).
	UnderObjection(ctx context.Context, villageIDs []int64, limit int) ([]storage.ObjectedClaim, error)
	// UnfreezeClaims puts the claims a veto froze back to pending (the veto was reopened).
	UnfreezeClaims(ctx context.Context, vetoID int64) ([]int64, error)
	UnitByCode(ctx context.Context, code string) (domain.Unit, error)
	UnitByID(ctx context.Context, id int64) (domain.Unit, error)
	UnsettledVillages(ctx context.Context, period string) ([]domain.Unit, error)
	UpsertGoods(ctx context.Context, rows []storage.GoodsRow) (created, updated int, err error)
	// VetoedIn reports an approved veto of the household whose window overlaps [from, to).
	VetoedIn(ctx context.Context, householdID int64, from, to time.Time) (bool, error)
}

var _ store = (*storage.Store)(nil)

// db is the database the use cases run on (a transaction when a is bound to
// one), seen through store.
func (a Service) db() store { return a.Store }
