package storage

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Retention by partition (SPEC §7.7). The update log, the outbox and the
// webhook attempts are partitioned by month (migration 00018): a row's
// part_month is the first day of the UTC month it was written in, each
// month's rows live in <table>_pYYYYMM, and <table>_default catches a month
// whose partition was not made yet. The retention job makes the partitions
// of the months ahead and drops whole partitions past their window: no
// DELETE of rows.

// Retained tables.
const (
	TableUpdates         = "updates"
	TableOutbox          = "outbox"
	TableWebhookAttempts = "webhook_attempts"
)

// RetainedTables lists the tables partitioned by month, in the order the
// retention job handles them.
var RetainedTables = []string{TableUpdates, TableOutbox, TableWebhookAttempts}

// livePredicate is the work still to do in a table: a partition holding
// such a row is never dropped, however old (an outbox row not delivered
// yet, an update never processed).
var livePredicate = map[string]string{
	TableUpdates:         `processed_at IS NULL`,
	TableOutbox:          `status IN ('pending', 'sending')`,
	TableWebhookAttempts: ``,
}

// Partition is one month's partition of a retained table.
type Partition struct {
	Table string
	Name  string
	Month time.Time // first day of the month, UTC
}

// End is the first instant after the partition's month.
func (p Partition) End() time.Time { return p.Month.AddDate(0, 1, 0) }

// MonthOf returns the first day of t's UTC month: the part_month a row
// written at t takes.
func MonthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Expired reports whether a partition lies entirely before now-window: its
// last row is older than the window. A window of 0 keeps everything.
func Expired(p Partition, now time.Time, window time.Duration) bool {
	return window > 0 && !p.End().After(now.Add(-window))
}

// PartitionName is the name of table's partition for month.
func PartitionName(table string, month time.Time) string {
	return fmt.Sprintf("%s_p%s", table, MonthOf(month).Format("200601"))
}

func checkRetained(table string) error {
	if !slices.Contains(RetainedTables, table) {
		return fmt.Errorf("storage: %q is not partitioned by month", table)
	}
	return nil
}

// EnsurePartition makes table's partition for month's month unless it
// exists, moving rows of that month out of the default partition. It
// reports whether it made one.
func (s *Store) EnsurePartition(ctx context.Context, table string, month time.Time) (bool, error) {
	return s.ensurePartition(ctx, table, month, 0)
}

// ensurePartition is EnsurePartition waiting at most lockWait (0: no limit)
// for the locks (the default partition's, briefly exclusive).
func (s *Store) ensurePartition(ctx context.Context, table string, month time.Time, lockWait time.Duration) (bool, error) {
	if err := checkRetained(table); err != nil {
		return false, err
	}
	var made bool
	err := s.InTx(ctx, func(tx *Store) error {
		if err := setLockTimeout(ctx, tx, lockWait); err != nil {
			return err
		}
		return tx.q.QueryRowxContext(ctx, `SELECT retention_ensure_partition($1, $2::date)`, table, MonthOf(month).Format(time.DateOnly)).Scan(&made)
	})
	if err != nil {
		return false, fmt.Errorf("storage: make partition %s: %w", PartitionName(table, month), err)
	}
	return made, nil
}

// setLockTimeout bounds the transaction's waits for locks (0: no limit).
func setLockTimeout(ctx context.Context, tx *Store, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if _, err := tx.q.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, max(d.Milliseconds(), 1))); err != nil {
		return fmt.Errorf("set lock timeout: %w", err)
	}
	return nil
}

var partitionName = regexp.MustCompile(`^(.+)_p(\d{6})$`)

// Partitions lists table's monthly partitions, oldest first (the default
// partition is not one of them).
func (s *Store) Partitions(ctx context.Context, table string) ([]Partition, error) {
	if err := checkRetained(table); err != nil {
		return nil, err
	}
	names, err := selectAll[string](ctx, s, "partitions of "+table, `
		SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass ORDER BY c.relname`, table)
	if err != nil {
		return nil, err
	}
	var out []Partition
	for _, n := range names {
		m := partitionName.FindStringSubmatch(n)
		if m == nil || m[1] != table {
			continue
		}
		month, err := time.Parse("200601", m[2])
		if err != nil {
			continue
		}
		out = append(out, Partition{Table: table, Name: n, Month: month})
	}
	return out, nil
}

// DatabaseNow is the database's clock: part_month follows it.
func (s *Store) DatabaseNow(ctx context.Context) (time.Time, error) {
	return getValue[time.Time](ctx, s, "database clock", `SELECT now()`)
}

// DropPartition drops partition p unless it holds work still to do (an
// outbox row pending or in flight, an update not processed): kept is then
// true. Dropping a partition locks its parent table, so it waits at most
// lockWait for the lock (then fails; the next run tries again) and checks
// for live rows under that lock, so that none can appear in between.
func (s *Store) DropPartition(ctx context.Context, p Partition, lockWait time.Duration) (kept bool, err error) {
	if err := checkRetained(p.Table); err != nil {
		return false, err
	}
	if p.Name != PartitionName(p.Table, p.Month) {
		return false, fmt.Errorf("storage: %q is not the partition of %s for %s", p.Name, p.Table, p.Month.Format("2006-01"))
	}
	live := livePredicate[p.Table]
	err = s.InTx(ctx, func(tx *Store) error {
		if err := setLockTimeout(ctx, tx, lockWait); err != nil {
			return err
		}
		// The parent first, as every query takes them: no deadlock.
		if _, err := tx.q.ExecContext(ctx, fmt.Sprintf(`LOCK TABLE %s IN ACCESS EXCLUSIVE MODE`, p.Table)); err != nil {
			return fmt.Errorf("lock %s: %w", p.Table, err)
		}
		if live != "" {
			var busy bool
			if err := tx.q.QueryRowxContext(ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE %s)`, p.Name, live)).Scan(&busy); err != nil {
				return fmt.Errorf("check %s: %w", p.Name, err)
			}
			if busy {
				kept = true
				return nil
			}
		}
		if _, err := tx.q.ExecContext(ctx, fmt.Sprintf(`DROP TABLE %s`, p.Name)); err != nil {
			return fmt.Errorf("drop: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storage: drop partition %s: %w", p.Name, err)
	}
	return kept, nil
}

// RetentionWindows are how long each table's rows are kept (0 = forever).
type RetentionWindows map[string]time.Duration

// RetentionReport says what one retention run did.
type RetentionReport struct {
	Made    []string // partitions made for the months ahead
	Dropped []string // partitions dropped, past their window
	Kept    []string // past their window but holding work still to do
}

func (r RetentionReport) String() string {
	return fmt.Sprintf("made [%s], dropped [%s], kept [%s]",
		strings.Join(r.Made, " "), strings.Join(r.Dropped, " "), strings.Join(r.Kept, " "))
}

// AheadMonths is how many months after the current one the retention job
// keeps partitions ready for.
const AheadMonths = 2

// ApplyRetention makes the partitions of the current month and the
// AheadMonths after it (by now and by the database's clock, which stamps
// the rows) and drops the partitions past their window. The window is
// counted from the earlier of now and the database's clock, so that a clock
// running ahead never drops rows the database considers recent. It goes on
// after a failed table and returns the first error with what it did.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time, windows RetentionWindows, lockWait time.Duration) (RetentionReport, error) {
	var rep RetentionReport
	dbNow, err := s.DatabaseNow(ctx)
	if err != nil {
		return rep, err
	}
	from := now
	if dbNow.Before(from) {
		from = dbNow
	}
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, table := range RetainedTables {
		var months []time.Time
		for _, t := range []time.Time{now, dbNow} {
			for i := 0; i <= AheadMonths; i++ {
				if m := MonthOf(t).AddDate(0, i, 0); !slices.ContainsFunc(months, m.Equal) {
					months = append(months, m)
				}
			}
		}
		for _, m := range months {
			made, err := s.ensurePartition(ctx, table, m, lockWait)
			if err != nil {
				keep(err)
				continue
			}
			if made {
				rep.Made = append(rep.Made, PartitionName(table, m))
			}
		}
		window := windows[table]
		if window <= 0 {
			continue
		}
		parts, err := s.Partitions(ctx, table)
		if err != nil {
			keep(err)
			continue
		}
		for _, p := range parts {
			if !Expired(p, from, window) {
				continue
			}
			kept, err := s.DropPartition(ctx, p, lockWait)
			switch {
			case err != nil:
				keep(err)
			case kept:
				rep.Kept = append(rep.Kept, p.Name)
			default:
				rep.Dropped = append(rep.Dropped, p.Name)
			}
		}
	}
	return rep, first
}
