package storage_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func TestOpenWithSetsSessionBounds(t *testing.T) {
	ctx := context.Background()
	o := storage.ConnOptions{MaxOpen: 2, ConnectTimeout: 3 * time.Second, StatementTimeout: 1500 * time.Millisecond,
		TCPUserTimeout: 7 * time.Second, KeepAlive: 4 * time.Second}
	s, err := storage.OpenWith(ctx, testdb.URL(t), o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for setting, want := range map[string]string{"statement_timeout": "1500ms", "tcp_user_timeout": "7000",
		"tcp_keepalives_idle": "4", "tcp_keepalives_interval": "4", "tcp_keepalives_count": "3"} {
		var got string
		if err := s.DB().GetContext(ctx, &got, "SHOW "+setting); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	// The statement timeout is enforced: a statement past it fails.
	if _, err := s.DB().ExecContext(ctx, `SELECT pg_sleep(3)`); err == nil || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("pg_sleep(3) under a 1.5s statement_timeout: %v", err)
	}
}

func TestConnURLKeepsWhatTheURLSays(t *testing.T) {
	o := storage.DefaultConnOptions(2)
	got := storage.ConnURL("postgres://u@h/db?sslmode=disable&statement_timeout=0", o)
	if !strings.Contains(got, "statement_timeout=0") || strings.Contains(got, "statement_timeout=60000") {
		t.Fatalf("url's statement_timeout overridden: %s", got)
	}
	if !strings.Contains(got, "connect_timeout=5") || !strings.Contains(got, "binary_parameters=yes") {
		t.Fatalf("defaults missing: %s", got)
	}
	kv := storage.ConnURL("host=h dbname=db", storage.ConnOptions{ConnectTimeout: 1500 * time.Millisecond})
	if kv != "host=h dbname=db binary_parameters=yes connect_timeout=2" {
		t.Fatalf("key=value DSN: %q", kv)
	}
}

func TestDialerSetsTCPUserTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	d := storage.NewDialer(storage.ConnOptions{TCPUserTimeout: 2500 * time.Millisecond, KeepAlive: 3 * time.Second})
	c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var uto, idle, intvl, keep int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		if uto, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT); serr != nil {
			return
		}
		if idle, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE); serr != nil {
			return
		}
		if intvl, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPINTVL); serr != nil {
			return
		}
		keep, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	if uto != 2500 || idle != 3 || intvl != 3 || keep != 1 {
		t.Fatalf("TCP_USER_TIMEOUT %d ms, keepidle %d, keepintvl %d, keepalive %d", uto, idle, intvl, keep)
	}
}
