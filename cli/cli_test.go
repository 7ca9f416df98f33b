package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/zhibu/zhibu/domain"
)

func TestErrorLine(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("storage: unit NOPE: %w", domain.UnitNotFound("NOPE")), "没有编码为 NOPE 的单位。"},
		// The command's context (file and row) stays, the storage chain goes.
		{fmt.Errorf("people.csv: row 3: %w", fmt.Errorf("storage: unit NOPE: %w", domain.UnitNotFound("NOPE"))), "people.csv: row 3: 没有编码为 NOPE 的单位。"},
		{domain.Refuse(domain.ErrInvalid, "第一行\n第二行"), "第一行; 第二行"},
		// Not a refusal: the operator reads the chain.
		{errors.New("config: log.format: must be auto, json or text, got \"xml\""), "config: log.format: must be auto, json or text, got \"xml\""},
	} {
		if got := errorLine(c.err); got != c.want {
			t.Errorf("errorLine(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
