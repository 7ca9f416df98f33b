package points

import "testing"

func TestParseMemberRef(t *testing.T) {
	tests := []struct {
		in, phone, household string
	}{
		{"13812345678", "13812345678", ""},
		{" 13812345678 ", "13812345678", ""},
		{"+8613812345678", "13812345678", ""},
		{"8613812345678", "13812345678", ""},
		{"008613812345678", "13812345678", ""},
		{"138-1234-5678", "13812345678", ""},
		{"+86-138-1234-5678", "13812345678", ""},
		{"１３８１２３４５６７８", "13812345678", ""},
		{"12812345678", "", "12812345678"},   // no mobile prefix 12
		{"1381234567", "", "1381234567"},     // 10 digits
		{"138123456789", "", "138123456789"}, // 12 digits
		{"+1 2025550123", "", "+1 2025550123"},
		{"QA-RZ-XZ-H017", "", "QA-RZ-XZ-H017"},
		{"王家", "", "王家"},
		{"", "", ""},
	}
	for _, tt := range tests {
		phone, household := ParseMemberRef(tt.in)
		if phone != tt.phone || household != tt.household {
			t.Errorf("ParseMemberRef(%q) = %q, %q; want %q, %q", tt.in, phone, household, tt.phone, tt.household)
		}
	}
}
