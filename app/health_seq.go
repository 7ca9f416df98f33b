package app

import "github.com/zhibu/zhibu/domain/health"

// Periods are numbered within their recurrence so that an evaluation can
// walk a branch's periods as integers and keep its done set as small
// sorted arrays: a month is year*12+month-1, a quarter year*4+quarter-1, a
// year itself. Consecutive periods have consecutive numbers.

// periodSeq numbers p (0 for an invalid period).
func periodSeq(p health.Period) int32 {
	switch p.Rec {
	case health.Monthly:
		return int32(p.Year*12 + p.N - 1)
	case health.Quarterly:
		return int32(p.Year*4 + p.N - 1)
	case health.Yearly:
		return int32(p.Year)
	}
	return 0
}

// seqPeriod is the period of rec numbered seq.
func seqPeriod(rec health.Recurrence, seq int32) health.Period {
	s := int(seq)
	switch rec {
	case health.Monthly:
		return health.Period{Rec: rec, Year: s / 12, N: s%12 + 1}
	case health.Quarterly:
		return health.Period{Rec: rec, Year: s / 4, N: s%4 + 1}
	}
	return health.Period{Rec: rec, Year: s}
}

// parseSeq reads a period key of recurrence rec ("2026-11", "2026-Q4",
// "2026") without allocating; ok is false for any other shape.
func parseSeq(b []byte, rec health.Recurrence) (seq int32, ok bool) {
	if len(b) < 4 {
		return 0, false
	}
	y := 0
	for _, c := range b[:4] {
		if c < '0' || c > '9' {
			return 0, false
		}
		y = y*10 + int(c-'0')
	}
	if y < 1 {
		return 0, false
	}
	switch rec {
	case health.Yearly:
		if len(b) != 4 {
			return 0, false
		}
		return int32(y), true
	case health.Quarterly:
		if len(b) != 7 || b[4] != '-' || (b[5] != 'Q' && b[5] != 'q') || b[6] < '1' || b[6] > '4' {
			return 0, false
		}
		return int32(y*4 + int(b[6]-'1')), true
	case health.Monthly:
		if len(b) != 7 || b[4] != '-' || b[5] < '0' || b[5] > '1' || b[6] < '0' || b[6] > '9' {
			return 0, false
		}
		m := int(b[5]-'0')*10 + int(b[6]-'0')
		if m < 1 || m > 12 {
			return 0, false
		}
		return int32(y*12 + m - 1), true
	}
	return 0, false
}
