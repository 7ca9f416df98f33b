package handlers

import "github.com/gin-gonic/gin"

// API is what feature routes get: the /api/v1 group (bearer-token
// authenticated) and the engine for pages.
type API struct {
	Engine *gin.Engine
	V1     *gin.RouterGroup
}

// routeSets register feature routes; each feature file adds itself in init.
var routeSets []func(API, Deps)
