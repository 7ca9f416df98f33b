package storage

import "context"

// FlushOutbox writes the messages the transaction holds (as a read of the
// outbox inside a transaction does first).
func (s *Store) FlushOutbox(ctx context.Context) error { return s.flushOutbox(ctx) }

// SavepointsInDatabase is how many savepoints the transaction has sent
// and not yet released.
func (s *Store) SavepointsInDatabase() int { return s.tx.established }

// DoneRuns is doneRuns, for testing the reading of health_units.done.
func DoneRuns(b []byte) []DoneRun { return doneRuns(b, nil) }
