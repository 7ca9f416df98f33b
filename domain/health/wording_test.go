package health

import (
	"strings"
	"testing"
)

// NewWording refuses a catalogue whose text has other placeholders than
// its key declares, or markup a notice cannot hold, naming the key.
func TestNewWordingChecksTheTexts(t *testing.T) {
	good := map[string]string{}
	for k, ph := range WordingKeys() {
		var b strings.Builder
		b.WriteString("字")
		for _, p := range ph {
			b.WriteString("{" + p + "}")
		}
		good[k] = b.String()
	}
	if _, err := NewWording(func(k string) string { return good[k] }); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{"line.overdue": " · 已逾期 {day} 天", "header.yellow": "<b>黄灯", "line.item": "<u>{obligation}{period}{due}</u>"}
	_, err := NewWording(func(k string) string {
		if s, ok := bad[k]; ok {
			return s
		}
		return good[k]
	})
	for k := range bad {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("error %v does not name %s", err, k)
		}
	}
}
