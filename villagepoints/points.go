package villagepoints

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// Village points use cases (SPEC §4): claims by villagers, one-tap review by
// the village's reviewers, deductions and vetoes, objections during
// publicity. Every change of one household runs under the household's row
// lock (Store.LockHousehold) taken first, so caps, duplicates, the hourly
// rate, balances and decisions hold under concurrency and across replicas;
// a decision itself is a conditional UPDATE … WHERE status = 'pending', so
// it is taken exactly once. Cards, edits and notices are enqueued in the
// same transaction as the change that causes them.

// draftTTL is how long the item choice of an ambiguous claim stays open.
const draftTTL = 24 * time.Hour

// PeriodKind is the shortest configured settlement period (monthly by
// default): the period /rank and the dashboard show.
func (a Service) PeriodKind() points.PeriodKind {
	return a.SettleKinds()[0]
}

// SettleKinds are the configured settlement periods, shortest first
// (points.settle; points.settlement when set). Never empty.
func (a Service) SettleKinds() []points.PeriodKind {
	var out []points.PeriodKind
	for _, k := range a.Cfg.Points.SettleKinds() {
		if pk, err := points.ParsePeriodKind(k); err == nil {
			out = append(out, pk)
		}
	}
	if len(out) == 0 {
		out = []points.PeriodKind{points.Monthly}
	}
	return out
}

// vetoScope is points.veto_scope (a year by default).
func (a Service) vetoScope() points.VetoScope {
	v, err := points.ParseVetoScope(a.Cfg.Points.VetoScope)
	if err != nil {
		return points.VetoYear
	}
	return v
}

// CurrentPeriod is the settlement period containing t.
func (a Service) CurrentPeriod(t time.Time) points.SettlementPeriod {
	p, _ := points.PeriodAt(a.PeriodKind(), t, a.Loc)
	return p
}

// ClaimRequest is a villager's "/claim <code or words> [note]".
type ClaimRequest struct {
	Words  []string // the command's arguments
	Photo  string   // file_id of the largest photo; "" = none
	ChatID int64    // where an ambiguous claim's choice is asked
	Source string   // "telegram" (default) or "api"
}

// ClaimChoice is an ambiguous claim kept server-side (a draft) until the
// villager picks one of Items.
type ClaimChoice struct {
	DraftID int64
	Items   []points.Item
}

// ClaimResult is what a claim became: a pending claim, a choice to make,
// or nothing matched (the categories are listed then).
type ClaimResult struct {
	Claim     *storage.Claim
	Household storage.Household
	Choice    *ClaimChoice
	NoMatch   bool
}

// SubmitClaim files a villager's claim for their household. The words name
// the item (points.Match over the claimable items of the village's
// catalogue): the first word alone, else all of them; the rest is the note.
// An ambiguous match keeps the claim as a draft and returns the candidates.
func (a Service) SubmitClaim(ctx context.Context, actor domain.Actor, req ClaimRequest) (res ClaimResult, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { res, err = Of(tx).submitClaim(ctx, actor, req); return err })
	return res, err
}

// submitClaim is SubmitClaim in the transaction SubmitClaim opens.
func (a Service) submitClaim(ctx context.Context, actor domain.Actor, req ClaimRequest) (ClaimResult, error) {
	hh, err := a.VillagerHousehold(ctx, actor)
	if err != nil {
		return ClaimResult{}, a.Refused(ctx, actor, "claim.submit", "", err)
	}
	res := ClaimResult{Household: hh}
	if len(req.Words) == 0 {
		return res, a.Refused(ctx, actor, "claim.submit", "", domain.Refuse(domain.ErrInvalid, "%s", pt.T("claim.refuse.no_words")))
	}
	items, err := a.CatalogFor(ctx, hh.VillageID)
	if err != nil {
		return res, err
	}
	item, cands, note := matchClaim(points.Claimable(items), req.Words)
	switch {
	case item != nil:
		c, err := a.createClaim(ctx, actor, hh, *item, note, req.Photo, req.Source)
		if err != nil {
			return res, err
		}
		res.Claim = &c
		return res, nil
	case len(cands) > 0:
		codes := make([]string, len(cands))
		for i, it := range cands {
			codes[i] = it.Code
		}
		var photo *string
		if req.Photo != "" {
			photo = &req.Photo
		}
		id, err := a.db().InsertDraft(ctx, storage.ClaimDraft{PersonID: actor.PersonID, ChatID: req.ChatID,
			Query: strings.Join(req.Words, " "), Note: note, Photo: photo, Candidates: codes, CreatedAt: a.Now()})
		if err != nil {
			return res, err
		}
		res.Choice = &ClaimChoice{DraftID: id, Items: cands}
		return res, nil
	}
	// Nothing claimable: a deduction or veto named exactly is refused with
	// its reason; anything else lists the categories.
	if it, _, _ := matchClaim(items, req.Words); it != nil && !it.Claimable {
		r := points.CheckClaim(*it, nil, a.Now(), a.Loc, req.Photo != "")
		return res, a.Refused(ctx, actor, "claim.submit", "", domain.Refuse(domain.ErrForbidden, "%s", RuleText(r)))
	}
	res.NoMatch = true
	return res, nil
}

// matchClaim reads the item out of a claim's words: the first word alone
// when it names one item, else all the words together; the note is what is
// left (all the words when they only describe the deed).
func matchClaim(items []points.Item, words []string) (item *points.Item, candidates []points.Item, note string) {
	if len(words) == 0 {
		return nil, nil, ""
	}
	all := strings.Join(words, " ")
	rest := strings.Join(words[1:], " ")
	first := points.Match(items, words[0])
	if first.Exact != nil {
		if names(*first.Exact, words[0]) {
			return first.Exact, nil, rest
		}
		return first.Exact, nil, all
	}
	if whole := points.Match(items, all); whole.Exact != nil {
		return whole.Exact, nil, all
	} else if len(first.Candidates) == 0 {
		return nil, whole.Candidates, all
	}
	return nil, first.Candidates, rest
}

// names reports whether w is the item's code, name or one of its aliases.
func names(it points.Item, w string) bool {
	if strings.EqualFold(it.Code, w) || it.Name == w {
		return true
	}
	for _, al := range it.Aliases {
		if strings.EqualFold(al, w) {
			return true
		}
	}
	return false
}

// PickClaimItem completes an ambiguous claim with the villager's choice
// (index into the draft's candidates). A draft is used once.
func (a Service) PickClaimItem(ctx context.Context, actor domain.Actor, draftID int64, index int) (c storage.Claim, d storage.ClaimDraft, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { c, d, err = Of(tx).pickClaimItem(ctx, actor, draftID, index); return err })
	return c, d, err
}

// pickClaimItem is PickClaimItem in the transaction PickClaimItem opens.
func (a Service) pickClaimItem(ctx context.Context, actor domain.Actor, draftID int64, index int) (storage.Claim, storage.ClaimDraft, error) {
	now := a.Now()
	d, err := a.db().TakeDraft(ctx, draftID, actor.PersonID, now, now.Add(-draftTTL))
	if errors.Is(err, domain.ErrNotFound) {
		return storage.Claim{}, d, a.Refused(ctx, actor, "claim.submit", "", domain.Refuse(domain.ErrNotFound, "%s", pt.T("claim.refuse.draft_gone")))
	}
	if err != nil {
		return storage.Claim{}, d, err
	}
	if index < 0 || index >= len(d.Candidates) {
		return storage.Claim{}, d, nil // cancelled
	}
	hh, err := a.VillagerHousehold(ctx, actor)
	if err != nil {
		return storage.Claim{}, d, a.Refused(ctx, actor, "claim.submit", "", err)
	}
	items, err := a.CatalogFor(ctx, hh.VillageID)
	if err != nil {
		return storage.Claim{}, d, err
	}
	for _, it := range items {
		if it.Code == d.Candidates[index] && it.Claimable {
			photo := ""
			if d.Photo != nil {
				photo = *d.Photo
			}
			c, err := a.createClaim(ctx, actor, hh, it, d.Note, photo, "telegram")
			return c, d, err
		}
	}
	return storage.Claim{}, d, a.Refused(ctx, actor, "claim.submit", "", domain.Refuse(domain.ErrNotFound, "%s", pt.T("claim.refuse.item_gone")))
}

// refusalKind maps a rule's refusal to the error class callers see.
// RuleText puts a refusal of the pure rules into the words of the points
// catalogue (rule.<key>).
func RuleText(r *points.Refusal) string { return pt.T("rule."+r.Key, r.Args...) }

func refusalKind(r points.Reason) error {
	switch r {
	case points.ReasonNotClaimable:
		return domain.ErrForbidden
	case points.ReasonEvidence, points.ReasonAmount:
		return domain.ErrInvalid
	}
	return domain.ErrConflict
}

// createClaim checks and stores a villager's claim of item, under the
// household lock: the hourly rate, a veto this period, then the rules of
// points.CheckClaim (claimable, evidence, same day, caps counting pending
// and approved claims). It posts the review card and records the event.
func (a Service) createClaim(ctx context.Context, actor domain.Actor, hh storage.Household, item points.Item, note, photo, source string) (storage.Claim, error) {
	if source == "" {
		source = "telegram"
	}
	subject := "household:" + strconv.FormatInt(hh.ID, 10)
	if err := a.db().LockHousehold(ctx, hh.ID); err != nil {
		return storage.Claim{}, err
	}
	now := a.Now()
	n, err := a.db().CountClaimsSince(ctx, actor.PersonID, now.Add(-time.Hour))
	if err != nil {
		return storage.Claim{}, err
	}
	if limit := a.Cfg.Points.ClaimsPerHour; limit > 0 && n >= limit {
		return storage.Claim{}, a.Refused(ctx, actor, "claim.submit", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("claim.refuse.hourly", "count", strconv.Itoa(n))))
	}
	period := a.CurrentPeriod(now)
	vetoed, err := a.db().VetoedIn(ctx, hh.ID, period.Start, period.End)
	if err != nil {
		return storage.Claim{}, err
	}
	if vetoed {
		return storage.Claim{}, a.Refused(ctx, actor, "claim.submit", subject, domain.Refuse(domain.ErrForbidden,
			"%s", pt.T("claim.refuse.vetoed", "scope", vetoScopeWords[a.vetoScope()])))
	}
	existing, err := a.db().LiveClaimTimes(ctx, hh.ID, item.Code)
	if err != nil {
		return storage.Claim{}, err
	}
	if r := points.CheckClaim(item, existing, now, a.Loc, photo != ""); r != nil {
		return storage.Claim{}, a.Refused(ctx, actor, "claim.submit", subject, domain.Refuse(refusalKind(r.Reason), "%s", RuleText(r)))
	}
	id, err := a.db().InsertClaim(ctx, storage.NewClaim{VillageID: hh.VillageID, HouseholdID: hh.ID, PersonID: actor.PersonID,
		RecordedBy: actor.PersonID, Kind: storage.ClaimKindClaim, ItemCode: item.Code, ItemName: item.Name, Category: item.Category,
		Points: item.Points, Veto: item.Veto, Evidence: string(item.Evidence), Note: cut(note, 500), Photo: photo,
		Status: storage.ClaimPending, ClaimedAt: now, Source: source})
	if err != nil {
		return storage.Claim{}, err
	}
	c, err := a.db().ClaimByID(ctx, id)
	if err != nil {
		return storage.Claim{}, err
	}
	if err := a.postCards(ctx, &c, hh, ""); err != nil {
		return c, err
	}
	if err := a.db().AppendEvent(ctx, "claim.submitted", c.VillageID, claimEvent(c, hh, nil)); err != nil {
		return c, err
	}
	return c, a.Audit(ctx, actor, "claim.submit", claimSubject(c.ID), true, map[string]any{"item": c.ItemCode, "points": c.Points, "household": hh.Code})
}

// claimEvent is the payload of claim.submitted and claim.decided. A claim
// reopened by an objection is submitted again, its payload adding
// "reopened": true, "objection" (the reason) and "reversal_entry" (the
// ledger entry that cancels its points).
func claimEvent(c storage.Claim, hh storage.Household, entry *storage.PointEntry) map[string]any {
	ev := map[string]any{
		"claim_id": c.ID, "kind": c.Kind, "village": c.VillageCode, "household": hh.Code, "person": c.PersonName,
		"item_code": c.ItemCode, "item_name": c.ItemName, "points": c.Points, "veto": c.Veto, "status": c.Status,
		"claimed_at": c.ClaimedAt, "has_photo": c.HasPhoto(),
	}
	if c.DecidedAt != nil {
		ev["decided_at"], ev["decided_by"] = *c.DecidedAt, c.Decider
	}
	if c.Reason != "" {
		ev["reason"] = c.Reason
	}
	if entry != nil {
		ev["ledger_entry"], ev["effective_at"] = entry.ID, entry.EffectiveAt
	}
	return ev
}

// cardKey is the outbox dedupe key of a claim's card in one chat and review
// round; edits name it in edit_of.
func cardKey(claimID int64, version int, chatID int64) string {
	return fmt.Sprintf("claim:%d:card:%d:%d", claimID, version, chatID)
}

// cardChat reads the chat back out of a card key.
func cardChat(key string) int64 {
	i := strings.LastIndexByte(key, ':')
	id, _ := strconv.ParseInt(key[i+1:], 10, 64)
	return id
}

// postCards posts a claim's card to the village's bound group, or, when the
// village has none, to each of its reviewers' private chats: with the
// decision buttons while it awaits review, else with footer. The keys are
// stored on the claim for later edits.
func (a Service) postCards(ctx context.Context, c *storage.Claim, hh storage.Household, footer string) error {
	buttons := c.Status == storage.ClaimPending
	var chats []int64
	g, err := a.db().GroupOfUnit(ctx, c.VillageID)
	switch {
	case err == nil:
		chats = []int64{g.ChatID}
	case errors.Is(err, domain.ErrNotFound):
		hs, err := a.db().HoldersInSubtree(ctx, c.VillageID, domain.RoleReviewer, false)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if h.UnitID == c.VillageID && h.ChatID != nil && !h.Unreachable {
				chats = append(chats, *h.ChatID)
			}
		}
	default:
		return err
	}
	text := a.cardText(*c, hh)
	if footer != "" {
		text += "\n\n" + footer
	}
	var keys []string
	for _, chat := range chats {
		key := cardKey(c.ID, c.CardVersion, chat)
		m := storage.OutMessage{DedupeKey: key, ChatID: chat, Priority: storage.PriorityDefault, Kind: "claim_card"}
		payload := map[string]any{"parse_mode": "HTML"}
		if buttons {
			payload["reply_markup"] = reviewKeyboard(c.ID)
		}
		if c.HasPhoto() {
			m.Method = "sendPhoto"
			payload["photo"], payload["caption"] = *c.Photo, text
		} else {
			payload["text"] = text
			payload["link_preview_options"] = map[string]any{"is_disabled": true}
		}
		m.Payload = payload
		if err := a.db().Enqueue(ctx, m); err != nil {
			return err
		}
		keys = append(keys, key)
	}
	c.CardKeys = keys
	return a.db().SetClaimCards(ctx, c.ID, keys)
}

// editCards rewrites a claim's cards with footer below the claim text and
// no buttons; tag keeps each edit's dedupe key unique.
func (a Service) editCards(ctx context.Context, c storage.Claim, keys []string, hh storage.Household, footer, tag string) error {
	text := a.cardText(c, hh)
	if footer != "" {
		text += "\n\n" + footer
	}
	for _, key := range keys {
		m := storage.OutMessage{DedupeKey: key + ":" + tag, ChatID: cardChat(key), Priority: storage.PriorityDefault, Kind: "claim_card_edit"}
		if c.HasPhoto() {
			m.Method = "editMessageCaption"
			m.Payload = map[string]any{"edit_of": key, "caption": text, "parse_mode": "HTML"}
		} else {
			m.Method = "editMessageText"
			m.Payload = map[string]any{"edit_of": key, "text": text, "parse_mode": "HTML",
				"link_preview_options": map[string]any{"is_disabled": true}}
		}
		if err := a.db().Enqueue(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// reviewerOf authorises a decision on claim c (its approval, or an
// objection to it): only a reviewer of its village, never one of its own
// household (SPEC §7.4). It locks the household, so that decisions on it
// are serialised, and audits a refusal under action and subject with the
// given Chinese text.
func (a Service) reviewerOf(ctx context.Context, actor domain.Actor, c storage.Claim, action, subject, notReviewer, ownHousehold string) error {
	ok, err := a.mayInVillage(ctx, actor, c.VillageID, domain.RoleReviewer)
	if err != nil {
		return err
	}
	if !ok {
		return a.Refused(ctx, actor, action, subject, domain.Refuse(domain.ErrForbidden, "%s", notReviewer))
	}
	if err := a.db().LockHousehold(ctx, c.HouseholdID); err != nil {
		return err
	}
	if actor.PersonID == 0 {
		return nil
	}
	p, err := a.db().PersonByID(ctx, actor.PersonID)
	if err != nil {
		return err
	}
	if p.HouseholdID != nil && *p.HouseholdID == c.HouseholdID {
		return a.Refused(ctx, actor, action, subject, domain.Refuse(domain.ErrForbidden, "%s", ownHousehold))
	}
	return nil
}

// reverseAward appends the entry cancelling claim c's award e (an
// objection holds its points back), effective when the award is, and
// returns its id.
func (a Service) reverseAward(ctx context.Context, actor domain.Actor, c storage.Claim, e storage.PointEntry, note string, now time.Time) (int64, error) {
	rev := storage.PointEntry{HouseholdID: e.HouseholdID, VillageID: e.VillageID, Kind: storage.EntryReversal, Points: -e.Points,
		ClaimID: &c.ID, Reverses: &e.ID, ItemCode: e.ItemCode, ItemName: e.ItemName, Note: note,
		RecordedAt: now, EffectiveAt: e.EffectiveAt, Actor: actor.Label}
	if actor.PersonID != 0 {
		rev.RecordedBy = &actor.PersonID
	}
	return a.db().AppendPointEntry(ctx, rev)
}

// tellPerson sends a notice to a person's private chat when it is linked.
func (a Service) tellPerson(ctx context.Context, personID int64, key, text string) error {
	if personID == 0 {
		return nil
	}
	ch, err := a.db().ChatOf(ctx, personID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = a.db().Enqueue(ctx, storage.OutMessage{DedupeKey: key, ChatID: ch.ChatID, PersonID: personID,
		Priority: storage.PriorityDefault, Kind: "points_notice", Payload: map[string]any{"text": text, "parse_mode": "HTML"}})
	return err
}

// tellHousehold sends a notice to every linked member of a household.
func (a Service) tellHousehold(ctx context.Context, householdID int64, key, text string) error {
	chats, err := a.db().HouseholdChats(ctx, householdID)
	if err != nil {
		return err
	}
	for _, ch := range chats {
		err := a.db().Enqueue(ctx, storage.OutMessage{DedupeKey: key + ":" + strconv.FormatInt(ch.PersonID, 10), ChatID: ch.ChatID,
			PersonID: ch.PersonID, Priority: storage.PriorityDefault, Kind: "points_notice", Payload: map[string]any{"text": text, "parse_mode": "HTML"}})
		if err != nil {
			return err
		}
	}
	return nil
}

// DecisionResult is a decided claim and, when approved, its ledger entry.
// Under a review quorum an approval that does not reach it leaves the claim
// pending: Awaiting says how many approvals are still needed and Approvals
// who approved so far.
type DecisionResult struct {
	Claim     storage.Claim
	Household storage.Household // set by RecordDeduction, for its reply
	Entry     *storage.PointEntry
	Approvals []string
	Awaiting  int
}

// decider names whoever decides: the person's name, else the API token.
func (a Service) decider(ctx context.Context, actor domain.Actor) (string, error) {
	if actor.PersonID == 0 {
		return actor.Label, nil
	}
	p, err := a.db().PersonByID(ctx, actor.PersonID)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

var statusWords = map[string]string{
	storage.ClaimPending: pt.T("status.pending"), storage.ClaimApproved: pt.T("status.approved"),
	storage.ClaimRejected: pt.T("status.rejected"), storage.ClaimFrozen: pt.T("status.frozen"),
}

// DecideClaim approves or rejects a pending claim. Only a reviewer of the
// claim's village may (or an API token with the reviewer or admin role over
// it). Of several concurrent decisions exactly one is taken: the others are
// refused with who decided. Approval appends the ledger entry, effective
// after the publicity period; a veto freezes the household's other pending
// claims. The cards are edited and the claimant is told.
func (a Service) DecideClaim(ctx context.Context, actor domain.Actor, claimID int64, approve bool, reason string) (DecisionResult, error) {
	var res DecisionResult
	err := a.InTxRefusable(ctx, func(a *app.App) (err error) {
		res, err = Of(a).decideClaim(ctx, actor, claimID, approve, reason)
		return err
	})
	return res, err
}

func (a Service) decideClaim(ctx context.Context, actor domain.Actor, claimID int64, approve bool, reason string) (DecisionResult, error) {
	subject := claimSubject(claimID)
	c, err := a.db().ClaimByID(ctx, claimID)
	if errors.Is(err, domain.ErrNotFound) {
		return DecisionResult{}, a.Refused(ctx, actor, "claim.decide", subject, domain.Refuse(domain.ErrNotFound, "%s", pt.T("claim.refuse.no_such", "id", strconv.FormatInt(claimID, 10))))
	}
	if err != nil {
		return DecisionResult{}, err
	}
	if err := a.reviewerOf(ctx, actor, c, "claim.decide", subject,
		pt.T("decide.refuse.not_reviewer", "village", c.VillageName),
		pt.T("decide.refuse.own_household", "id", strconv.FormatInt(claimID, 10), "village", c.VillageName)); err != nil {
		return DecisionResult{}, err
	}
	name, err := a.decider(ctx, actor)
	if err != nil {
		return DecisionResult{}, err
	}
	now := a.Now()
	if c, err = a.db().ClaimByID(ctx, claimID); err != nil {
		return DecisionResult{}, err
	}
	if approve && c.Status == storage.ClaimPending && a.Cfg.Points.ReviewQuorum > 1 {
		// Collective review (积分评议小组): the approval counts toward the
		// quorum; the claim is decided only when the quorum is reached.
		names, done, err := a.approveTowardQuorum(ctx, actor, c, name, now)
		if err != nil || !done {
			return DecisionResult{Claim: c, Approvals: names, Awaiting: max(a.Cfg.Points.ReviewQuorum-len(names), 0)}, err
		}
		name = strings.Join(names, "、")
	}
	d := storage.ClaimDecision{Status: storage.ClaimRejected, At: now, By: actor.PersonID, Decider: name, Reason: cut(strings.TrimSpace(reason), 500)}
	if approve {
		d.Status = storage.ClaimApproved
	}
	taken, err := a.db().DecideClaim(ctx, claimID, d)
	if err != nil {
		return DecisionResult{}, err
	}
	if !taken {
		cur, err := a.db().ClaimByID(ctx, claimID)
		if err != nil {
			return DecisionResult{}, err
		}
		by := ""
		if cur.Decider != "" && cur.Status != storage.ClaimFrozen {
			by = pt.T("decide.refuse.taken_by", "decider", cur.Decider)
		}
		return DecisionResult{}, a.Refused(ctx, actor, "claim.decide", subject, domain.Refuse(domain.ErrConflict, "%s",
			pt.T("decide.refuse.taken", "id", strconv.FormatInt(claimID, 10), "status", statusWords[cur.Status], "by", by)))
	}
	oldKeys := c.CardKeys
	if c, err = a.db().ClaimByID(ctx, claimID); err != nil {
		return DecisionResult{}, err
	}
	hh, err := a.db().HouseholdByID(ctx, c.HouseholdID)
	if err != nil {
		return DecisionResult{}, err
	}
	res := DecisionResult{Claim: c}
	var effective *time.Time
	if approve {
		e, err := a.bookClaim(ctx, actor, c, hh)
		if err != nil {
			return res, err
		}
		res.Entry, effective = &e, &e.EffectiveAt
	}
	tag := "decided"
	if err := a.editCards(ctx, c, oldKeys, hh, a.decisionFooter(c, effective), tag); err != nil {
		return res, err
	}
	if c.Kind == storage.ClaimKindDeduction {
		// A deduction reopened by an objection was decided again.
		text := pt.T("notice.deduction_revoked", "id", strconv.FormatInt(c.ID, 10), "item", esc(PointsText(c)), "decider", esc(c.Decider))
		if effective != nil {
			text = a.householdDeductionNotice(c, *effective)
		}
		if err := a.tellHousehold(ctx, c.HouseholdID, fmt.Sprintf("claim:%d:told:%d:%s", c.ID, c.CardVersion, c.Status), text); err != nil {
			return res, err
		}
	} else if err := a.tellPerson(ctx, derefID(c.PersonID), fmt.Sprintf("claim:%d:told:%d:%s", c.ID, c.CardVersion, c.Status), a.claimantNotice(c, effective)); err != nil {
		return res, err
	}
	if err := a.db().AppendEvent(ctx, "claim.decided", c.VillageID, claimEvent(c, hh, res.Entry)); err != nil {
		return res, err
	}
	return res, a.Audit(ctx, actor, "claim.decide", subject, true, map[string]any{"status": c.Status, "reason": c.Reason})
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// bookClaim appends an approved claim's ledger entry, effective after the
// publicity period, and applies a veto.
func (a Service) bookClaim(ctx context.Context, actor domain.Actor, c storage.Claim, hh storage.Household) (storage.PointEntry, error) {
	at := a.Now()
	if c.DecidedAt != nil {
		at = *c.DecidedAt
	}
	kind := storage.EntryAward
	switch {
	case c.Veto:
		kind = storage.EntryVeto
	case c.Points < 0:
		kind = storage.EntryDeduction
	}
	e := storage.PointEntry{HouseholdID: c.HouseholdID, VillageID: c.VillageID, Kind: kind, Points: c.Points, ClaimID: &c.ID,
		ItemCode: c.ItemCode, ItemName: c.ItemName, Note: c.Note, RecordedAt: at,
		EffectiveAt: points.EffectiveAt(at, a.Cfg.Points.PublicityDays, a.Loc), Actor: actor.Label}
	if actor.PersonID != 0 {
		e.RecordedBy = &actor.PersonID
	}
	if c.Veto {
		e.Points = 0
	}
	id, err := a.db().AppendPointEntry(ctx, e)
	if err != nil {
		return e, err
	}
	e.ID = id
	if c.Veto {
		if err := a.freezeFor(ctx, c, hh); err != nil {
			return e, err
		}
	}
	return e, nil
}

// freezeFor freezes the household's pending claims because of veto c and
// rewrites their cards.
func (a Service) freezeFor(ctx context.Context, veto storage.Claim, hh storage.Household) error {
	ids, err := a.db().FreezeClaims(ctx, veto.HouseholdID, veto.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		fc, err := a.db().ClaimByID(ctx, id)
		if err != nil {
			return err
		}
		if err := a.editCards(ctx, fc, fc.CardKeys, hh, a.decisionFooter(fc, nil)+pt.T("footer.frozen_by", "id", strconv.FormatInt(veto.ID, 10)), "frozen"); err != nil {
			return err
		}
		if err := a.tellPerson(ctx, derefID(fc.PersonID), fmt.Sprintf("claim:%d:told:%d:frozen", fc.ID, fc.CardVersion), a.claimantNotice(fc, nil)); err != nil {
			return err
		}
	}
	return nil
}

// ObjectClaim reopens an approved claim during its publicity period (公示):
// a reviewer of the village objects with a reason; the ledger entry is
// cancelled by a reversing entry (effective when it would have been, so the
// balance never dips), the claim goes back to pending and its card is posted
// again for a new review. Reopening a veto unfreezes the claims it froze.
func (a Service) ObjectClaim(ctx context.Context, actor domain.Actor, claimID int64, reason string) (c storage.Claim, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { c, err = Of(tx).objectClaim(ctx, actor, claimID, reason); return err })
	return c, err
}

// objectClaim is ObjectClaim in the transaction ObjectClaim opens.
func (a Service) objectClaim(ctx context.Context, actor domain.Actor, claimID int64, reason string) (storage.Claim, error) {
	subject := claimSubject(claimID)
	reason = strings.TrimSpace(reason)
	c, err := a.db().ClaimByID(ctx, claimID)
	if errors.Is(err, domain.ErrNotFound) {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrNotFound, "%s", pt.T("claim.refuse.no_such", "id", strconv.FormatInt(claimID, 10))))
	}
	if err != nil {
		return c, err
	}
	ok, err := a.mayInVillage(ctx, actor, c.VillageID, domain.RoleReviewer)
	if err != nil {
		return c, err
	}
	if !ok && actor.PersonID != 0 && actor.Has(domain.RoleVillager, c.VillageID) {
		// Any linked villager of the village may object during 公示
		// (SPEC §7.4): the reviewers decide on the objection.
		return a.villagerObjection(ctx, actor, c, reason)
	}
	if !ok {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrForbidden, "%s", pt.T("object.refuse.forbidden", "village", c.VillageName)))
	}
	if _, err := a.db().OpenObjection(ctx, claimID); err == nil {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("object.refuse.villager_open", "id", strconv.FormatInt(claimID, 10))))
	} else if !errors.Is(err, domain.ErrNotFound) {
		return c, err
	}
	if reason == "" {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrInvalid, "%s", pt.T("object.refuse.no_reason", "id", strconv.FormatInt(claimID, 10))))
	}
	if c, err = a.lockClaim(ctx, c); err != nil {
		return c, err
	}
	if c.Status != storage.ClaimApproved {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrConflict,
			"%s", pt.T("object.refuse.not_approved", "id", strconv.FormatInt(claimID, 10), "status", statusWords[c.Status])))
	}
	e, now, err := a.publicityEntry(ctx, actor, c, "object.refuse.publicity_over")
	if err != nil {
		return c, err
	}
	taken, err := a.db().ReopenClaim(ctx, claimID, cut(reason, 500))
	if err != nil {
		return c, err
	}
	if !taken {
		return c, a.Refused(ctx, actor, "claim.object", subject, domain.Refuse(domain.ErrConflict, "%s", pt.T("object.refuse.reopened", "id", strconv.FormatInt(claimID, 10))))
	}
	revID, err := a.reverseAward(ctx, actor, c, e, pt.T("object.note", "reason", cut(reason, 200)), now)
	if err != nil {
		return c, err
	}
	hh, name, err := a.householdAndDecider(ctx, actor, c.HouseholdID)
	if err != nil {
		return c, err
	}
	// The old cards say what happened; a new card starts the new round.
	oldKeys := c.CardKeys
	footer := a.decisionFooter(c, &e.EffectiveAt) + pt.T("object.footer", "name", esc(name), "time", a.clock(now), "reason", esc(cut(reason, 200)))
	if err := a.editCards(ctx, c, oldKeys, hh, footer, "objected"); err != nil {
		return c, err
	}
	if c, err = a.db().ClaimByID(ctx, claimID); err != nil {
		return c, err
	}
	if err := a.postCards(ctx, &c, hh, ""); err != nil {
		return c, err
	}
	// To subscribers the claim is submitted again: pending, with why and
	// the entry that cancels its points, so a mirror of the ledger and of
	// the review queue stays right.
	ev := claimEvent(c, hh, nil)
	ev["reopened"], ev["objection"], ev["reversal_entry"] = true, cut(reason, 500), revID
	if err := a.db().AppendEvent(ctx, "claim.submitted", c.VillageID, ev); err != nil {
		return c, err
	}
	if c.Veto {
		ids, err := a.db().UnfreezeClaims(ctx, c.ID)
		if err != nil {
			return c, err
		}
		for _, id := range ids {
			fc, err := a.db().ClaimByID(ctx, id)
			if err != nil {
				return c, err
			}
			if err := a.postCards(ctx, &fc, hh, ""); err != nil {
				return c, err
			}
		}
	}
	if c.Kind == storage.ClaimKindClaim {
		if err := a.tellPerson(ctx, derefID(c.PersonID), fmt.Sprintf("claim:%d:told:%d:reopened", c.ID, c.CardVersion), a.claimantNotice(c, nil)); err != nil {
			return c, err
		}
	}
	return c, a.Audit(ctx, actor, "claim.object", subject, true, map[string]any{"reason": reason, "reversed_entry": e.ID})
}

// PendingClaims lists the claims awaiting review in the actor's villages
// (a reviewer's), oldest first, and the claims held by a villager's open
// objection, oldest objection first.
func (a Service) PendingClaims(ctx context.Context, actor domain.Actor) (PendingReview, error) {
	vs, err := a.villagesFor(ctx, actor, domain.RoleReviewer)
	if err != nil {
		return PendingReview{}, err
	}
	if len(vs) == 0 {
		return PendingReview{}, a.Refused(ctx, actor, "claim.pending", "", domain.Refuse(domain.ErrForbidden, "%s", pt.T("pending.refuse.forbidden")))
	}
	var r PendingReview
	if r.Claims, err = a.db().Claims(ctx, storage.ClaimFilter{VillageIDs: unitIDs(vs), Status: storage.ClaimPending, Ascending: true, Limit: 200}); err != nil {
		return r, err
	}
	r.Objections, err = a.db().UnderObjection(ctx, unitIDs(vs), 200)
	return r, err
}

// PendingReview is what waits for a reviewer (/pending): claims to decide
// and claims in 公示 held by a villager's objection.
type PendingReview struct {
	Claims     []storage.Claim
	Objections []storage.ObjectedClaim
}

// DeductRequest is a reviewer's "/deduct <phone | household> <item> [note]".
type DeductRequest struct {
	Target string
	Item   string
	Note   string
	// ActDate is the day the act happened (/deduct … 日期); zero = today.
	// A veto excludes the household for points.veto_scope around it.
	ActDate time.Time
	// ChatID is the group chat the command was sent in; 0 in private or
	// from no chat at all.
	ChatID int64
}

// RecordDeduction records a deduction or veto (否决项目) against a household,
// by a reviewer of its village: the item must be one only reviewers record.
// It is approved by its recorder at once, enters the ledger after the
// publicity period like any approved points (another reviewer may object
// meanwhile), and a veto disqualifies the household from this period's
// ranking and freezes its pending claims. The card is posted to the review
// group without buttons and the household is told. A deduction is the
// household's matter: never recorded in the villagers' 公示 group.
func (a Service) RecordDeduction(ctx context.Context, actor domain.Actor, req DeductRequest) (res DecisionResult, err error) {
	err = a.InTxRefusable(ctx, func(tx *app.App) error { res, err = Of(tx).recordDeduction(ctx, actor, req); return err })
	return res, err
}

// recordDeduction is RecordDeduction in the transaction RecordDeduction opens.
func (a Service) recordDeduction(ctx context.Context, actor domain.Actor, req DeductRequest) (DecisionResult, error) {
	if req.ChatID != 0 {
		// Refused before anything is asked of the actor, and not audited:
		// the command is said in the wrong place, by whomever.
		_, err := a.db().PublicGroupByChat(ctx, req.ChatID)
		switch {
		case err == nil:
			return DecisionResult{}, domain.Refuse(domain.ErrForbidden, "%s", pt.T("deduct.refuse.public_group"))
		case !errors.Is(err, domain.ErrNotFound):
			return DecisionResult{}, fmt.Errorf("the 公示 group of chat %d: %w", req.ChatID, err)
		}
	}
	vs, err := a.villagesFor(ctx, actor, domain.RoleReviewer)
	if err != nil {
		return DecisionResult{}, err
	}
	if len(vs) == 0 {
		return DecisionResult{}, a.Refused(ctx, actor, "claim.deduct", "", domain.Refuse(domain.ErrForbidden, "%s", pt.T("deduct.refuse.forbidden")))
	}
	if req.Target == "" || req.Item == "" {
		return DecisionResult{}, a.Refused(ctx, actor, "claim.deduct", "", domain.Refuse(domain.ErrInvalid, "%s", pt.T("deduct.usage")))
	}
	hh, personID, err := a.resolveHousehold(ctx, req.Target, vs)
	if err != nil {
		return DecisionResult{}, a.Refused(ctx, actor, "claim.deduct", "", err)
	}
	subject := "household:" + strconv.FormatInt(hh.ID, 10)
	items, err := a.CatalogFor(ctx, hh.VillageID)
	if err != nil {
		return DecisionResult{}, err
	}
	var recordable []points.Item
	for _, it := range items {
		if !it.Claimable {
			recordable = append(recordable, it)
		}
	}
	m := points.Match(recordable, req.Item)
	if m.Exact == nil {
		if len(m.Candidates) > 0 {
			var b strings.Builder
			for _, it := range m.Candidates {
				b.WriteString(pt.T("deduct.refuse.ambiguous_item", "code", it.Code, "name", it.Name))
			}
			return DecisionResult{}, a.Refused(ctx, actor, "claim.deduct", subject, domain.Refuse(domain.ErrInvalid,
				"%s", pt.T("deduct.refuse.ambiguous", "word", req.Item, "items", b.String())))
		}
		if other := points.Match(items, req.Item); other.Exact != nil {
			return DecisionResult{}, a.Refused(ctx, actor, "claim.deduct", subject, domain.Refuse(domain.ErrInvalid,
				"%s", pt.T("deduct.refuse.claimable", "code", other.Exact.Code, "name", other.Exact.Name)))
		}
		return DecisionResult{}, a.Refused(ctx, actor, "claim.deduct", subject, domain.Refuse(domain.ErrNotFound,
			"%s", pt.T("deduct.refuse.no_item", "word", req.Item)))
	}
	item := *m.Exact
	now := a.Now()
	act := req.ActDate
	if act.IsZero() {
		act = now
	}
	y, mo, d := act.In(a.Loc).Date()
	actDay := time.Date(y, mo, d, 0, 0, 0, 0, a.Loc)
	if ty, tm, td := now.In(a.Loc).Date(); actDay.After(time.Date(ty, tm, td, 0, 0, 0, 0, a.Loc)) {
		return DecisionResult{}, a.Refused(ctx, actor, "claim.deduct", subject, domain.Refuse(domain.ErrInvalid, "%s", pt.T("deduct.refuse.future",
			"year", strconv.Itoa(y), "month", strconv.Itoa(int(mo)), "day", strconv.Itoa(d), "target", req.Target, "code", item.Code,
			"today", now.In(a.Loc).Format("2006-01-02"))))
	}
	if err := a.db().LockHousehold(ctx, hh.ID); err != nil {
		return DecisionResult{}, err
	}
	name, err := a.decider(ctx, actor)
	if err != nil {
		return DecisionResult{}, err
	}
	nc := storage.NewClaim{VillageID: hh.VillageID, HouseholdID: hh.ID, PersonID: personID,
		RecordedBy: actor.PersonID, Kind: storage.ClaimKindDeduction, ItemCode: item.Code, ItemName: item.Name, Category: item.Category,
		Points: item.Points, Veto: item.Veto, Evidence: string(item.Evidence), Note: cut(req.Note, 500),
		Status: storage.ClaimApproved, ClaimedAt: now, Decider: name, Source: "telegram", ActDate: &actDay}
	if item.Veto {
		from, until := points.VetoWindow(a.vetoScope(), actDay, a.Loc)
		nc.VetoFrom, nc.VetoUntil = &from, &until
	}
	id, err := a.db().InsertClaim(ctx, nc)
	if err != nil {
		return DecisionResult{}, err
	}
	c, err := a.db().ClaimByID(ctx, id)
	if err != nil {
		return DecisionResult{}, err
	}
	e, err := a.bookClaim(ctx, actor, c, hh)
	if err != nil {
		return DecisionResult{}, err
	}
	if err := a.postCards(ctx, &c, hh, a.decisionFooter(c, &e.EffectiveAt)); err != nil {
		return DecisionResult{}, err
	}
	if err := a.tellHousehold(ctx, hh.ID, fmt.Sprintf("claim:%d:deducted", c.ID), a.householdDeductionNotice(c, e.EffectiveAt)); err != nil {
		return DecisionResult{}, err
	}
	if err := a.db().AppendEvent(ctx, "claim.decided", c.VillageID, claimEvent(c, hh, &e)); err != nil {
		return DecisionResult{}, err
	}
	return DecisionResult{Claim: c, Household: hh, Entry: &e}, a.Audit(ctx, actor, "claim.deduct", claimSubject(c.ID), true,
		map[string]any{"item": c.ItemCode, "points": c.Points, "veto": c.Veto, "household": hh.Code})
}
