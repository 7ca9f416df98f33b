package domain

import (
	"errors"
	"fmt"
	"testing"
)

func TestUserMessage(t *testing.T) {
	wrapped := fmt.Errorf("storage: unit NOPE: %w", UnitNotFound("NOPE"))
	if !errors.Is(wrapped, ErrNotFound) {
		t.Fatal("a missing unit is not ErrNotFound")
	}
	for _, c := range []struct {
		err  error
		want string
		ok   bool
	}{
		{wrapped, "没有编码为 NOPE 的单位。", true},
		{fmt.Errorf("storage: create unit QA: %w", Exists("单位", "编码", "QA")), "编码为 QA 的单位已存在。", true},
		{fmt.Errorf("storage: unit 17: %w", ErrNotFound), "要找的记录不存在。", true},
		{fmt.Errorf("x: %w", ErrConflict), "与已有的记录冲突，请检查后重试。", true},
		{fmt.Errorf("x: %w", ErrForbidden), "您无权进行此操作。", true},
		{fmt.Errorf("x: %w", ErrInvalid), "输入有误，请检查后重试。", true},
		{errors.New("dial tcp: connection refused"), "", false},
		{nil, "", false},
	} {
		got, ok := UserMessage(c.err)
		if got != c.want || ok != c.ok {
			t.Errorf("UserMessage(%v) = %q, %v; want %q, %v", c.err, got, ok, c.want, c.ok)
		}
	}
}
