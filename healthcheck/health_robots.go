package healthcheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/integrations"
	"github.com/zhibu/zhibu/storage"
)

// notifyRobots sends the health check's notices to the group robots of the
// units they concern (SPEC §5: notification channels besides Telegram for
// units that use them), in the evaluation's transaction: a digest to a
// branch's secretary goes to the branch's robots too, a digest to an
// organiser to the robots of the committee where they organise.
//
// The robot message is the digest itself when all its lines concern one
// unit with robots, which is the common case; a digest mixing units (a
// secretary of two branches) is not split and reaches the people only.
// Its dedupe key comes from the lines without their recipient, so that the
// identical notices of a branch's secretary and deputy reach its robots
// once, and a repeat the next day (a new slot) again. Robots get the
// digest's channel-neutral parts (recs[i] is digests[i] as recorded),
// without the note of a message sent via the fallback group, which is about
// the person's Telegram account, and without the 收到 buttons; the robot
// channel renders them.
func (e *engine) notifyRobots(ctx context.Context, recs []storage.DigestRecord, digests []health.Digest) error {
	if e.robotUnits == nil {
		ids, err := e.st.RobotUnits(ctx)
		if err != nil {
			return err
		}
		e.robotUnits = make(map[int64]bool, len(ids))
		for _, id := range ids {
			e.robotUnits[id] = true
		}
	}
	if len(e.robotUnits) == 0 {
		return nil
	}
	// Which committee an organiser's line is for: one query for the batch.
	type pair struct{ person, unit int64 }
	var persons, units []int64
	seen := map[pair]bool{}
	for i := range recs {
		for _, l := range recs[i].Lines {
			p := pair{l.PersonID, l.UnitID}
			if l.Role == domain.RoleOrganiser && !seen[p] {
				seen[p] = true
				persons, units = append(persons, l.PersonID), append(units, l.UnitID)
			}
		}
	}
	org := map[pair]int64{}
	if len(persons) > 0 {
		candidates := make([]int64, 0, len(e.robotUnits))
		for id := range e.robotUnits {
			candidates = append(candidates, id)
		}
		over, err := e.st.OrganiserUnitsOver(ctx, persons, units, candidates)
		if err != nil {
			return err
		}
		for i, u := range over {
			org[pair{persons[i], units[i]}] = u
		}
	}
	for i := range recs {
		d := &recs[i]
		target := int64(-1)
		for _, l := range d.Lines {
			u := l.UnitID
			if l.Role == domain.RoleOrganiser {
				u = org[pair{l.PersonID, l.UnitID}]
			}
			if target != -1 && u != target {
				target = 0 // mixed
				break
			}
			target = u
		}
		if target <= 0 || !e.robotUnits[target] {
			continue
		}
		key := robotNoticeKey(target, d.Lines)
		dg := &digests[i]
		for j, part := range dg.Parts {
			part.Lines = part.Lines[dg.PreludeLines:]
			part.Buttons = nil // the 收到 taps come back through Telegram only
			if err := integrations.Of(e.a.App).NotifyUnitRobots(ctx, target, key+":"+strconv.Itoa(j+1), part, d.Priority); err != nil {
				return err
			}
		}
	}
	return nil
}

// robotNoticeKey identifies a unit's notice by its lines, without who
// received them.
func robotNoticeKey(unit int64, lines []storage.NoticeLine) string {
	ks := make([]string, len(lines))
	for i, l := range lines {
		ks[i] = fmt.Sprintf("%d|%s|%s|%s|%d|%d", l.UnitID, l.Obligation, l.Period, l.Level, l.Slot, l.OrgLevel)
	}
	slices.Sort(ks)
	ks = slices.Compact(ks)
	h := sha256.New()
	for _, k := range ks {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return "hcr:" + strconv.FormatInt(unit, 10) + ":" + hex.EncodeToString(h.Sum(nil)[:12])
}
