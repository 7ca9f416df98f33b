package healthcheck

import (
	"context"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/domain/health"
	"github.com/zhibu/zhibu/storage"
)

// The memory of a unit (storage.HealthMemory) is what the last evaluations
// left about it: its yellow and red lights, and per person, item and level
// the latest slot sent. It is rewritten, pruned, for the units an
// evaluation changed: entries of green past items whose story is over are
// dropped. The notification log stays the authority: a line the memory
// forgot is refused by the log's key and planned again.

// promptOb is the obligation index of a green prompt of monthly periods;
// quarterly and yearly prompts are promptOb-1 and promptOb-2.
const promptOb = -1

// recIndex numbers recurrences 0, 1, 2.
func recIndex(r health.Recurrence) int {
	switch r {
	case health.Quarterly:
		return 1
	case health.Yearly:
		return 2
	}
	return 0
}

var recs = [3]health.Recurrence{health.Monthly, health.Quarterly, health.Yearly}

// memRec is one S entry.
type memRec struct {
	person int64
	slot   int64
	unit   int32
	seq    int32
	ob     int16 // obligation index, or promptOb-recIndex for a prompt
	level  byte
	org    bool
}

var levelBytes = map[health.Level]byte{health.LevelGreen: 'g', health.LevelYellow: 'y', health.LevelRed: 'r', health.LevelResolved: 'v'}

// levelOfByte is the level a memRec's byte stands for (see levelBytes).
func levelOfByte(b byte) health.Level {
	for l, lb := range levelBytes {
		if lb == b {
			return l
		}
	}
	return ""
}

// rec is the recurrence of an entry's obligation.
func (e *engine) rec(ob int16) health.Recurrence {
	if ob < 0 {
		return recs[promptOb-ob]
	}
	return e.obs[ob].Recurs
}

// periodAny reads a period key of any recurrence.
func periodAny(b []byte) (health.Recurrence, int32, bool) {
	p, ok := health.ParseKey(b)
	return p.Rec, periodSeq(p), ok
}

// loadMemory takes in unit ui's memory: its stored lights, its sent slots,
// and its items awaiting a "resolved" note.
func (e *engine) loadMemory(ui int32, m *storage.HealthMemory) {
	u := &e.units[ui]
	u.memLo, u.litLo = int32(len(e.mem)), int32(len(e.stored))
	for _, l := range m.Lights {
		oi, ok := e.obIdx[string(l.Obligation)]
		if !ok || l.Period.Rec != e.obs[oi].Recurs {
			continue
		}
		e.stored = append(e.stored, storedLight{ob: oi, seq: periodSeq(l.Period), light: l.Light})
	}
	for _, x := range m.Sent {
		r := memRec{unit: ui, person: x.Person, level: levelBytes[x.Level], slot: x.Slot, org: x.Organiser, seq: periodSeq(x.Period)}
		if string(x.Obligation) == health.AllObligations {
			r.ob = promptOb - int16(recIndex(x.Period.Rec))
		} else {
			oi, ok := e.obIdx[string(x.Obligation)]
			if !ok || x.Period.Rec != e.obs[oi].Recurs {
				continue
			}
			r.ob = oi
		}
		e.mem = append(e.mem, r)
	}
	u.memHi, u.litHi = int32(len(e.mem)), int32(len(e.stored))
	// Items whose red notice reached organisers and whose resolved note
	// has not gone out.
	for i := u.memLo; i < u.memHi; i++ {
		r := &e.mem[i]
		if r.level != 'r' || !r.org || r.ob < 0 {
			continue
		}
		resolved := false
		for j := u.memLo; j < u.memHi; j++ {
			if o := &e.mem[j]; o.level == 'v' && o.ob == r.ob && o.seq == r.seq {
				resolved = true
				break
			}
		}
		if resolved {
			continue
		}
		if e.pending == nil {
			e.pending = map[int64][]pendingResolved{}
		}
		ps := e.pending[u.ID]
		found := false
		for k := range ps {
			if ps[k].ob == r.ob && ps[k].seq == r.seq {
				ps[k].people = append(ps[k].people, r.person)
				found = true
			}
		}
		if !found {
			ps = append(ps, pendingResolved{ob: r.ob, seq: r.seq, people: []int64{r.person}})
		}
		e.pending[u.ID] = ps
	}
}

// sentSlot is the latest slot the memory holds for a person, item and level.
func (e *engine) sentSlot(ui int32, person int64, ob int16, seq int32, level byte) (int64, bool) {
	u := &e.units[ui]
	for i := u.memLo; i < u.memHi; i++ {
		if r := &e.mem[i]; r.person == person && r.ob == ob && r.seq == seq && r.level == level {
			return r.slot, true
		}
	}
	return 0, false
}

type parsedKey struct {
	unit   int32
	person int64
	ob     int16
	seq    int32
	level  byte
	slot   int64
}

// parseKey reads a notice key "person/unit/obligation/period/level/slot"
// without allocating; ok is false for a unit outside the run.
func (e *engine) parseKey(key string) (parsedKey, bool) {
	var f [6]string
	rest := key
	for i := range f {
		if i == len(f)-1 {
			f[i] = rest
			break
		}
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return parsedKey{}, false
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	var k parsedKey
	unit, err1 := strconv.ParseInt(f[1], 10, 64)
	person, err2 := strconv.ParseInt(f[0], 10, 64)
	slot, err3 := strconv.ParseInt(f[5], 10, 64)
	ui, ok := e.byID[unit]
	if err1 != nil || err2 != nil || err3 != nil || !ok || f[4] == "" {
		return parsedKey{}, false
	}
	k.unit, k.person, k.slot, k.level = ui, person, slot, levelBytes[health.Level(f[4])]
	if f[2] == health.AllObligations {
		rec, seq, ok := periodAny([]byte(f[3]))
		if !ok {
			return parsedKey{}, false
		}
		k.ob, k.seq = promptOb-int16(recIndex(rec)), seq
		return k, true
	}
	oi, ok := e.obIdx[f[2]]
	if !ok {
		return parsedKey{}, false
	}
	seq, ok := parseSeq([]byte(f[3]), e.obs[oi].Recurs)
	k.ob, k.seq = oi, seq
	return k, ok
}

// remember notes a line recorded in this run, for the memory.
func (e *engine) remember(l storage.NoticeLine) {
	k, ok := e.parseKey(l.Key)
	if !ok {
		return
	}
	e.units[k.unit].touched = true
	e.newMem = append(e.newMem, memRec{unit: k.unit, person: k.person, ob: k.ob, seq: k.seq, level: k.level, slot: k.slot,
		org: l.Role == string(health.RoleOrganiser)})
}

// saveMemory rewrites the memory of every unit this run touched: its
// yellow and red lights now, and the sent slots still worth keeping.
func (e *engine) saveMemory(ctx context.Context) error {
	lits := map[int32][]newLight{}
	for _, l := range e.lit {
		if e.units[l.unit].touched {
			lits[l.unit] = append(lits[l.unit], l)
		}
	}
	news := map[int32][]memRec{}
	for _, r := range e.newMem {
		news[r.unit] = append(news[r.unit], r)
	}
	codes := make([][]byte, len(e.obs))
	for i := range e.obs {
		codes[i] = []byte(e.obs[i].Code)
	}
	allObs := []byte(health.AllObligations)
	var ids []int64
	var mems []storage.HealthMemory
	for ui := range e.units {
		u := &e.units[ui]
		if !u.touched {
			continue
		}
		var mem storage.HealthMemory
		lit := lits[int32(ui)]
		for _, l := range lit {
			ob := &e.obs[l.ob]
			mem.Lights = append(mem.Lights, storage.MemoryLight{Obligation: codes[l.ob], Period: seqPeriod(ob.Recurs, l.seq), Light: l.light})
		}
		// Merge the old entries with this run's lines.
		merged := append([]memRec(nil), e.mem[u.memLo:u.memHi]...)
	next:
		for _, n := range news[int32(ui)] {
			for i := range merged {
				if m := &merged[i]; m.person == n.person && m.ob == n.ob && m.seq == n.seq && m.level == n.level {
					m.slot, m.org = max(m.slot, n.slot), m.org || n.org
					continue next
				}
			}
			merged = append(merged, n)
		}
		for _, m := range merged {
			if !e.keep(m, lit, merged) {
				continue
			}
			ob := allObs
			if m.ob >= 0 {
				ob = codes[m.ob]
			}
			mem.Sent = append(mem.Sent, storage.MemorySent{Person: m.person, Obligation: ob, Period: seqPeriod(e.rec(m.ob), m.seq),
				Level: levelOfByte(m.level), Slot: m.slot, Organiser: m.org})
		}
		ids, mems = append(ids, u.ID), append(mems, mem)
		if len(ids) >= memoryChunk {
			if err := e.st.SaveHealthMemory(ctx, ids, mems); err != nil {
				return err
			}
			ids, mems = ids[:0], mems[:0]
		}
	}
	return e.st.SaveHealthMemory(ctx, ids, mems)
}

// memoryChunk is how many units' memory is written per statement.
const memoryChunk = 10000

// keep decides whether a sent entry is still worth remembering: prompts of
// the current periods; anything about an item that is yellow or red now,
// current or next, or still owes its organisers a resolved note.
func (e *engine) keep(m memRec, lit []newLight, all []memRec) bool {
	if m.ob < 0 {
		return m.seq == e.curRec[promptOb-m.ob]
	}
	if m.seq >= e.cur[m.ob] {
		return true
	}
	for _, l := range lit {
		if l.ob == m.ob && l.seq == m.seq {
			return true
		}
	}
	redOrg, resolved := false, false
	for _, o := range all {
		if o.ob == m.ob && o.seq == m.seq {
			redOrg = redOrg || (o.level == 'r' && o.org)
			resolved = resolved || o.level == 'v'
		}
	}
	return redOrg && !resolved
}
