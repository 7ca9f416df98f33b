package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// The demo county's bulk writes (app.LoadDemo): a made-up history of
// hundreds of branches and villages written in a few statements, so that
// `zhibu demo` loads in seconds. They run inside the loader's transaction.

// demoChunk bounds the rows of one statement.
const demoChunk = 2000

// SetAllStartedOn sets every unit's start date (the day obligations are owed from).
func (s *Store) SetAllStartedOn(ctx context.Context, d time.Time) error {
	return exec(ctx, s, "set start dates", `UPDATE units SET started_on = $1::date`, d.Format(time.DateOnly))
}

// DemoCheckin is a check-in with its one item.
type DemoCheckin struct {
	Checkin NewCheckin
	Item    CheckinItem
}

// nextIDs reserves n ids of a bigserial table's sequence, in order.
func (s *Store) nextIDs(ctx context.Context, table string, n int) ([]int64, error) {
	return selectAll[int64](ctx, s, fmt.Sprintf("reserve %d %s ids", n, table), `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
}

// InsertDemoCheckins stores check-ins with their items, in batches.
func (s *Store) InsertDemoCheckins(ctx context.Context, cs []DemoCheckin) error {
	for len(cs) > 0 {
		chunk := cs[:min(len(cs), demoChunk)]
		cs = cs[len(chunk):]
		ids, err := s.nextIDs(ctx, "checkins", len(chunk))
		if err != nil {
			return err
		}
		n := len(chunk)
		branch, present, total, by := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		held, topic, source, obligation, period := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		at := make([]time.Time, n)
		unit := make([]int64, n)
		for i, c := range chunk {
			branch[i], present[i], total[i], by[i] = c.Checkin.BranchID, int64(c.Checkin.Present), int64(c.Checkin.Total), c.Checkin.RecordedBy
			held[i], topic[i], source[i], at[i] = c.Checkin.HeldOn, c.Checkin.Topic, c.Checkin.Source, c.Checkin.RecordedAt
			obligation[i], period[i], unit[i] = c.Item.Obligation, c.Item.Period, c.Item.UnitID
		}
		if err := exec(ctx, s, "insert demo check-ins", `
			INSERT INTO checkins (id, branch_id, held_on, present, total, topic, source, recorded_by, recorded_at)
			SELECT id, b, h::date, NULLIF(p, 0), NULLIF(t, 0), tp, src, NULLIF(r, 0), a
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], $9::timestamptz[])
				AS x(id, b, h, p, t, tp, src, r, a)`,
			pq.Array(ids), pq.Array(branch), pq.Array(held), pq.Array(present), pq.Array(total), pq.Array(topic), pq.Array(source),
			pq.Array(by), pq.Array(at)); err != nil {
			return err
		}
		if err := exec(ctx, s, "insert demo check-in items", `
			INSERT INTO checkin_items (checkin_id, obligation, period, unit_id)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])`,
			pq.Array(ids), pq.Array(obligation), pq.Array(period), pq.Array(unit)); err != nil {
			return err
		}
	}
	return nil
}

// DemoClaim is a claim, its decision when decided, and its ledger entry
// (an approved claim's award); a redemption is an Entry without a claim.
type DemoClaim struct {
	Claim    NewClaim
	Decision *ClaimDecision
	Entry    *PointEntry
}

// InsertDemoClaims stores claims, decisions and ledger entries, in batches.
func (s *Store) InsertDemoClaims(ctx context.Context, cs []DemoClaim) error {
	for len(cs) > 0 {
		chunk := cs[:min(len(cs), demoChunk)]
		cs = cs[len(chunk):]
		var claims []DemoClaim
		for _, c := range chunk {
			if c.Claim.HouseholdID != 0 {
				claims = append(claims, c)
			}
		}
		ids, err := s.nextIDs(ctx, "claims", len(claims))
		if err != nil {
			return err
		}
		n := len(claims)
		village, household, person, pts, decidedBy := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		kind, code, name, category, evidence, status, decider, reason, source := make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		claimed, decided := make([]time.Time, n), make([]*time.Time, n)
		for i, c := range claims {
			k := c.Claim
			village[i], household[i], person[i], pts[i] = k.VillageID, k.HouseholdID, k.PersonID, int64(k.Points)
			kind[i], code[i], name[i], category[i], evidence[i], status[i], source[i] = k.Kind, k.ItemCode, k.ItemName, k.Category, k.Evidence, k.Status, k.Source
			claimed[i] = k.ClaimedAt
			if d := c.Decision; d != nil {
				status[i], decidedBy[i], decider[i], reason[i] = d.Status, d.By, d.Decider, d.Reason
				at := d.At
				decided[i] = &at
			}
		}
		if n > 0 {
			if err := exec(ctx, s, "insert demo claims", `
				INSERT INTO claims (id, village_id, household_id, person_id, kind, item_code, item_name, category, points, evidence,
					status, claimed_at, decided_at, decided_by, decider, reason, source)
				SELECT id, v, h, NULLIF(p, 0), k, c, n, cat, pts, ev, st, ca, da, NULLIF(db, 0), dr, rs, src
				FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
					$9::bigint[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::bigint[], $15::text[], $16::text[], $17::text[])
					AS x(id, v, h, p, k, c, n, cat, pts, ev, st, ca, da, db, dr, rs, src)`,
				pq.Array(ids), pq.Array(village), pq.Array(household), pq.Array(person), pq.Array(kind), pq.Array(code), pq.Array(name),
				pq.Array(category), pq.Array(pts), pq.Array(evidence), pq.Array(status), pq.Array(claimed), pq.Array(decided),
				pq.Array(decidedBy), pq.Array(decider), pq.Array(reason), pq.Array(source)); err != nil {
				return err
			}
		}
		var es []PointEntry
		var claimIDs []*int64
		j := 0
		for _, c := range chunk {
			var id *int64
			if c.Claim.HouseholdID != 0 {
				id = &ids[j]
				j++
			}
			if c.Entry != nil {
				es = append(es, *c.Entry)
				claimIDs = append(claimIDs, id)
			}
		}
		m := len(es)
		if m == 0 {
			continue
		}
		eh, ev, ep, eby := make([]int64, m), make([]int64, m), make([]int64, m), make([]int64, m)
		ek, ec, en, eg, ea := make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m)
		erec, eeff := make([]time.Time, m), make([]time.Time, m)
		for i, e := range es {
			eh[i], ev[i], ep[i] = e.HouseholdID, e.VillageID, int64(e.Points)
			if e.RecordedBy != nil {
				eby[i] = *e.RecordedBy
			}
			ek[i], ec[i], en[i], eg[i], ea[i] = e.Kind, e.ItemCode, e.ItemName, e.Goods, e.Actor
			erec[i], eeff[i] = e.RecordedAt, e.EffectiveAt
		}
		if err := exec(ctx, s, "insert demo ledger entries", `
			INSERT INTO point_ledger (household_id, village_id, kind, points, claim_id, item_code, item_name, goods, recorded_at, effective_at, recorded_by, actor)
			SELECT h, v, k, p, c, ic, iname, g, ra, ea, NULLIF(rb, 0), act
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
				$9::timestamptz[], $10::timestamptz[], $11::bigint[], $12::text[])
				AS x(h, v, k, p, c, ic, iname, g, ra, ea, rb, act)`,
			pq.Array(eh), pq.Array(ev), pq.Array(ek), pq.Array(ep), pq.Array(claimIDs), pq.Array(ec), pq.Array(en), pq.Array(eg),
			pq.Array(erec), pq.Array(eeff), pq.Array(eby), pq.Array(ea)); err != nil {
			return err
		}
	}
	return nil
}

// DemoPerson is one row of the demo's people: a person with one role in
// a unit (by code) and, for a villager, a household and whether they head it.
type DemoPerson struct {
	Name, Phone, Role, UnitCode, Household string
	Head                                   bool
}

// DemoIDs are the ids InsertDemoPeople gave: people by phone, households by
// unit code + "/" + household code.
type DemoIDs struct {
	People     map[string]int64
	Households map[string]int64
}

// InsertDemoPeople stores people (identified by phone), their roles,
// households and heads in a few statements.
func (s *Store) InsertDemoPeople(ctx context.Context, ps []DemoPerson) (DemoIDs, error) {
	s.accountsChanged()
	ids := DemoIDs{People: map[string]int64{}, Households: map[string]int64{}}
	n := len(ps)
	name, phone, role, unit, hh := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	head := make([]bool, n)
	for i, p := range ps {
		name[i], phone[i], role[i], unit[i], hh[i], head[i] = p.Name, p.Phone, p.Role, p.UnitCode, p.Household, p.Head
	}
	var people []struct {
		ID    int64  `db:"id"`
		Phone string `db:"phone"`
	}
	if err := sqlxSelect(ctx, s, &people, `
		INSERT INTO people (name, phone) SELECT DISTINCT ON (ph) nm, ph FROM unnest($1::text[], $2::text[]) AS x(nm, ph)
		ON CONFLICT (phone) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
		RETURNING id, phone`, pq.Array(name), pq.Array(phone)); err != nil {
		return ids, fmt.Errorf("storage: insert demo people: %w", err)
	}
	for _, p := range people {
		ids.People[p.Phone] = p.ID
	}
	if err := exec(ctx, s, "insert demo roles", `
		INSERT INTO roles (person_id, role, unit_id)
		SELECT p.id, x.r, u.id FROM unnest($1::text[], $2::text[], $3::text[]) AS x(ph, r, uc)
		JOIN people p ON p.phone = x.ph JOIN units u ON u.code = x.uc
		ON CONFLICT DO NOTHING`, pq.Array(phone), pq.Array(role), pq.Array(unit)); err != nil {
		return ids, err
	}
	var households []struct {
		ID   int64  `db:"id"`
		Unit string `db:"unit"`
		Code string `db:"code"`
	}
	arrays := []any{pq.Array(phone), pq.Array(unit), pq.Array(hh), pq.Array(head)}
	const x = `(SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[]) AS x(ph, uc, hh, head) WHERE hh <> '') x`
	if err := sqlxSelect(ctx, s, &households, `
		INSERT INTO households (unit_id, code)
		SELECT DISTINCT u.id, x.hh FROM `+x+` JOIN units u ON u.code = x.uc
		ON CONFLICT (unit_id, code) DO UPDATE SET code = EXCLUDED.code
		RETURNING id, (SELECT code FROM units WHERE id = unit_id) AS unit, code`, arrays...); err != nil {
		return ids, fmt.Errorf("storage: insert demo households: %w", err)
	}
	if err := exec(ctx, s, "demo household members", `
		UPDATE people p SET household_id = h.id, updated_at = now()
		FROM `+x+` JOIN units u ON u.code = x.uc JOIN households h ON h.unit_id = u.id AND h.code = x.hh
		WHERE p.phone = x.ph`, arrays...); err != nil {
		return ids, err
	}
	if err := exec(ctx, s, "demo household heads", `
		UPDATE households h SET head_id = p.id
		FROM `+x+` JOIN units u ON u.code = x.uc JOIN people p ON p.phone = x.ph
		WHERE x.head AND h.unit_id = u.id AND h.code = x.hh`, arrays...); err != nil {
		return ids, err
	}
	for _, h := range households {
		ids.Households[h.Unit+"/"+h.Code] = h.ID
	}
	return ids, nil
}
