package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/sys/unix"
)

// ConnOptions bound how long any call on a PostgreSQL connection can
// block (SPEC §7.7). A silent network partition otherwise leaves a call
// waiting for the kernel's two-hour keepalive; lib/pq answers a context
// deadline with a cancel request over a new connection, which cannot get
// through either, so the context alone does not free the caller.
type ConnOptions struct {
	// MaxOpen is the pool size.
	MaxOpen int
	// ConnectTimeout bounds dialling and the start-up handshake
	// (connect_timeout, whole seconds, at least 1 s). 0 = no bound.
	ConnectTimeout time.Duration
	// StatementTimeout is the server's statement_timeout for every
	// session of the pool. 0 = the server's default (none). A migration
	// that needs longer says SET LOCAL statement_timeout = 0.
	StatementTimeout time.Duration
	// TCPUserTimeout is how long sent data may stay unacknowledged before
	// the kernel drops the connection (TCP_USER_TIMEOUT, both on our
	// sockets and, as tcp_user_timeout, on the server's). Keepalive probes
	// every KeepAlive after KeepAlive of silence make an idle connection
	// notice a partition within about KeepAlive + TCPUserTimeout.
	// 0 = the kernel's default.
	TCPUserTimeout time.Duration
	KeepAlive      time.Duration
}

// DefaultConnOptions are the config defaults (config.Default).
func DefaultConnOptions(maxOpen int) ConnOptions {
	return ConnOptions{MaxOpen: maxOpen, ConnectTimeout: 5 * time.Second, StatementTimeout: 60 * time.Second,
		TCPUserTimeout: 10 * time.Second, KeepAlive: 5 * time.Second}
}

// Open connects to url with DefaultConnOptions(maxOpen) and checks the
// connection.
func Open(ctx context.Context, url string, maxOpen int) (*Store, error) {
	return OpenWith(ctx, url, DefaultConnOptions(maxOpen))
}

// OpenWith connects to url with o and checks the connection.
func OpenWith(ctx context.Context, url string, o ConnOptions) (*Store, error) {
	db, err := OpenDB(url, o)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: connect: %w", err)
	}
	if o.MaxOpen > 0 {
		db.SetMaxOpenConns(o.MaxOpen)
		db.SetMaxIdleConns(o.MaxOpen)
	}
	return New(db), nil
}

// OpenDB returns a pool on url whose connections follow o (no round trip).
func OpenDB(url string, o ConnOptions) (*sqlx.DB, error) {
	c, err := pq.NewConnector(ConnURL(url, o))
	if err != nil {
		return nil, fmt.Errorf("storage: database url: %w", err)
	}
	c.Dialer(NewDialer(o))
	return sqlx.NewDb(sql.OpenDB(c), "postgres"), nil
}

// ConnURL is DriverURL plus the session settings of o, each added only
// when url does not set it already.
func ConnURL(raw string, o ConnOptions) string {
	raw = DriverURL(raw)
	if o.ConnectTimeout > 0 {
		secs := int((o.ConnectTimeout + time.Second - 1) / time.Second)
		raw = withParam(raw, "connect_timeout", strconv.Itoa(secs))
	}
	if o.StatementTimeout > 0 {
		raw = withParam(raw, "statement_timeout", strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10))
	}
	if o.TCPUserTimeout > 0 {
		raw = withParam(raw, "tcp_user_timeout", strconv.FormatInt(o.TCPUserTimeout.Milliseconds(), 10))
	}
	if o.KeepAlive > 0 {
		secs := strconv.Itoa(max(1, int(o.KeepAlive/time.Second)))
		raw = withParam(raw, "tcp_keepalives_idle", secs)
		raw = withParam(raw, "tcp_keepalives_interval", secs)
		raw = withParam(raw, "tcp_keepalives_count", "3")
	}
	return raw
}

// withParam sets key=value in a URL or key=value DSN unless it is there.
func withParam(raw, key, value string) string {
	if strings.Contains(raw, key+"=") {
		return raw
	}
	return addParam(raw, key, value)
}

// addParam adds key=value to a URL's query or to a key=value DSN.
func addParam(raw, key, value string) string {
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return raw // the driver reports the error
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(raw + " " + key + "=" + value)
}

// Dialer is a lib/pq dialer with TCP keepalives and TCP_USER_TIMEOUT.
type Dialer struct{ d net.Dialer }

// NewDialer returns the dialer of o's connections.
func NewDialer(o ConnOptions) *Dialer {
	d := net.Dialer{Timeout: o.ConnectTimeout}
	if o.KeepAlive > 0 {
		d.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: o.KeepAlive, Interval: o.KeepAlive, Count: 3}
	}
	if ms := o.TCPUserTimeout.Milliseconds(); ms > 0 {
		d.Control = func(network, _ string, rc syscall.RawConn) error {
			if !strings.HasPrefix(network, "tcp") {
				return nil // a Unix socket has no TCP options
			}
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(ms))
			}); err != nil {
				return err
			}
			return serr
		}
	}
	return &Dialer{d: d}
}

func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.d.Dial(network, address)
}

func (d *Dialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.d.DialContext(ctx, network, address)
}

func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return d.d.DialContext(ctx, network, address)
}
