package storage

import (
	"context"
	"strings"
)

// FlushOutbox writes the messages the transaction holds (as a read of the
// outbox inside a transaction does first).
func (s *Store) FlushOutbox(ctx context.Context) error { return s.flushOutbox(ctx) }

// SavepointsInDatabase is how many savepoints the transaction has sent
// and not yet released.
func (s *Store) SavepointsInDatabase() int { return s.tx.established }

// DoneRuns is doneRuns, for testing the reading of health_units.done.
func DoneRuns(b []byte) []DoneRun { return doneRuns(b, nil) }

// DoneRunsInto is doneRuns reusing runs.
func DoneRunsInto(b []byte, runs []DoneRun) []DoneRun { return doneRuns(b, runs) }

// MaxMemFields and MemFields are maxMemFields and memFields.
const MaxMemFields = maxMemFields

func MemFields(entry []byte, fs *[MaxMemFields][]byte) [][]byte { return memFields(entry, fs) }

// ReadMemory, ReadMemoryInto and EncodeMemory read and write the memory's text.
func ReadMemory(b []byte) HealthMemory {
	var m HealthMemory
	readMemory(b, &m)
	return m
}

func ReadMemoryInto(b []byte, m *HealthMemory) { readMemory(b, m) }

func EncodeMemory(m HealthMemory) string {
	var b strings.Builder
	return m.encode(&b)
}
