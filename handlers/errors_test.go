package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/zhibu/zhibu/domain"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{domain.Refuse(domain.ErrNotFound, "没有编码为 X 的单位"), 404},
		{fmt.Errorf("storage: unit X: %w", domain.ErrNotFound), 404},
		{domain.Refuse(domain.ErrForbidden, "无权"), 403},
		{domain.Refuse(domain.ErrInvalid, "日期无效"), 400},
		{fmt.Errorf("wrapped: %w", domain.Refuse(domain.ErrConflict, "已处理")), 409},
		{&http.MaxBytesError{Limit: 1}, 413},
		{errors.New("connection refused"), 500},
	}
	for _, tt := range tests {
		if got := statusOf(tt.err); got != tt.want {
			t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
