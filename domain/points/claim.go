package points

import (
	"strconv"
	"strings"
	"time"
)

// Refusal is a request the rules refuse. Key names the sentence that says why and Args
// fills its placeholders (name, value pairs): the words live in the points catalogue
// (internal/texts/points.yaml, "rule.<Key>"), which this standard-library-only package
// cannot read, so the app puts a refusal in words. It is returned as *Refusal (nil when
// allowed): do not store a nil *Refusal in an error variable.
type Refusal struct {
	Reason Reason
	Key    string
	Args   []string
}

// Error is for logs: the key and its values, not the user's sentence.
func (r *Refusal) Error() string {
	return "points: refused: " + r.Key + " " + strings.Join(r.Args, " ")
}

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
		return &Refusal{ReasonNotClaimable, "not_claimable", []string{"item", item.Name}}
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
		key := "cap_total"
		if w, ok := capKeys[c.Per]; ok {
			key = w
		}
		return &Refusal{ReasonCap, key, []string{"max", strconv.Itoa(c.N), "count", strconv.Itoa(n)}}
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
			return &Refusal{ReasonDuplicate, "duplicate", nil}
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
	if item.Evidence == EvidenceCertificate {
		return &Refusal{ReasonEvidence, "evidence_certificate", nil}
	}
	return &Refusal{ReasonEvidence, "evidence_photo", nil}
}
