package texts

import (
	"regexp"
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

// The catalogues, by file name.
var catalogues = map[string]Catalog{"freetext": FreeText, "checkin": Checkin, "health": Health, "points": Points,
	"accounts": Accounts, "bot": Bot, "dashboard": Dashboard, "api": API,
	"imports": Imports, "sandbox": Sandbox, "notices": Notices}

// Every catalogue loads from its file and is what its code declares (MustLoad
// checked that at start; this names the file when one is added).
func TestCataloguesLoad(t *testing.T) {
	for name, c := range catalogues {
		if c.feature != name || len(c.texts) == 0 {
			t.Errorf("%s: loaded as %q with %d texts", name, c.feature, len(c.texts))
		}
	}
}

// Latin letters a text may show: slash commands and the example branch
// codes of the usage texts; the example household, item and goods codes
// (H001, A01, G01, and "G{code}" once its placeholder is dropped); what a
// user types in a file or a query: the goods file's columns and yes/no, the
// API's parameter and its values, a date's form, the API's fields
// (external_id, branch, unit), the role codes a token is made with, config
// keys and values, a token's zb_ prefix, Ctrl+C; names a user knows by
// them: Telegram, Webhook, JSON, the zhibu command line (and its import
// holidays, named to the organisers who ask the operator for it), the NUL
// character, the http:// and https:// of an address.
var reAllowedLatin = regexp.MustCompile(`/[a-z]+|QA-RZ(-XZ-B1)?|\b[AGH]\d*\b|` +
	`\b(unit_code|village|code|name|points|stock|active|yes|no|status|pending|approved|rejected|frozen|household)\b|` +
	`\b(external_id|branch|unit|organiser|admin|webhooks\.allow_private_targets|YYYY-MM-DD|QA|sandbox(\.demo)?|telegram\.mode|false|zb_|Ctrl\+C)\b|` +
	`\b(Telegram|Webhook|JSON|zhibu( import holidays)?|NUL|https?)\b`)

// The texts say nothing in English or in codes (SPEC §7.3): no Latin word but
// HTML tags, slash commands and the example unit codes.
func TestTextsAreChinese(t *testing.T) {
	for name, c := range catalogues {
		for k, v := range c.texts {
			s := rePlaceholder.ReplaceAllString(v, "")
			s = strings.NewReplacer("<code>", "", "</code>", "", "<b>", "", "</b>", "", "<i>", "", "</i>", "").Replace(s)
			s = reAllowedLatin.ReplaceAllString(s, "")
			for _, r := range s {
				if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					t.Errorf("%s %s: %q has a Latin letter", name, k, v)
					break
				}
			}
		}
	}
}

func TestCheckinFills(t *testing.T) {
	got := Checkin.T("refuse.group_which", "branch", "让字村党支部", "count", "2", "obligation", "党小组会",
		"group", "第一党小组", "choices", "可选：第一党小组、第二党小组。")
	want := "让字村党支部有 2 个党小组，请写明是哪个党小组的会议，例如：打卡 党小组会@第一党小组 11月20日 7/9 主题。可选：第一党小组、第二党小组。"
	if got != want {
		t.Fatalf("filled %q", got)
	}
	// A value is inserted as given, never read for placeholders itself.
	if got := Checkin.T("reject.prompt", "branch", "{id}", "id", "12", "items", "党课", "day", "2026-11-20"); got !=
		"驳回 {id} 的打卡 #12（党课 · 2026-11-20）：请回复：/reject 12 理由\n例如：/reject 12 缺少签到表照片。" {
		t.Fatalf("filled %q", got)
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

func TestHealthFills(t *testing.T) {
	got := Health.T("silence.from", "day", "2026-11-28", "until", Health.T("silence.until", "day", "2026-12-05"))
	if got != "自 2026-11-28 起，至 2026-12-05 结束" {
		t.Fatalf("filled %q", got)
	}
	got = Health.T("summary.head", "unit", "迁安市", "total", "3", "green", "1", "yellow", "1", "red", "1")
	if got != "📊 <b>迁安市</b>支部体检：共 3 个支部\n🟢 1　🟡 1　🔴 1" {
		t.Fatalf("filled %q", got)
	}
}
