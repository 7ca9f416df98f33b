package handlers

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
)

// Cursor pagination of every API list (docs/API.md "Pages"): ?limit=
// (default DefaultPageLimit, at most MaxPageLimit) and ?cursor= (opaque: the
// base64url of the last item's sort key, from next_cursor). A response that
// has more gives "next_cursor"; the last page gives null.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// page is a request's page: how many items and after which key ("" = from
// the start).
type page struct {
	Limit int
	After string
}

// badCursor answers a ?cursor= that is not a next_cursor this API gave.
const badCursor = "cursor is not valid: pass next_cursor of the previous page as it is"

// readPage reads ?limit= and ?cursor=; on bad input it answers 400 and
// returns false.
func readPage(c *gin.Context) (page, bool) {
	p := page{Limit: DefaultPageLimit}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageLimit {
			Fail(c, http.StatusBadRequest, "limit must be 1 to 1000")
			return p, false
		}
		p.Limit = n
	}
	if s := c.Query("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 || !utf8.Valid(b) {
			Fail(c, http.StatusBadRequest, badCursor)
			return p, false
		}
		p.After = string(b)
	}
	return p, true
}

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// nextCursor is the JSON value of next_cursor: null on the last page.
func nextCursor(more bool, lastKey string) any {
	if !more {
		return nil
	}
	return encodeCursor(lastKey)
}

// readPageAfter reads the page parameters of a list read from the database
// after a sort key, and the key its cursor holds (the zero K from the
// start); key parses a cursor's text. On bad input it answers 400 and
// returns false.
func readPageAfter[K any](c *gin.Context, key func(after string) (K, bool)) (page, K, bool) {
	var zero K
	p, ok := readPage(c)
	if !ok || p.After == "" {
		return p, zero, ok
	}
	k, ok := key(p.After)
	if !ok {
		Fail(c, http.StatusBadRequest, badCursor)
		return p, zero, false
	}
	return p, k, true
}

// idKey reads a cursor that holds an id (lists ordered by id, newest first).
func idKey(after string) (int64, bool) {
	n, err := strconv.ParseInt(after, 10, 64)
	return n, err == nil && n >= 1
}

// pageByID trims a list fetched with limit+1 rows to the page and says
// where the next starts.
func pageByID[T any](items []T, limit int, id func(T) int64) ([]T, any) {
	if len(items) <= limit {
		return items, nil
	}
	items = items[:limit]
	return items, nextCursor(true, strconv.FormatInt(id(items[len(items)-1]), 10))
}

// listWhole answers a GET whose use case reads its list whole: it reads
// the page parameters, runs read, pages what it returns (see pageInMemory)
// and writes {field: page, "next_cursor": …}. An empty list is [], never
// null.
func listWhole[T any](c *gin.Context, log *slog.Logger, field string, read func(ctx context.Context, actor domain.Actor) ([]T, error), key func(T) string) {
	p, ok := readPage(c)
	if !ok {
		return
	}
	items, err := read(c.Request.Context(), ActorOf(c))
	if err != nil {
		FailErr(c, log, err)
		return
	}
	items, next, ok := pageInMemory(c, p, items, key)
	if !ok {
		return
	}
	if items == nil {
		items = []T{}
	}
	c.JSON(http.StatusOK, gin.H{field: items, "next_cursor": next})
}

// pageInMemory pages a list computed whole, in its own order: the page
// starts after the item whose key is p.After. A cursor whose item is no
// longer in the list answers 400 (start again from the first page).
func pageInMemory[T any](c *gin.Context, p page, items []T, key func(T) string) ([]T, any, bool) {
	start := 0
	if p.After != "" {
		start = -1
		for i, it := range items {
			if key(it) == p.After {
				start = i + 1
				break
			}
		}
		if start < 0 {
			Fail(c, http.StatusBadRequest, "cursor is not valid any more (its item is gone): start again without cursor")
			return nil, nil, false
		}
	}
	items = items[start:]
	if len(items) <= p.Limit {
		return items, nil, true
	}
	items = items[:p.Limit]
	return items, nextCursor(true, key(items[len(items)-1])), true
}

// holderKey reads a people cursor ("unit id/role/person id").
func holderKey(after string) (*app.HolderKey, bool) {
	f := strings.Split(after, "/")
	if len(f) == 3 {
		u, err1 := strconv.ParseInt(f[0], 10, 64)
		pid, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 == nil && err2 == nil && u > 0 && pid > 0 && f[1] != "" {
			return &app.HolderKey{UnitID: u, Role: f[1], PersonID: pid}, true
		}
	}
	return nil, false
}

// checkinKey reads a check-in cursor ("YYYY-MM-DD/id").
func checkinKey(after string) (*app.CheckinKey, bool) {
	day, id, ok := strings.Cut(after, "/")
	n, err := strconv.ParseInt(id, 10, 64)
	_, derr := time.Parse(time.DateOnly, day)
	if !ok || err != nil || n < 1 || derr != nil {
		return nil, false
	}
	return &app.CheckinKey{HeldOn: day, ID: n}, true
}
