package texts

import "testing"

func TestPointsFills(t *testing.T) {
	got := Points.T("deduct.refuse.future", "year", "2026", "month", "11", "day", "30", "target", "H001", "code", "A07", "today", "2026-11-20")
	if want := "日期 2026年11月30日 还没到：请写发生的日期，例如 /deduct H001 A07 2026-11-20。"; got != want {
		t.Fatalf("filled %q", got)
	}
	// A placeholder used twice is filled in both places.
	got = Points.T("redeem.refuse.stock", "left", "2", "goods", "洗衣粉")
	if want := "库存不足（剩 2 件）：洗衣粉 最多还能兑换 2 件。"; got != want {
		t.Fatalf("filled %q", got)
	}
	if got := Points.T("card.head_claim", "id", "12"); got != "<b>📝 积分申报 #12</b>\n" {
		t.Fatalf("filled %q", got)
	}
}
