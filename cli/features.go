package cli

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// registerFeatures adds each feature's bot commands to the router.
func registerFeatures(s *Server) {}

// extraRoutes returns the API and dashboard routes.
func extraRoutes(s *Server) []func(*gin.Engine) { return nil }

// startBackground starts delivery and the scheduler (leader-elected).
func startBackground(ctx context.Context, s *Server, reg prometheus.Registerer) {}

// seedSandbox loads demo data into an empty sandbox database.
func seedSandbox(ctx context.Context, s *Server) error { return nil }
