package handlers

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// SPEC §7.5: X-Forwarded-For names the client only from a trusted proxy.
func TestTrustedProxies(t *testing.T) {
	clientIP := func(trusted []string, remote string) string {
		r := Routes(Deps{Log: slog.New(slog.DiscardHandler), TrustedProxies: trusted, Extra: []func(*gin.Engine){func(e *gin.Engine) {
			e.GET("/ip", func(c *gin.Context) { c.String(http.StatusOK, c.ClientIP()) })
		}}})
		req := httptest.NewRequest("GET", "/ip", nil)
		req.RemoteAddr = remote + ":4000"
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Body.String()
	}
	if got := clientIP(nil, "198.51.100.1"); got != "198.51.100.1" {
		t.Errorf("no trusted proxies: client %s", got)
	}
	if got := clientIP([]string{"10.0.0.0/8"}, "198.51.100.1"); got != "198.51.100.1" {
		t.Errorf("untrusted peer: client %s", got)
	}
	if got := clientIP([]string{"10.0.0.0/8"}, "10.1.2.3"); got != "203.0.113.9" {
		t.Errorf("trusted proxy: client %s", got)
	}
}
