package handlers

import (
	"errors"
	"net/http"

	"github.com/zhibu/zhibu/domain"
)

// statusOf is the one map from a use case's error to an HTTP status, for
// the API and the dashboard alike; 500 for anything unclassified.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, domain.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
