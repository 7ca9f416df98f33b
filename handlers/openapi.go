package handlers

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// OpenAPIPath is where the API's OpenAPI 3 document is served, without a
// token: integrators read it before they have one.
const OpenAPIPath = "/api/v1/openapi.json"

// OpenAPI is the OpenAPI 3 document describing every /api/v1 route. It is
// written by hand; TestOpenAPIDocumentsEveryRoute fails when a route is
// registered without being documented, or documented without existing.
//
//go:embed openapi.json
var OpenAPI []byte

func serveOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, jsonType, OpenAPI)
}
