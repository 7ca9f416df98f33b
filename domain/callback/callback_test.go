package callback

import "testing"

func TestRoundTrips(t *testing.T) {
	if id, ok, valid := ParseDecision(Decision(42, true)); !valid || !ok || id != 42 {
		t.Errorf("approve: %d %v %v", id, ok, valid)
	}
	if id, ok, valid := ParseDecision(Decision(7, false)); !valid || ok || id != 7 {
		t.Errorf("reject: %d %v %v", id, ok, valid)
	}
	if d, i, ok := ParsePick(Pick(9, 3)); !ok || d != 9 || i != 3 {
		t.Errorf("pick: %d %d %v", d, i, ok)
	}
	if d, i, ok := ParsePick(Pick(9, -1)); !ok || d != 9 || i != -1 {
		t.Errorf("cancel: %d %d %v", d, i, ok)
	}
	if p, b, ok := ParseBranch(Branch(5, 77)); !ok || p != 5 || b != 77 {
		t.Errorf("branch: %d %d %v", p, b, ok)
	}
	if c, ok := ParseReject(Reject(12)); !ok || c != 12 {
		t.Errorf("reject copy: %d %v", c, ok)
	}
	if o, up, ok := ParseObjection(Objection(8, true)); !ok || !up || o != 8 {
		t.Errorf("uphold: %d %v %v", o, up, ok)
	}
	if o, up, ok := ParseObjection(Objection(8, false)); !ok || up || o != 8 {
		t.Errorf("dismiss: %d %v %v", o, up, ok)
	}
	for data, want := range map[string]string{Decision(1, true): ClaimDecision, Pick(1, 0): ClaimPick, Objection(1, true): ObjectionDecision,
		Branch(1, 2): CheckinBranch, Reject(1): CheckinReject, "ack:1:*": Ack} {
		if got := Prefix(data); got != want {
			t.Errorf("Prefix(%q) = %q, want %q", data, got, want)
		}
	}
}

// Stale, foreign or forged data is refused, never misread.
func TestRefusesMalformed(t *testing.T) {
	for _, d := range []string{"", "cl", "cl:", "cl:1", "cl:1:maybe", "cl:x:ok", "cl:-1:ok", "cl:0:no", "cl:1:ok:extra", "clp:1:ok", "cir:1"} {
		if _, _, ok := ParseDecision(d); ok {
			t.Errorf("ParseDecision(%q) accepted", d)
		}
	}
	for _, d := range []string{"clp:1", "clp:1:-2", "clp:0:1", "clp:a:1", "cl:1:1", "clp:1:1:1"} {
		if _, _, ok := ParsePick(d); ok {
			t.Errorf("ParsePick(%q) accepted", d)
		}
	}
	for _, d := range []string{"ci:1", "ci:1:0", "ci:a:1", "cir:1:2", "ci:1:2:3"} {
		if _, _, ok := ParseBranch(d); ok {
			t.Errorf("ParseBranch(%q) accepted", d)
		}
	}
	for _, d := range []string{"ob:", "ob:1", "ob:0:up", "ob:1:ok", "cl:1:up", "ob:1:up:2"} {
		if _, _, ok := ParseObjection(d); ok {
			t.Errorf("ParseObjection(%q) accepted", d)
		}
	}
	for _, d := range []string{"cir:", "cir:0", "cir:1:2", "ci:1", "cir:x"} {
		if _, ok := ParseReject(d); ok {
			t.Errorf("ParseReject(%q) accepted", d)
		}
	}
}

func FuzzDecision(f *testing.F) {
	f.Add("cl:1:ok")
	f.Fuzz(func(t *testing.T, data string) {
		if id, approve, ok := ParseDecision(data); ok && Decision(id, approve) != data {
			t.Fatalf("%q read as %d %v", data, id, approve)
		}
	})
}

func TestAck(t *testing.T) {
	if u, ob, p, ok := ParseAck(AckButton(3, "committee_meeting", "2026-11")); !ok || u != 3 || ob != "committee_meeting" || p != "2026-11" {
		t.Errorf("item: %d %q %q %v", u, ob, p, ok)
	}
	if u, ob, p, ok := ParseAck(AckButton(3, "", "")); !ok || u != 3 || ob != "" || p != "" {
		t.Errorf("branch: %d %q %q %v", u, ob, p, ok)
	}
	for _, d := range []string{"ack:", "ack:3", "ack:3:", "ack:x:*", "ack:0:*", "ack:3:a:", "ack:3::b", "cl:3:*"} {
		if _, _, _, ok := ParseAck(d); ok {
			t.Errorf("ParseAck(%q) accepted", d)
		}
	}
}

func TestTextButtons(t *testing.T) {
	for _, action := range []string{TextConfirm, TextEdit, TextCancel} {
		data := Text(123, action)
		if p, a, ok := ParseText(data); !ok || p != 123 || a != action || Prefix(data) != FreeText || len(data) > 64 {
			t.Errorf("ParseText(%q) = %d %q %v", data, p, a, ok)
		}
	}
	for _, d := range []string{"ft", "ft:1", "ft:1:yes", "ft:0:ok", "ft:01:ok", "ft:1:ok:2", "cl:1:ok"} {
		if _, _, ok := ParseText(d); ok {
			t.Errorf("ParseText(%q) accepted", d)
		}
	}
}

func TestPeriodButtons(t *testing.T) {
	for _, key := range []string{"2026-11", "2026-Q3", "2026", AsDated} {
		if p, k, ok := ParsePeriod(Period(8, key)); !ok || p != 8 || k != key {
			t.Errorf("period %s: %d %q %v", key, p, k, ok)
		}
	}
	if Prefix(Period(1, "2026")) != CheckinPeriod {
		t.Error("prefix")
	}
	for _, d := range []string{"cip:1", "cip:0:2026", "cip:1:2026-11-01", "cip:1:x'; drop", "cip:a:2026", "ci:1:2026", "cip:1:2026:1"} {
		if _, _, ok := ParsePeriod(d); ok {
			t.Errorf("ParsePeriod(%q) accepted", d)
		}
	}
}

// The yes-or-no buttons' data, as sent (and as buttons already in chats carry it).
func TestYesNoData(t *testing.T) {
	for got, want := range map[string]string{
		Decision(5, true): "cl:5:ok", Decision(5, false): "cl:5:no",
		RelinkChoice(3, true): "rl:3:ok", RelinkChoice(3, false): "rl:3:no",
		Objection(2, true): "ob:2:up", Objection(2, false): "ob:2:no",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if id, confirm, ok := ParseRelink("rl:3:ok"); !ok || !confirm || id != 3 {
		t.Errorf("ParseRelink: %d %v %v", id, confirm, ok)
	}
	for _, d := range []string{"rl:3:up", "rl:0:ok", "rl:03:no", "cl:3:ok"} {
		if _, _, ok := ParseRelink(d); ok {
			t.Errorf("ParseRelink(%q) accepted", d)
		}
	}
}
