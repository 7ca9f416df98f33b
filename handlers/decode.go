package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strings"

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
		Fail(c, http.StatusBadRequest, api.T("body.one_object"))
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
	if msg := badValue(reflect.ValueOf(v), ""); msg != "" {
		Fail(c, http.StatusBadRequest, msg)
		return false
	}
	return true
}

// badValue walks a decoded body and says in Chinese which field the
// database would refuse (SPEC §7.5): text with NUL (U+0000), or a Go int
// outside PostgreSQL's integer range. int64 fields (ids) are bigint and not
// bounded here. "" means the value is fine.
func badValue(v reflect.Value, field string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return badValue(v.Elem(), field)
	case reflect.String:
		if strings.ContainsRune(v.String(), 0) {
			return api.T("body.nul", "field", fieldName(field))
		}
	case reflect.Int, reflect.Int32:
		if n := v.Int(); n > math.MaxInt32 || n < math.MinInt32 {
			return api.T("body.out_of_range", "field", fieldName(field))
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if msg := badValue(v.Index(i), field); msg != "" {
				return msg
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if msg := badValue(it.Key(), field); msg != "" {
				return msg
			}
			if msg := badValue(it.Value(), field); msg != "" {
				return msg
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
				name = tag
			}
			if field != "" {
				name = field + "." + name
			}
			if msg := badValue(v.Field(i), name); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func fieldName(f string) string {
	if f == "" {
		return api.T("body.whole")
	}
	return f
}

// decodeBody is decodeStrict on the request body.
func decodeBody(c *gin.Context, log *slog.Logger, v any) bool {
	return decodeStrict(c, log, c.Request.Body, v)
}
