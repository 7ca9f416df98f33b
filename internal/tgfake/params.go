package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	maxFieldBytes  = 1 << 20  // one form field
	maxUploadBytes = 50 << 20 // Telegram's upload limit for bots
)

type upload struct {
	filename string
	data     []byte
}

// apiCall is one decoded request as seen by a method implementation.
type apiCall struct {
	ctx     context.Context
	method  string
	p       map[string]string
	uploads map[string]upload
}

// readParams merges query parameters and the body into one string map, the
// way Telegram accepts them: nested objects stay JSON strings.
func readParams(r *http.Request) (map[string]string, map[string]upload, error) {
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	if r.Body == nil {
		return params, nil, nil
	}
	ct, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		uploads, err := readMultipart(r, mp["boundary"], params)
		return params, uploads, err
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUploadBytes))
		if err != nil {
			return params, nil, err
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return params, nil, errors.New("can't parse request body")
		}
		for k, v := range vals {
			if len(v) > 0 {
				params[k] = v[0]
			}
		}
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxUploadBytes))
		if err != nil {
			return params, nil, err
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return params, nil, nil
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber() // keep 64-bit ids exact
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return params, nil, errors.New("can't parse JSON encoded request body")
		}
		for k, v := range obj {
			switch v := v.(type) {
			case nil:
			case string:
				params[k] = v
			case json.Number:
				params[k] = v.String()
			case bool:
				params[k] = strconv.FormatBool(v)
			default:
				b, _ := json.Marshal(v)
				params[k] = string(b)
			}
		}
	}
	return params, nil, nil
}

func readMultipart(r *http.Request, boundary string, params map[string]string) (map[string]upload, error) {
	if boundary == "" {
		return nil, errors.New("can't parse request body")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errors.New("can't parse request body")
	}
	var uploads map[string]upload
	for {
		part, err := mr.NextPart()
		// go-telegram/bot sends an empty body (no closing boundary) for
		// methods without parameters, which surfaces as a wrapped io.EOF.
		if errors.Is(err, io.EOF) {
			return uploads, nil
		}
		if err != nil {
			return uploads, errors.New("can't parse request body")
		}
		name := part.FormName()
		if name == "" {
			continue
		}
		if fn := part.FileName(); fn != "" {
			data, err := io.ReadAll(io.LimitReader(part, maxUploadBytes+1))
			if err != nil {
				return uploads, err
			}
			if len(data) > maxUploadBytes {
				return uploads, errors.New("file is too big")
			}
			if uploads == nil {
				uploads = map[string]upload{}
			}
			uploads[name] = upload{filename: fn, data: data}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return uploads, err
		}
		if len(data) > maxFieldBytes {
			return uploads, fmt.Errorf("field %s is too long", name)
		}
		params[name] = string(data)
	}
}

// Typed accessors. Telegram answers a malformed number with a 400 naming the
// field; absent fields are zero.

func intParam(p map[string]string, name string) (int, *Failure) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("invalid " + name + " specified")
	}
	return n, nil
}

func int64Param(p map[string]string, name string) (int64, *Failure) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("invalid " + name + " specified")
	}
	return n, nil
}

func boolParam(p map[string]string, name string) bool {
	v, _ := strconv.ParseBool(strings.TrimSpace(p[name]))
	return v
}

// jsonParam decodes a field that carries a JSON object or array.
func jsonParam(p map[string]string, name string, dst any) (bool, *Failure) {
	v := strings.TrimSpace(p[name])
	if v == "" {
		return false, nil
	}
	if err := json.Unmarshal([]byte(v), dst); err != nil {
		return true, badRequest("can't parse " + name + " JSON object")
	}
	return true, nil
}
