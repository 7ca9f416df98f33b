package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/storage"
)

// retentionLockWait bounds how long dropping a partition waits for its
// table's lock, which holds back the table's writers meanwhile; a run that
// cannot get it tries again an hour later.
const retentionLockWait = 500 * time.Millisecond

// retentionWindows maps the retention.* keys to the tables they govern.
func retentionWindows(r config.Retention) storage.RetentionWindows {
	return storage.RetentionWindows{
		storage.TableUpdates:         r.Updates.D(),
		storage.TableOutbox:          r.Outbox.D(),
		storage.TableWebhookAttempts: r.WebhookAttempts.D(),
	}
}

// ApplyRetention makes the partitions of the months ahead and drops the ones
// past their retention.* window (SPEC §7.7), and logs what it made and
// dropped. The system's job, or the operator's.
func (a *App) ApplyRetention(ctx context.Context, actor domain.Actor, now time.Time) error {
	if err := a.AuthoriseGlobal(ctx, actor, access.RunJobs, "retention"); err != nil {
		return err
	}
	rep, err := a.Store.ApplyRetention(ctx, now, retentionWindows(a.Cfg.Retention), retentionLockWait)
	for _, p := range rep.Made {
		a.Log.Info("retention: partition made", slog.String("partition", p))
	}
	for _, p := range rep.Dropped {
		a.Log.Info("retention: partition dropped", slog.String("partition", p))
	}
	for _, p := range rep.Kept {
		a.Log.Warn("retention: partition past its window kept: it holds work not done yet", slog.String("partition", p))
	}
	return err
}
