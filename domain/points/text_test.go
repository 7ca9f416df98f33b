package points

import "testing"

func TestSigned(t *testing.T) {
	for n, want := range map[int]string{5: "+5", 0: "0", -3: "-3"} {
		if got := Signed(n); got != want {
			t.Errorf("Signed(%d) = %q, want %q", n, got, want)
		}
	}
}
