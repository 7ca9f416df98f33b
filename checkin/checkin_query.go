package checkin

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/storage"
)

// maxListedCheckins bounds one API listing.
const maxListedCheckins = 1000

// ListCheckins lists the check-ins of the branches in unitCode's subtree
// (default: the actor's own unit) held between from and to (YYYY-MM-DD,
// inclusive, either may be empty). The unit must lie in the subtree of one
// of the actor's units. limit (at most 1,001, default 1,000) and before
// (nil: from the newest) page through them.
func (a Service) ListCheckins(ctx context.Context, actor domain.Actor, unitCode, from, to string, limit int, before *storage.CheckinKey) ([]storage.Checkin, error) {
	for _, d := range []struct{ name, v string }{{"from", from}, {"to", to}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return nil, domain.Refuse(domain.ErrInvalid, "%s", api.T("query.date", "name", d.name))
		}
	}
	// Check-ins name who recorded them: not for villager, reviewer or
	// shopkeeper tokens (SPEC §7.5).
	unit, err := a.Scope(ctx, actor, access.ListCheckins, string(access.ListCheckins), unitCode)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > maxListedCheckins+1 {
		limit = maxListedCheckins
	}
	return a.db().Checkins(ctx, storage.CheckinFilter{RootID: unit.ID, From: from, To: to, Limit: limit, Before: before})
}

// LedgerLine is one row of the check-in ledger (台账) export: one
// (check-in, obligation, unit).
type LedgerLine struct {
	storage.LedgerRow
	ObligationName string
	RecordedByName string // the person, or "API" for a token
}

// CheckinLedger reads the check-in ledger of unitCode's subtree ("" = all
// for the operator, the actor's own unit for anyone else).
func (a Service) CheckinLedger(ctx context.Context, actor domain.Actor, unitCode string) ([]LedgerLine, error) {
	var root int64
	if unitCode != "" || !actor.IsOperator() {
		u, err := a.Scope(ctx, actor, access.ListCheckins, "checkins.ledger", unitCode)
		if err != nil {
			return nil, err
		}
		root = u.ID
	}
	rows, err := a.db().CheckinLedger(ctx, root)
	if err != nil {
		return nil, err
	}
	out := make([]LedgerLine, len(rows))
	for i, r := range rows {
		l := LedgerLine{LedgerRow: r, ObligationName: r.Obligation, RecordedByName: "API"}
		if ob, ok := healthcheck.Of(a.App).Obligation(r.Obligation); ok {
			l.ObligationName = ob.Name
		}
		if r.RecordedBy != nil {
			l.RecordedByName = *r.RecordedBy
		} else if r.Source != SourceAPI {
			l.RecordedByName = r.Source
		}
		out[i] = l
	}
	return out, nil
}
