// Package health holds the pure rules of the branch health check (智能体检):
// periods, obligations (规定动作), deadlines, traffic lights and the planning
// of reminder and supervision notices. It does no I/O and reads no clock:
// every instant and the configured time zone are passed in, so the same
// evaluation gives the same answer on any replica and in any test.
//
// # Periods
//
// An obligation recurs monthly, quarterly or yearly. A Period is one such
// interval in the configured zone, keyed "2026-11", "2026-Q4" or "2026".
// A period is the half-open interval [Start, End): End is the Start of the
// next period, so 2026-11-30 23:59:59 belongs to 2026-11 and
// 2026-12-01 00:00:00 to 2026-12. A nil *time.Location means UTC+8 (the same
// as Asia/Shanghai for every date since 1991).
//
// # Deadlines
//
// For an ordinary obligation the period's due instant is its End, and the
// yellow window opens YellowDays calendar days (in the zone) before due.
// The themed party day (ThemeDay obligations) is pinned to the branch's fixed
// day of the month (1..31, clamped to the month's last day): the yellow
// window opens YellowDays days before the start of the fixed day, and due is
// the end of the fixed day plus GraceDays days, which may spill into the next
// month. A branch with no fixed day (0) falls back to the ordinary rule.
//
// # Lights
//
// For one (branch or party group, obligation, period) at instant t:
//
//   - green: a check-in for the period exists (on time or late, neither
//     withdrawn nor rejected), or an exemption, or the period is not owed,
//     or t is before the yellow window;
//   - yellow: yellowFrom <= t < due and nothing done;
//   - red: t >= due and nothing done.
//
// A check-in counts for the period that contains its activity date. A branch
// owes obligations from the period containing its start date, never earlier,
// so onboarding a county does not flood it with red for its whole past.
// A branch's light is its worst obligation light; a unit's summary counts its
// branches per light.
//
// # Notices
//
// Plan turns the lights of one evaluation into at most one digest per
// recipient:
//
//   - yellow: the branch's secretaries, repeated every Rules.YellowRepeat
//     (slot = ⌊(t−yellowFrom)/YellowRepeat⌋);
//   - red: the secretaries and the level-0 organisers (nearest unit above
//     with organisers), repeated every Rules.RedRepeat
//     (slot = ⌊(t−due)/RedRepeat⌋); from Rules.EscalateAt(due) (EscalateDays
//     working days after due) the level-1 organisers too, their slots
//     counted from then, but never before a level-0 red line has gone out;
//   - resolved: once green again, the organisers who had a red notice;
//   - green: in the first month of each period, each secretary gets the list
//     of the branch's activities for that period, once per period key.
//
// An acknowledgement pauses the red repeats (slot >= 1) of its item for every
// recipient until AckUntil; first notices (slot 0) are never paused. Silenced
// items are reported but never notified. During quiet hours and on days off
// (Rules.Calendar) nothing is sent: the plan is marked Deferred, and the next evaluation
// after them sends the then-current slot. Every notice has a stable key
// (recipient, unit, obligation, period, level, slot); keys the caller has
// already sent are left out, so a notice goes out at most once however often
// the evaluation runs.
package health
