// Package pgnotify turns PostgreSQL NOTIFYs on a channel into wake-ups of a
// worker that otherwise polls: the wake-up is a hint, polling stays the
// guarantee, so a lost connection only delays work.
package pgnotify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Listen LISTENs on channel over its own connection to url and sends to wake
// (without blocking) on every notification and after every reconnect. The
// returned stop ends it and closes the connection.
//
// dial should be the pool's dialer (storage.NewDialer): with lib/pq's
// default one the LISTEN connection has no TCP keepalive nor
// TCP_USER_TIMEOUT, so a silent partition would leave it waiting for hours
// instead of reconnecting (SPEC §7.7). nil means lib/pq's default.
func Listen(ctx context.Context, url string, dial pq.Dialer, channel string, wake chan<- struct{}, log *slog.Logger) (stop func()) {
	l := newListener(url, dial, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			log.Debug("listener", slog.String("channel", channel), slog.Int("event", int(ev)), slog.Any("err", err))
		}
	})
	if err := l.Listen(channel); err != nil {
		log.Warn("LISTEN failed; polling only until it reconnects", slog.String("channel", channel), slog.Any("err", err))
	}
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ping := time.NewTicker(90 * time.Second)
		defer ping.Stop()
		for {
			select {
			case <-l.Notify: // nil after a reconnect: wake too, something may have been missed
				Signal(wake)
			case <-ping.C:
				_ = l.Ping()
			case <-lctx.Done():
				return
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		_ = l.Close()
	}
}

func newListener(url string, dial pq.Dialer, cb pq.EventCallbackType) *pq.Listener {
	if dial == nil {
		return pq.NewListener(url, time.Second, 30*time.Second, cb)
	}
	return pq.NewDialListener(dial, url, time.Second, 30*time.Second, cb)
}

// Signal sends on c unless a wake-up is already pending.
func Signal(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
