package handlers_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/handlers"
)

// engine builds the real route table, as serve does. Registering routes
// touches no database, so the App has no store.
func engine(t *testing.T) *gin.Engine {
	t.Helper()
	return handlers.Routes(handlers.Deps{
		App: app.New(nil, config.Default(), nil, slog.New(slog.DiscardHandler)),
		Log: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20,
	})
}

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type openAPIOp struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
	} `json:"parameters"`
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// ginParam matches gin's :name and *name path segments.
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

var pathParam = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	r := engine(t)
	registered := map[string]bool{}
	for _, ri := range r.Routes() {
		if strings.HasPrefix(ri.Path, "/api/v1/") {
			registered[ri.Method+" "+ginParam.ReplaceAllString(ri.Path, "{$1}")] = true
		}
	}
	if len(registered) < 10 {
		t.Fatalf("only %d /api/v1 routes registered: the feature route sets did not run", len(registered))
	}

	var doc openAPIDoc
	if err := json.Unmarshal(handlers.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	documented := map[string]bool{}
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for key, raw := range item {
			if !slices.Contains(httpMethods, key) {
				continue
			}
			route := strings.ToUpper(key) + " " + path
			documented[route] = true
			var op openAPIOp
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s: %v", route, err)
				continue
			}
			checkOperation(t, route, path, op, ids)
		}
	}

	var undocumented, unregistered []string
	for route := range registered {
		if !documented[route] {
			undocumented = append(undocumented, route)
		}
	}
	for route := range documented {
		if !registered[route] {
			unregistered = append(unregistered, route)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unregistered)
	for _, route := range undocumented {
		t.Errorf("route %s is registered but not in handlers/openapi.json", route)
	}
	for _, route := range unregistered {
		t.Errorf("handlers/openapi.json documents %s, which is not a registered route", route)
	}
}

// checkOperation checks what a client generator relies on: a unique
// operationId, responses, and path parameters that match the path.
func checkOperation(t *testing.T, route, path string, op openAPIOp, ids map[string]string) {
	t.Helper()
	if op.OperationID == "" {
		t.Errorf("%s: no operationId", route)
	} else if prev, dup := ids[op.OperationID]; dup {
		t.Errorf("%s: operationId %q already used by %s", route, op.OperationID, prev)
	}
	ids[op.OperationID] = route
	if len(op.Responses) == 0 {
		t.Errorf("%s: no responses", route)
	}
	declared := map[string]bool{}
	for _, p := range op.Parameters {
		if p.In == "path" {
			declared[p.Name] = true
			if !p.Required {
				t.Errorf("%s: path parameter %s must be required", route, p.Name)
			}
		}
	}
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		if !declared[m[1]] {
			t.Errorf("%s: path parameter {%s} is not declared", route, m[1])
		}
		delete(declared, m[1])
	}
	for name := range declared {
		t.Errorf("%s: declares path parameter %s that the path lacks", route, name)
	}
}

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(handlers.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("openapi %q, info %+v: want an OpenAPI 3 document with a title and version", doc.OpenAPI, doc.Info)
	}
	// Every $ref points at something in the document.
	var root any
	_ = json.Unmarshal(handlers.OpenAPI, &root)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && resolve(root, ref) == nil {
				t.Errorf("$ref %q resolves to nothing", ref)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(root)
}

// resolve follows a local JSON pointer ("#/components/schemas/Unit").
func resolve(root any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	v := root
	for _, part := range strings.Split(rest, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		if v, ok = m[part]; !ok {
			return nil
		}
	}
	return v
}

func TestOpenAPIServedWithoutToken(t *testing.T) {
	h := engine(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, handlers.OpenAPIPath, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", handlers.OpenAPIPath, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	if !json.Valid(rec.Body.Bytes()) || !bytes.Equal(rec.Body.Bytes(), handlers.OpenAPI) {
		t.Fatal("the answer is not the embedded document")
	}
	// The rest of /api/v1 still needs a token.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/units", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("GET /api/v1/units without a token: %d", rec.Code)
	}
}
