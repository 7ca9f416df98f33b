package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestDecodeStrict(t *testing.T) {
	gin.SetMode(gin.TestMode)
	type body struct {
		Name string `json:"name"`
	}
	tests := []struct {
		in     string
		limit  int64
		ok     bool
		status int
		says   string
	}{
		{`{"name":"王"}`, 1 << 10, true, 0, ""},
		{`{"name":"王"}` + "\n", 1 << 10, true, 0, ""},
		{`{"name":"王","extra":1}`, 1 << 10, false, 400, "不认识的字段"},
		{`{"name":"王"} {"name":"李"}`, 1 << 10, false, 400, "只能是一个 JSON 对象"},
		{`{"name":`, 1 << 10, false, 400, "不是有效的 JSON"},
		{`{"name":"` + strings.Repeat("x", 100) + `"}`, 16, false, 413, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.in))
		c.Request.Body = http.MaxBytesReader(w, c.Request.Body, tt.limit)
		var b body
		ok := decodeBody(c, slog.New(slog.DiscardHandler), &b)
		if ok != tt.ok {
			t.Errorf("%q: ok = %v", tt.in, ok)
			continue
		}
		if ok {
			if b.Name != "王" {
				t.Errorf("%q: decoded %+v", tt.in, b)
			}
			continue
		}
		got, _ := io.ReadAll(w.Result().Body)
		if w.Code != tt.status || !strings.Contains(string(got), tt.says) {
			t.Errorf("%q: %d %s, want %d containing %q", tt.in, w.Code, got, tt.status, tt.says)
		}
	}
}
