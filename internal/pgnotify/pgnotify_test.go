package pgnotify_test

import (
	"context"
	"database/sql"
	"net"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/zhibu/zhibu/internal/pgnotify"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// countingDialer wraps the project's dialer and counts the connections it made.
type countingDialer struct {
	d *storage.Dialer
	n atomic.Int64
}

func (c *countingDialer) Dial(network, address string) (net.Conn, error) {
	c.n.Add(1)
	return c.d.Dial(network, address)
}

func (c *countingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	c.n.Add(1)
	return c.d.DialTimeout(network, address, timeout)
}

// The LISTEN connection goes through the given dialer (keepalive,
// TCP_USER_TIMEOUT) and still delivers notifications.
func TestListenUsesDialer(t *testing.T) {
	url := testdb.URL(t)
	o := storage.DefaultConnOptions(2)
	dial := &countingDialer{d: storage.NewDialer(o)}
	wake := make(chan struct{}, 1)
	stop := pgnotify.Listen(context.Background(), storage.ConnURL(url, o), dial, "pgnotify_test", wake, nil)
	defer stop()
	if dial.n.Load() == 0 {
		t.Fatal("the listener did not dial through the configured dialer")
	}
	db, err := sql.Open("postgres", storage.DriverURL(url))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := db.Exec("NOTIFY pgnotify_test"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-wake:
			return
		case <-tick.C:
		case <-deadline:
			t.Fatal("no wake-up after NOTIFY")
		}
	}
}
