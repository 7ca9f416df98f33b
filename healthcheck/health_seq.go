package healthcheck

import "github.com/zhibu/zhibu/domain/health"

// periodSeq, seqPeriod and parseSeq are the engine's short names for the
// period numbering of domain/health (Period.Seq, PeriodOfSeq, ParseKey).

func periodSeq(p health.Period) int32 { return p.Seq() }

func seqPeriod(rec health.Recurrence, seq int32) health.Period { return health.PeriodOfSeq(rec, seq) }

// parseSeq reads a period key of recurrence rec; ok is false for any other
// shape or recurrence.
func parseSeq(b []byte, rec health.Recurrence) (seq int32, ok bool) {
	p, ok := health.ParseKey(b)
	if !ok || p.Rec != rec {
		return 0, false
	}
	return p.Seq(), true
}
