package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
)

const actorKey = "zhibu.actor"

// bearerAuth resolves "Authorization: Bearer <token>" to an Actor scoped to
// the token's unit subtree and role. Integration endpoints that are signed
// instead of token-authenticated skip it (see skipAuthPaths).
func bearerAuth(a *app.App, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.GetBool(skipAuthKey) || skipAuthPaths[c.FullPath()] {
			c.Next()
			return
		}
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || token == "" {
			fail(c, http.StatusUnauthorized, "missing bearer token")
			return
		}
		actor, err := accounts.Of(a).ActorByToken(c.Request.Context(), strings.TrimSpace(token))
		if errors.Is(err, accounts.ErrTokenExpired) {
			log.Warn("api: refused token", slog.String("path", c.FullPath()), slog.String("reason", "expired"))
			fail(c, http.StatusUnauthorized, api.T("token.expired"))
			return
		}
		if errors.Is(err, domain.ErrNotFound) {
			log.Warn("api: refused token", slog.String("path", c.FullPath()))
			fail(c, http.StatusUnauthorized, "invalid or revoked token")
			return
		}
		if err != nil {
			failErr(c, log, err)
			return
		}
		c.Set(actorKey, actor)
		c.Next()
	}
}

const skipAuthKey = "zhibu.skipauth"

// ActorOf returns the authenticated actor of an API request.
func ActorOf(c *gin.Context) domain.Actor {
	v, _ := c.Get(actorKey)
	a, _ := v.(domain.Actor)
	return a
}

// bodyLimit caps request bodies; reads past it fail and answer 413.
func bodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// Fail writes the shared JSON error for feature handlers.
func Fail(c *gin.Context, status int, msg string) { fail(c, status, msg) }

// FailErr maps a use-case error to a status for feature handlers.
func FailErr(c *gin.Context, log *slog.Logger, err error) { failErr(c, log, err) }
