package cli

import (
	"net/http"
	"testing"
	"time"

	"github.com/zhibu/zhibu/config"
)

// SPEC §7.5: the HTTP server bounds header, body, write and idle times.
func TestHTTPServerBounds(t *testing.T) {
	c := config.Default().HTTP
	s := newHTTPServer(c, http.NotFoundHandler())
	if s.ReadTimeout != 30*time.Second || s.WriteTimeout != 60*time.Second || s.IdleTimeout != 120*time.Second ||
		s.MaxHeaderBytes != 64<<10 || s.ReadHeaderTimeout <= 0 {
		t.Fatalf("defaults: read %v write %v idle %v header %d/%v", s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes, s.ReadHeaderTimeout)
	}
	c.ReadTimeout = config.Duration(5 * time.Second)
	if s := newHTTPServer(c, http.NotFoundHandler()); s.ReadTimeout != 5*time.Second || s.ReadHeaderTimeout != 5*time.Second {
		t.Fatalf("configured read %v header %v", s.ReadTimeout, s.ReadHeaderTimeout)
	}
}
