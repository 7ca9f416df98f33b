package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// decodeStrict reads exactly one JSON value from r into v, refusing unknown
// fields and trailing values. On failure it has answered already — 413 for a
// body over the limit, else 400 saying in Chinese what is wrong (BadJSON) —
// and returns false.
func decodeStrict(c *gin.Context, log *slog.Logger, r io.Reader, v any) bool {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		Fail(c, http.StatusBadRequest, "请求体只能是一个 JSON 对象。")
		return false
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			FailErr(c, log, err)
			return false
		}
		Fail(c, http.StatusBadRequest, BadJSON(err))
		return false
	}
	return true
}

// decodeBody is decodeStrict on the request body.
func decodeBody(c *gin.Context, log *slog.Logger, v any) bool {
	return decodeStrict(c, log, c.Request.Body, v)
}
