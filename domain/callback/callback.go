// Package callback is the protocol of the bot's inline buttons: what each
// button's callback data says and how it is read back. The use cases that
// put buttons on a message and the bot that routes a tap both use it, so
// the two can never drift apart. Data is "<prefix>:<fields…>", at most 64
// bytes (Telegram's limit); the router dispatches on the prefix.
package callback

import (
	"strconv"
	"strings"
)

// The prefixes, one per kind of button.
const (
	ClaimDecision     = "cl"  // 通过/驳回 on a claim card: cl:<claim>:ok|no
	ClaimPick         = "clp" // choosing an item for a draft claim: clp:<draft>:<index>|x
	ObjectionDecision = "ob"  // 维持异议/驳回异议 on a villager's objection card: ob:<objection>:up|no
	CheckinBranch     = "ci"  // choosing the branch of a pending check-in: ci:<pending>:<branch>
	CheckinReject     = "cir" // 驳回 on an organiser's copy of a check-in: cir:<checkin>
	CheckinPeriod     = "cip" // choosing the period of a pending check-in (补开): cip:<pending>:<period key>|dated
	Ack               = "ack" // 收到 on a red notice (fields: see app.AckData)
	Relink            = "rl"  // confirming a re-link of an account: rl:<request>:ok|no
	FreeText          = "ft"  // 确认/修改/取消 under a reading of free text: ft:<pending>:ok|ed|x
)

// The actions on a reading of free text.
const (
	TextConfirm = "ok" // ✅ 确认: record it
	TextEdit    = "ed" // ✏️ 修改: send me the command to edit
	TextCancel  = "x"  // ✖ 取消: drop it
)

// Text is the data of a button under the reading of free text pendingID.
func Text(pendingID int64, action string) string {
	return FreeText + ":" + id(pendingID) + ":" + action
}

// ParseText reads Text's data.
func ParseText(data string) (pendingID int64, action string, ok bool) {
	f, ok := fields(data, FreeText, 2)
	if !ok || (f[1] != TextConfirm && f[1] != TextEdit && f[1] != TextCancel) {
		return 0, "", false
	}
	pendingID, ok = positive(f[0])
	return pendingID, f[1], ok
}

// Prefix is the kind of button data is from.
func Prefix(data string) string {
	p, _, _ := strings.Cut(data, ":")
	return p
}

// Decision is the data of a claim card's 通过 (approve) or 驳回 button.
func Decision(claimID int64, approve bool) string {
	return yesNo(ClaimDecision, claimID, approve, "ok")
}

// ParseDecision reads Decision's data.
func ParseDecision(data string) (claimID int64, approve, ok bool) {
	return parseYesNo(data, ClaimDecision, "ok")
}

// RelinkChoice is the data of the 确认改绑 (confirm) or 取消 button on the
// question a re-link asks the new account.
func RelinkChoice(requestID int64, confirm bool) string {
	return yesNo(Relink, requestID, confirm, "ok")
}

// ParseRelink reads RelinkChoice's data.
func ParseRelink(data string) (requestID int64, confirm, ok bool) {
	return parseYesNo(data, Relink, "ok")
}

// Objection is the data of 维持异议 (uphold) or 驳回异议 on an objection card.
func Objection(objectionID int64, uphold bool) string {
	return yesNo(ObjectionDecision, objectionID, uphold, "up")
}

// ParseObjection reads Objection's data.
func ParseObjection(data string) (objectionID int64, uphold, ok bool) {
	return parseYesNo(data, ObjectionDecision, "up")
}

// yesNo is the data of a yes-or-no button about record recordID:
// "<prefix>:<recordID>:<verb>" for yes, "<prefix>:<recordID>:no" for no.
func yesNo(prefix string, recordID int64, yes bool, verb string) string {
	if !yes {
		verb = "no"
	}
	return prefix + ":" + id(recordID) + ":" + verb
}

// parseYesNo reads yesNo's data.
func parseYesNo(data, prefix, verb string) (recordID int64, yes, ok bool) {
	f, ok := fields(data, prefix, 2)
	if !ok || (f[1] != verb && f[1] != "no") {
		return 0, false, false
	}
	recordID, ok = positive(f[0])
	return recordID, f[1] == verb, ok
}

// Pick is the data of the button choosing item index of a draft claim;
// index < 0 is the 取消 (cancel) button.
func Pick(draftID int64, index int) string {
	choice := "x"
	if index >= 0 {
		choice = strconv.Itoa(index)
	}
	return ClaimPick + ":" + id(draftID) + ":" + choice
}

// ParsePick reads Pick's data; index is -1 for cancel.
func ParsePick(data string) (draftID int64, index int, ok bool) {
	f, ok := fields(data, ClaimPick, 2)
	if !ok {
		return 0, 0, false
	}
	if draftID, ok = positive(f[0]); !ok {
		return 0, 0, false
	}
	if f[1] == "x" {
		return draftID, -1, true
	}
	index, err := strconv.Atoi(f[1])
	if err != nil || index < 0 || f[1] != strconv.Itoa(index) {
		return 0, 0, false
	}
	return draftID, index, true
}

// Branch is the data of the button filing pending check-in for branch.
func Branch(pendingID, branchID int64) string {
	return CheckinBranch + ":" + id(pendingID) + ":" + id(branchID)
}

// ParseBranch reads Branch's data.
func ParseBranch(data string) (pendingID, branchID int64, ok bool) {
	f, ok := fields(data, CheckinBranch, 2)
	if !ok {
		return 0, 0, false
	}
	pendingID, ok1 := positive(f[0])
	branchID, ok2 := positive(f[1])
	return pendingID, branchID, ok1 && ok2
}

// AsDated is Period's choice of the period the check-in's date files it for.
const AsDated = "dated"

// Period is the data of the button filing pending check-in pendingID for
// the period with key periodKey ("2026-11", "2026-Q3", "2026") or AsDated.
func Period(pendingID int64, periodKey string) string {
	return CheckinPeriod + ":" + id(pendingID) + ":" + periodKey
}

// ParsePeriod reads Period's data; the key is only checked for its shape.
func ParsePeriod(data string) (pendingID int64, periodKey string, ok bool) {
	f, ok := fields(data, CheckinPeriod, 2)
	if !ok {
		return 0, "", false
	}
	if pendingID, ok = positive(f[0]); !ok {
		return 0, "", false
	}
	if f[1] == AsDated {
		return pendingID, f[1], true
	}
	if len(f[1]) < 4 || len(f[1]) > 7 || strings.Trim(f[1], "0123456789-Q") != "" {
		return 0, "", false
	}
	return pendingID, f[1], true
}

// Reject is the data of the 驳回 button on a copy of check-in checkinID.
func Reject(checkinID int64) string { return CheckinReject + ":" + id(checkinID) }

// ParseReject reads Reject's data.
func ParseReject(data string) (checkinID int64, ok bool) {
	f, ok := fields(data, CheckinReject, 1)
	if !ok {
		return 0, false
	}
	return positive(f[0])
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// fields splits data of prefix into exactly n fields after the prefix.
func fields(data, prefix string, n int) ([]string, bool) {
	rest, ok := strings.CutPrefix(data, prefix+":")
	if !ok {
		return nil, false
	}
	f := strings.Split(rest, ":")
	return f, len(f) == n
}

// positive reads an id written by id: no sign, no leading zeros.
func positive(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && s == id(n)
}

// AckButton is the data of a 收到 button for one red item:
// "ack:<unit>:<obligation>:<period>", or "ack:<branch>:*" for every red item
// of a branch (when the item's data would pass 64 bytes, or for a digest's
// per-branch buttons) — obligation "" makes the latter.
func AckButton(unitID int64, obligation, period string) string {
	if obligation == "" {
		return Ack + ":" + id(unitID) + ":*"
	}
	return Ack + ":" + id(unitID) + ":" + obligation + ":" + period
}

// ParseAck reads AckButton's data; obligation and period are "" for a
// whole branch.
func ParseAck(data string) (unitID int64, obligation, period string, ok bool) {
	rest, ok := strings.CutPrefix(data, Ack+":")
	if !ok {
		return 0, "", "", false
	}
	parts := strings.SplitN(rest, ":", 3)
	if unitID, ok = positive(parts[0]); !ok {
		return 0, "", "", false
	}
	switch {
	case len(parts) == 2 && parts[1] == "*":
		return unitID, "", "", true
	case len(parts) == 3 && parts[1] != "" && parts[2] != "":
		return unitID, parts[1], parts[2], true
	}
	return 0, "", "", false
}
