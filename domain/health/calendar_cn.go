package health

import "time"

// officialArrangements are the State Council's 放假调休 arrangements
// (国务院办公厅关于部分节假日安排的通知) for the years the product knows:
// each holiday's days off, and the weekend days worked in exchange, as the
// notices published them (checked day by day against their text).
// `zhibu import holidays` adds later years or corrects these; 2027's notice
// had not been published when this table was written, so from December
// 2026 the top unit's organisers are told to import it.
var officialArrangements = []struct {
	name     string
	from, to string // days off, inclusive
	workdays []string
}{
	// 2025: 国务院办公厅关于2025年部分节假日安排的通知, 国办发明电〔2024〕12号,
	// 2024年11月12日 (新华社).
	{"元旦", "2025-01-01", "2025-01-01", nil},
	{"春节", "2025-01-28", "2025-02-04", []string{"2025-01-26", "2025-02-08"}},
	{"清明节", "2025-04-04", "2025-04-06", nil},
	{"劳动节", "2025-05-01", "2025-05-05", []string{"2025-04-27"}},
	{"端午节", "2025-05-31", "2025-06-02", nil},
	{"国庆节、中秋节", "2025-10-01", "2025-10-08", []string{"2025-09-28", "2025-10-11"}},
	// 2026: 国务院办公厅关于2026年部分节假日安排的通知, 2025年11月4日 (新华社).
	{"元旦", "2026-01-01", "2026-01-03", []string{"2026-01-04"}},
	{"春节", "2026-02-15", "2026-02-23", []string{"2026-02-14", "2026-02-28"}},
	{"清明节", "2026-04-04", "2026-04-06", nil},
	{"劳动节", "2026-05-01", "2026-05-05", []string{"2026-05-09"}},
	{"端午节", "2026-06-19", "2026-06-21", nil},
	{"中秋节", "2026-09-25", "2026-09-27", nil},
	{"国庆节", "2026-10-01", "2026-10-07", []string{"2026-09-20", "2026-10-10"}},
}

// OfficialDays lists the shipped calendar's days, holidays and workdays.
func OfficialDays() []CalendarDay {
	var out []CalendarDay
	for _, a := range officialArrangements {
		from, _ := time.Parse(time.DateOnly, a.from)
		to, _ := time.Parse(time.DateOnly, a.to)
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			out = append(out, CalendarDay{Date: d, Kind: DayHoliday, Name: a.name})
		}
		for _, w := range a.workdays {
			d, _ := time.Parse(time.DateOnly, w)
			out = append(out, CalendarDay{Date: d, Kind: DayWorkday, Name: a.name + "调休上班"})
		}
	}
	return out
}
