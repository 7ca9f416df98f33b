package app

import (
	"encoding/json"
	"time"

	"github.com/lib/pq"

	"github.com/zhibu/zhibu/storage"
)

// The API's views of stored rows (SPEC §5.1, §7: field names, order and
// formats are the contract; TestViewsJSON pins them). Each view has the
// fields of its row, in the row's order, so a row converts to it and a
// change to the row's fields fails to compile here rather than changing
// the API; the JSON names live here, not in storage.

// HolderKey and CheckinKey are the positions a page of people or of
// check-ins starts after.
type (
	HolderKey  = storage.HolderKey
	CheckinKey = storage.CheckinKey
)

// ClaimView is a claim for village points.
type ClaimView struct {
	ID            int64          `json:"id"`
	VillageID     int64          `json:"-"`
	VillageCode   string         `json:"village"`
	VillageName   string         `json:"village_name"`
	HouseholdID   int64          `json:"-"`
	HouseholdCode string         `json:"household"`
	HouseholdName string         `json:"-"`
	PersonID      *int64         `json:"-"`
	PersonName    string         `json:"person"`
	RecordedBy    *int64         `json:"-"`
	RecorderName  string         `json:"recorded_by"`
	Kind          string         `json:"kind"`
	ItemCode      string         `json:"item_code"`
	ItemName      string         `json:"item_name"`
	Category      string         `json:"category"`
	Points        int            `json:"points"`
	Veto          bool           `json:"veto"`
	Evidence      string         `json:"evidence"`
	Note          string         `json:"note"`
	Photo         *string        `json:"photo,omitempty"`
	Status        string         `json:"status"`
	ClaimedAt     time.Time      `json:"claimed_at"`
	DecidedAt     *time.Time     `json:"decided_at,omitempty"`
	DecidedBy     *int64         `json:"-"`
	Decider       string         `json:"decided_by,omitempty"`
	Reason        string         `json:"reason,omitempty"`
	FrozenBy      *int64         `json:"frozen_by,omitempty"`
	Objections    int            `json:"objections"`
	CardVersion   int            `json:"-"`
	CardKeys      pq.StringArray `json:"-"`
	Source        string         `json:"source"`
	ActDate       *time.Time     `json:"-"`
	VetoFrom      *time.Time     `json:"-"`
	VetoUntil     *time.Time     `json:"-"`
	EffectiveAt   *time.Time     `json:"effective_at,omitempty"`
}

// CheckinView is a check-in with what it counts for.
type CheckinView struct {
	ID             int64             `json:"id"`
	BranchID       int64             `json:"branch_id"`
	BranchCode     string            `json:"branch"`
	BranchName     string            `json:"branch_name"`
	HeldOn         string            `json:"date"`
	Present        *int              `json:"present,omitempty"`
	Total          *int              `json:"total,omitempty"`
	Topic          string            `json:"topic"`
	Evidence       pq.StringArray    `json:"evidence"`
	MediaGroupID   *string           `json:"-"`
	Source         string            `json:"source"`
	ChatID         *int64            `json:"-"`
	MessageID      *int64            `json:"-"`
	RecordedBy     *int64            `json:"recorded_by,omitempty"`
	RecordedByName *string           `json:"recorded_by_name,omitempty"`
	RecordedAt     time.Time         `json:"recorded_at"`
	WithdrawnAt    *time.Time        `json:"withdrawn_at,omitempty"`
	RejectedAt     *time.Time        `json:"rejected_at,omitempty"`
	RejectedBy     *int64            `json:"rejected_by,omitempty"`
	RejectReason   *string           `json:"reject_reason,omitempty"`
	Items          []CheckinItemView `json:"items"`
}

// CheckinItemView is an activity and period a check-in counts for.
type CheckinItemView struct {
	CheckinID   int64  `json:"-"`
	Obligation  string `json:"obligation"`
	Period      string `json:"period"`
	UnitID      int64  `json:"unit_id"`
	UnitCode    string `json:"unit"`
	UnitName    string `json:"unit_name"`
	Late        bool   `json:"late"`
	Extra       bool   `json:"extra"`
	BelowQuorum bool   `json:"below_quorum"`
	Pos         int    `json:"-"`
}

// GoodsView is goods a village redeems points for.
type GoodsView struct {
	ID          int64  `json:"-"`
	VillageID   int64  `json:"-"`
	VillageCode string `json:"village"`
	VillageName string `json:"village_name"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	Points      int    `json:"points"`
	Stock       *int   `json:"stock"` // null = unlimited
	Active      bool   `json:"active"`
}

// SettlementView is a village's closed points period.
type SettlementView struct {
	ID          int64           `json:"id"`
	VillageID   int64           `json:"-"`
	VillageCode string          `json:"village"`
	VillageName string          `json:"village_name"`
	Period      string          `json:"period"`
	Kind        string          `json:"kind"`
	Start       time.Time       `json:"period_start"`
	End         time.Time       `json:"period_end"`
	ClosedAt    time.Time       `json:"closed_at"`
	Households  int             `json:"households"`
	RankingJSON json.RawMessage `json:"ranking"`
}

// MissView is a notice that did not reach its person.
type MissView struct {
	DigestID      int64     `json:"digest_id"`
	PersonID      int64     `json:"person_id"`
	Person        string    `json:"person"`
	ChatID        int64     `json:"chat_id"`
	Level         string    `json:"level"`
	Items         int       `json:"items"`
	ViaFallback   bool      `json:"via_fallback"`
	Undeliverable bool      `json:"undeliverable"`
	Failed        string    `json:"failed,omitempty"`
	Uncertain     bool      `json:"uncertain,omitempty"`
	At            time.Time `json:"at"`
}

// PointEntryView is an entry of the points ledger.
type PointEntryView struct {
	ID            int64     `json:"id"`
	HouseholdID   int64     `json:"-"`
	HouseholdCode string    `json:"household"`
	VillageID     int64     `json:"-"`
	VillageCode   string    `json:"village"`
	Kind          string    `json:"kind"`
	Points        int       `json:"points"`
	ClaimID       *int64    `json:"claim_id,omitempty"`
	Reverses      *int64    `json:"reverses,omitempty"`
	ItemCode      string    `json:"item_code,omitempty"`
	ItemName      string    `json:"item_name,omitempty"`
	Goods         string    `json:"goods,omitempty"`
	Note          string    `json:"note,omitempty"`
	RecordedAt    time.Time `json:"recorded_at"`
	EffectiveAt   time.Time `json:"effective_at"`
	RecordedBy    *int64    `json:"-"`
	Actor         string    `json:"actor"`
	RecorderName  string    `json:"recorded_by,omitempty"`
}

// LedgerEntryView is a household's ledger entry with the balance after it.
type LedgerEntryView struct {
	PointEntryView
	VillageName  string `json:"village_name"`
	Members      string `json:"members"`
	BalanceAfter int    `json:"balance_after"`
	ReversedBy   *int64 `json:"reversed_by,omitempty"`
}

// HouseholdView is a household of a village.
type HouseholdView struct {
	ID          int64  `json:"id"`
	VillageID   int64  `json:"village_id"`
	VillageCode string `json:"village"`
	VillageName string `json:"village_name"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	Members     string `json:"members"`
	Head        string `json:"head,omitempty"`
}

// ExemptionView excuses one item of the health check.
type ExemptionView struct {
	ID         int64      `json:"id"`
	UnitID     int64      `json:"unit_id"`
	UnitCode   string     `json:"unit"`
	Obligation string     `json:"obligation"`
	Period     string     `json:"period"`
	Reason     string     `json:"reason"`
	ByID       int64      `json:"by_id,omitempty"`
	Actor      string     `json:"actor"`
	At         time.Time  `json:"at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// AckView is a secretary's acknowledgement of a red item.
type AckView struct {
	UnitID     int64      `json:"unit_id"`
	Obligation string     `json:"obligation"`
	Period     string     `json:"period"`
	PersonID   int64      `json:"person_id"`
	Person     string     `json:"person"`
	At         time.Time  `json:"at"`
	PlannedOn  *time.Time `json:"planned_on,omitempty"` // civil date at UTC midnight
	Until      time.Time  `json:"until"`
}

// ViewAck is nil for no acknowledgement.
func ViewAck(r *storage.Ack) *AckView {
	if r == nil {
		return nil
	}
	return &AckView{UnitID: r.UnitID, Obligation: r.Obligation, Period: r.Period, PersonID: r.PersonID, Person: r.Person,
		At: r.At, PlannedOn: r.PlannedOn, Until: r.Until}
}

// SilenceView mutes notices about a unit subtree for a time range.
type SilenceView struct {
	ID         int64     `json:"id"`
	UnitID     int64     `json:"unit_id"`
	UnitCode   string    `json:"unit"`
	Obligation string    `json:"obligation,omitempty"` // "" = every obligation
	From       time.Time `json:"from"`
	Until      time.Time `json:"until"`
	Reason     string    `json:"reason"`
	Actor      string    `json:"actor"`
}

// AuditView is an audit log entry.
type AuditView struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	ActorID *int64          `json:"actor_id,omitempty"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Subject string          `json:"subject"`
	Allowed bool            `json:"allowed"`
	Details json.RawMessage `json:"details"`
}

// WebhookView is a webhook subscription; its secret is never shown again.
type WebhookView struct {
	ID             int64          `json:"id"`
	URL            string         `json:"url"`
	Secret         string         `json:"-"`
	EventTypes     pq.StringArray `json:"events"`
	UnitID         int64          `json:"-"`
	UnitCode       string         `json:"unit"`
	Active         bool           `json:"active"`
	FailureCount   int            `json:"failure_count"`
	DisabledAt     *time.Time     `json:"disabled_at,omitempty"`
	DisabledReason *string        `json:"disabled_reason,omitempty"`
	CreatedBy      string         `json:"created_by"`
	CreatedAt      time.Time      `json:"created_at"`
}

// WebhookDeliveryView is one event's delivery to a subscription.
type WebhookDeliveryView struct {
	ID             int64      `json:"id"`
	SubscriptionID int64      `json:"subscription_id"`
	EventID        int64      `json:"event_id"`
	EventType      string     `json:"type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  time.Time  `json:"next_attempt_at"`
	LastStatus     *int       `json:"last_status,omitempty"`
	LastError      *string    `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
	FailedAt       *time.Time `json:"failed_at,omitempty"`
}

// WebhookAttemptView is one attempt of a delivery.
type WebhookAttemptView struct {
	DeliveryID int64     `json:"delivery_id"`
	EventID    int64     `json:"event_id"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code,omitempty"`
	Error      *string   `json:"error,omitempty"`
	DurationMS int       `json:"duration_ms"`
}

// views converts rows to their views; nil stays nil (null), as the rows
// were served before views.
func views[V, R any](rows []R, view func(R) V) []V {
	if rows == nil {
		return nil
	}
	out := make([]V, 0, len(rows))
	for _, r := range rows {
		out = append(out, view(r))
	}
	return out
}

func ViewClaim(r storage.Claim) ClaimView { return ClaimView(r) }

// ViewCheckin is field by field: its items are views too.
func ViewCheckin(r storage.Checkin) CheckinView {
	return CheckinView{ID: r.ID, BranchID: r.BranchID, BranchCode: r.BranchCode, BranchName: r.BranchName, HeldOn: r.HeldOn,
		Present: r.Present, Total: r.Total, Topic: r.Topic, Evidence: r.Evidence, MediaGroupID: r.MediaGroupID, Source: r.Source,
		ChatID: r.ChatID, MessageID: r.MessageID, RecordedBy: r.RecordedBy, RecordedByName: r.RecordedByName, RecordedAt: r.RecordedAt,
		WithdrawnAt: r.WithdrawnAt, RejectedAt: r.RejectedAt, RejectedBy: r.RejectedBy, RejectReason: r.RejectReason,
		Items: views(r.Items, func(it storage.CheckinItem) CheckinItemView { return CheckinItemView(it) })}
}

func ViewClaims(rs []storage.Claim) []ClaimView       { return views(rs, ViewClaim) }
func ViewCheckins(rs []storage.Checkin) []CheckinView { return views(rs, ViewCheckin) }
func ViewGoods(r storage.Goods) GoodsView             { return GoodsView(r) }
func ViewGoodsList(rs []storage.Goods) []GoodsView    { return views(rs, ViewGoods) }
func ViewSettlements(rs []storage.Settlement) []SettlementView {
	return views(rs, func(r storage.Settlement) SettlementView { return SettlementView(r) })
}
func ViewMisses(rs []storage.Miss) []MissView {
	return views(rs, func(r storage.Miss) MissView { return MissView(r) })
}
func ViewPointEntry(r storage.PointEntry) PointEntryView { return PointEntryView(r) }
func ViewLedgerEntries(rs []storage.PointLedgerRow) []LedgerEntryView {
	return views(rs, func(r storage.PointLedgerRow) LedgerEntryView {
		return LedgerEntryView{PointEntryView: ViewPointEntry(r.PointEntry), VillageName: r.VillageName, Members: r.Members,
			BalanceAfter: r.BalanceAfter, ReversedBy: r.ReversedBy}
	})
}
func ViewHousehold(r storage.Household) HouseholdView       { return HouseholdView(r) }
func ViewExemption(r storage.Exemption) ExemptionView       { return ExemptionView(r) }
func ViewExemptions(rs []storage.Exemption) []ExemptionView { return views(rs, ViewExemption) }
func ViewSilence(r storage.Silence) SilenceView             { return SilenceView(r) }
func ViewAudit(rs []storage.AuditRow) []AuditView {
	return views(rs, func(r storage.AuditRow) AuditView { return AuditView(r) })
}
func ViewWebhook(r storage.WebhookSubscription) WebhookView { return WebhookView(r) }
func ViewWebhooks(rs []storage.WebhookSubscription) []WebhookView {
	return views(rs, ViewWebhook)
}
func ViewWebhookDeliveries(rs []storage.WebhookDelivery) []WebhookDeliveryView {
	return views(rs, func(r storage.WebhookDelivery) WebhookDeliveryView { return WebhookDeliveryView(r) })
}
func ViewWebhookAttempts(rs []storage.WebhookAttemptRow) []WebhookAttemptView {
	return views(rs, func(r storage.WebhookAttemptRow) WebhookAttemptView { return WebhookAttemptView(r) })
}
