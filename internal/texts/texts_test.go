package texts

import (
	"strings"
	"testing"
)

func TestFreeTextFills(t *testing.T) {
	got := FreeText.T("checkin.reading.attendance", "present", "7", "total", "9")
	if got != "出席：实到7人，应到9人" {
		t.Fatalf("filled %q", got)
	}
	if got := FreeText.T("tap.edit", "command", "打卡 支委会"); got != "请复制下面的内容，改好后发送：\n<code>打卡 支委会</code>" {
		t.Fatalf("filled %q", got)
	}
}

// A file is checked against what the code declares: a missing key, a key no code uses
// and changed placeholders are refused, naming them.
func TestLoadChecksTheFile(t *testing.T) {
	keys := map[string][]string{}
	for k, v := range FreeText.texts {
		keys[k] = placeholders(v)
	}
	if _, err := Load("freetext", keys); err != nil {
		t.Fatal(err)
	}
	keys["checkin.reading.extra"] = nil
	keys["checkin.reading.date"] = []string{"when"}
	delete(keys, "button.edit")
	_, err := Load("freetext", keys)
	for _, want := range []string{"checkin.reading.extra is missing", "checkin.reading.date has placeholders [day], want [when]", "button.edit is used by no code"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if _, err := Load("nope", keys); err == nil {
		t.Error("a missing file loaded")
	}
}

// The texts say nothing in English or in codes (SPEC §7.3): no Latin word but HTML tags.
func TestFreeTextIsChinese(t *testing.T) {
	for k, v := range FreeText.texts {
		s := rePlaceholder.ReplaceAllString(v, "")
		s = strings.NewReplacer("<code>", "", "</code>", "").Replace(s)
		for _, r := range s {
			if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				t.Errorf("%s: %q has a Latin letter", k, v)
				break
			}
		}
	}
}

func TestTPanicsOnAnUnknownKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	FreeText.T("no.such.key")
}
