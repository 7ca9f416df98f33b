package storage

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/zhibu/zhibu/domain/health"
)

// The memory of a unit (health_units.memory) is what the last evaluations
// left about it. Only this file reads and writes its text, one entry per
// ';':
//
//	L <obligation> <period> <y|r>                     a yellow or red light
//	S <person> <obligation|*> <period> <g|y|r|v> <slot>[ o]
//	                                                  the latest slot sent to a
//	                                                  person for an item and level
//	                                                  (g green prompt, y yellow,
//	                                                  r red, v resolved; o: the
//	                                                  person got it as organiser)
//
// It stays text for the same reason as the done runs: every evaluation
// reads the memory of every unit, and text is the cheapest to read.

// HealthMemory is a unit's memory.
type HealthMemory struct {
	Lights []MemoryLight
	Sent   []MemorySent
}

// MemoryLight is a yellow or red light an evaluation left for an item.
type MemoryLight struct {
	Obligation []byte // read: only valid during HealthTree's callback
	Period     health.Period
	Light      health.Light // Yellow or Red
}

// MemorySent is the latest slot sent to a person for an item and level.
type MemorySent struct {
	Person     int64
	Obligation []byte // health.AllObligations for a green prompt; read: only valid during the callback
	Period     health.Period
	Level      health.Level
	Slot       int64
	Organiser  bool // the person got it as organiser
}

// maxMemFields is the most fields a memory entry has (an S entry of an
// organiser: 7).
const maxMemFields = 7

// memFields splits a memory entry at runs of spaces into fs, like
// bytes.Fields but without allocating (the tree's load reads every unit's
// memory on each evaluation). An entry with more than maxMemFields fields
// comes back empty: no entry has that many.
func memFields(entry []byte, fs *[maxMemFields][]byte) [][]byte {
	n := 0
	for {
		for len(entry) > 0 && entry[0] == ' ' {
			entry = entry[1:]
		}
		if len(entry) == 0 {
			return fs[:n]
		}
		if n == maxMemFields {
			return fs[:0]
		}
		i := bytes.IndexByte(entry, ' ')
		if i < 0 {
			i = len(entry)
		}
		fs[n], entry = entry[:i], entry[i:]
		n++
	}
}

var memLevels = [...]struct {
	b byte
	l health.Level
}{{'g', health.LevelGreen}, {'y', health.LevelYellow}, {'r', health.LevelRed}, {'v', health.LevelResolved}}

// readMemory reads a unit's memory into m (its slices reused); an entry it
// cannot read is skipped.
func readMemory(data []byte, m *HealthMemory) {
	m.Lights, m.Sent = m.Lights[:0], m.Sent[:0]
	var fs [maxMemFields][]byte
	for len(data) > 0 {
		var entry []byte
		entry, data, _ = bytes.Cut(data, []byte{';'})
		f := memFields(entry, &fs)
		switch {
		case len(f) == 4 && string(f[0]) == "L":
			p, ok := health.ParseKey(f[2])
			if !ok || len(f[3]) != 1 || (f[3][0] != 'y' && f[3][0] != 'r') {
				continue
			}
			l := health.Yellow
			if f[3][0] == 'r' {
				l = health.Red
			}
			m.Lights = append(m.Lights, MemoryLight{Obligation: f[1], Period: p, Light: l})
		case (len(f) == 6 || len(f) == 7 && string(f[6]) == "o") && string(f[0]) == "S":
			person, err1 := strconv.ParseInt(string(f[1]), 10, 64)
			slot, err2 := strconv.ParseInt(string(f[5]), 10, 64)
			p, ok := health.ParseKey(f[3])
			if err1 != nil || err2 != nil || !ok || len(f[4]) != 1 {
				continue
			}
			s := MemorySent{Person: person, Obligation: f[2], Period: p, Slot: slot, Organiser: len(f) == 7}
			for _, ml := range memLevels {
				if ml.b == f[4][0] {
					s.Level = ml.l
				}
			}
			if s.Level != "" {
				m.Sent = append(m.Sent, s)
			}
		}
	}
}

// encode writes m as the memory's text.
func (m *HealthMemory) encode(b *strings.Builder) string {
	b.Reset()
	for _, l := range m.Lights {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString("L ")
		b.Write(l.Obligation)
		b.WriteString(" " + l.Period.Key() + " ")
		b.WriteByte(string(l.Light)[0])
	}
	for _, s := range m.Sent {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString("S " + strconv.FormatInt(s.Person, 10) + " ")
		b.Write(s.Obligation)
		b.WriteString(" " + s.Period.Key() + " ")
		for _, ml := range memLevels {
			if ml.l == s.Level {
				b.WriteByte(ml.b)
			}
		}
		b.WriteString(" " + strconv.FormatInt(s.Slot, 10))
		if s.Organiser {
			b.WriteString(" o")
		}
	}
	return b.String()
}
