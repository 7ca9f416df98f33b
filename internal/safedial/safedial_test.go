package safedial_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/internal/safedial"
)

// Classification only: none of these addresses is ever dialled.
func TestForbidden(t *testing.T) {
	for _, tt := range []struct {
		addr      string
		forbidden bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"::ffff:169.254.169.254", true},
		{"fe80::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"224.0.0.1", true},
		{"ff02::1", true},
		{"255.255.255.255", true},
		{"::ffff:10.0.0.1", true},
		{"::127.0.0.1", true},
		{"64:ff9b::7f00:1", true},
		{"64:ff9b::a9fe:a9fe", true},
		{"2002:c0a8:0101::1", true},
		{"64:ff9b::808:808", false},
		{"2002:808:808::1", false},
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"172.32.0.1", false},
		{"100.128.0.1", false},
		{"2001:4860:4860::8888", false},
		{"::ffff:8.8.8.8", false},
	} {
		ip := netip.MustParseAddr(tt.addr)
		if got := safedial.Forbidden(ip); got != tt.forbidden {
			t.Errorf("Forbidden(%s) = %v, want %v", tt.addr, got, tt.forbidden)
		}
	}
}

func TestCheckHost(t *testing.T) {
	for _, tt := range []struct {
		host string
		ok   bool
	}{
		{"localhost", false},
		{"LOCALHOST.", false},
		{"api.localhost", false},
		{"127.0.0.1", false},
		{"[::1]", false},
		{"[::ffff:127.0.0.1]", false},
		{"169.254.169.254", false},
		{"[fe80::1%25eth0]", false},
		{"0.0.0.0", false},
		{"example.com", true},
		{"8.8.8.8", true},
	} {
		// Hosts as url.URL.Hostname gives them.
		u, err := url.Parse("http://" + tt.host + ":5432/")
		if err != nil {
			t.Fatalf("%s: %v", tt.host, err)
		}
		err = safedial.CheckHost(u.Hostname())
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, safedial.ErrForbidden)) {
			t.Errorf("CheckHost(%q) = %v, want ok=%v", u.Hostname(), err, tt.ok)
		}
	}
}

func TestControl(t *testing.T) {
	for _, tt := range []struct {
		address string
		ok      bool
	}{
		{"127.0.0.1:80", false},
		{"[::ffff:127.0.0.1]:5432", false},
		{"169.254.169.254:80", false},
		{"[::]:80", false},
		{"garbage", false},
		{"8.8.8.8:443", true},
	} {
		err := safedial.Control("tcp", tt.address, nil)
		if (err == nil) != tt.ok {
			t.Errorf("Control(%s) = %v, want ok=%v", tt.address, err, tt.ok)
		}
	}
}

// The guard runs on the resolved address at connect time: a loopback
// server is refused by IP and by a name resolving to it.
func TestClientRefusesLoopbackAtConnect(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		_, _ = io.WriteString(w, "secret")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	for _, target := range []string{srv.URL, "http://localhost" + port} {
		resp, err := safedial.Client(false).Get(target)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: request went through", target)
		}
		if !errors.Is(err, safedial.ErrForbidden) {
			t.Fatalf("%s: err = %v, want ErrForbidden", target, err)
		}
	}
	if hits != 0 {
		t.Fatalf("server hit %d times", hits)
	}
	resp, err := safedial.Client(true).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed: %v", err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("allowed: hits = %d", hits)
	}
}
