package callback

import "testing"

func TestRelinkChoice(t *testing.T) {
	if id, ok, valid := ParseRelink(RelinkChoice(31, true)); !valid || !ok || id != 31 {
		t.Errorf("confirm: %d %v %v", id, ok, valid)
	}
	if id, ok, valid := ParseRelink(RelinkChoice(31, false)); !valid || ok || id != 31 {
		t.Errorf("cancel: %d %v %v", id, ok, valid)
	}
	if got := Prefix(RelinkChoice(1, true)); got != Relink {
		t.Errorf("Prefix = %q", got)
	}
	for _, d := range []string{"", "rl", "rl:", "rl:1", "rl:1:yes", "rl:0:ok", "rl:-1:ok", "rl:01:ok", "rl:1:ok:x", "cl:1:ok"} {
		if _, _, ok := ParseRelink(d); ok {
			t.Errorf("ParseRelink(%q) accepted", d)
		}
	}
}
