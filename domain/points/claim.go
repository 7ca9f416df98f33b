package points

import (
	"fmt"
	"time"
)

// Refusal is a request the rules refuse; Msg is one Chinese sentence saying why, for the
// user. It is returned as *Refusal (nil when allowed): do not store a nil *Refusal in an
// error variable.
type Refusal struct {
	Reason Reason
	Msg    string
}

func (r *Refusal) Error() string { return r.Msg }

// Reason classifies a refusal for callers and logs.
type Reason string

const (
	ReasonNotClaimable Reason = "not_claimable"
	ReasonEvidence     Reason = "evidence"
	ReasonDuplicate    Reason = "duplicate"
	ReasonCap          Reason = "cap"
	ReasonAmount       Reason = "amount"
	ReasonBalance      Reason = "balance"
)

// CheckClaim applies every rule for a villager's new claim of item at instant at, in order:
// claimable, evidence, duplicate, caps. existing are the instants of the household's pending
// and approved claims of this item. It returns the first refusal, or nil.
func CheckClaim(item Item, existing []time.Time, at time.Time, loc *time.Location, hasPhoto bool) *Refusal {
	if !item.Claimable {
		return &Refusal{ReasonNotClaimable, fmt.Sprintf("“%s”由评议人员登记，不能自行申报。", item.Name)}
	}
	if r := CheckEvidence(item, hasPhoto); r != nil {
		return r
	}
	if r := CheckDuplicate(existing, at, loc); r != nil {
		return r
	}
	return CheckCaps(item, existing, at, loc)
}

// CheckCaps refuses when one more claim at instant at would exceed any of the item's caps.
// existing are the instants of the household's pending and approved claims of this item;
// each cap counts those in its window around at (see Cap.Window).
func CheckCaps(item Item, existing []time.Time, at time.Time, loc *time.Location) *Refusal {
	for _, c := range item.Caps {
		from, to := c.Window(at, loc)
		n := 0
		for _, t := range existing {
			if within(t, from, to) {
				n++
			}
		}
		if n+1 <= c.N {
			continue
		}
		if w, ok := capWords[c.Per]; ok {
			return &Refusal{ReasonCap, fmt.Sprintf("该项%s最多 %d 次，%s已申报 %d 次。", w[0], c.N, w[1], n)}
		}
		return &Refusal{ReasonCap, fmt.Sprintf("该项每户累计最多 %d 次，已申报 %d 次。", c.N, n)}
	}
	return nil
}

// SameDay reports whether a and b fall on the same calendar day in loc.
func SameDay(a, b time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = time.UTC
	}
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return ay == by && am == bm && ad == bd
}

// CheckDuplicate refuses a claim at instant at when the household already claimed the same
// item on that day; existing are the instants of its pending and approved claims of it.
func CheckDuplicate(existing []time.Time, at time.Time, loc *time.Location) *Refusal {
	for _, t := range existing {
		if SameDay(t, at, loc) {
			return &Refusal{ReasonDuplicate, "今天已为该项申报过，请勿重复提交。"}
		}
	}
	return nil
}

// NeedsPhoto reports whether a claim of item must carry a photo: of the deed for photo
// items, of the document for certificate items. Witness items are confirmed by the review.
func NeedsPhoto(item Item) bool {
	return item.Evidence == EvidencePhoto || item.Evidence == EvidenceCertificate
}

// CheckEvidence refuses a claim without the photo the item needs.
func CheckEvidence(item Item, hasPhoto bool) *Refusal {
	if hasPhoto || !NeedsPhoto(item) {
		return nil
	}
	what := "现场照片"
	if item.Evidence == EvidenceCertificate {
		what = "证书或证明材料的照片"
	}
	return &Refusal{ReasonEvidence, fmt.Sprintf("该项需要附%s：请发送照片，并把申报命令写在照片说明里。", what)}
}
