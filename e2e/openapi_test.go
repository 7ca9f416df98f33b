package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOpenAPIOverHTTP reads the OpenAPI document from a running serve, as
// an integrator would (no token), and calls every route it documents
// without credentials: each must exist (401 for token and signed routes),
// none may be missing (404).
func TestOpenAPIOverHTTP(t *testing.T) {
	h := start(t)
	resp, err := http.Get(h.Base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v %q", err, doc.OpenAPI)
	}
	n := 0
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "post", "put", "patch", "delete":
			default:
				continue
			}
			n++
			url := h.Base + strings.NewReplacer("{id}", "1").Replace(path)
			req, _ := http.NewRequest(strings.ToUpper(method), url, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := http.StatusUnauthorized
			if path == "/api/v1/openapi.json" {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Errorf("%s %s without credentials: %d, want %d", strings.ToUpper(method), path, resp.StatusCode, want)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d operations documented", n)
	}
}
