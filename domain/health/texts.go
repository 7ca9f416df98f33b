package health

// The words of this package's own sentences that are not notices, in one
// table to review (fmt formats), as domain/texts.go does for package domain:
// the notices' wording comes from internal/texts/notices.yaml through
// NewWording, but these are made where no catalogue is at hand — a pure
// parser's errors (ParseThemeDay, ParseQuietHours, ParseHolidays, Validate:
// the configuration's and a branch file's), why a run holds its notices
// (Hold), and the term notice (TermNotice). Vocabulary (light names,
// weekday and ordinal words, obligation names) is data and stays next to
// its codes.
const (
	// TermNotice, with the last day of the term (2027年3月31日).
	textTermAhead = "支部委员会任期将于%s届满，请及时换届"
	textTermPast  = "支部委员会任期已于%s届满，请尽快换届"
	textTermDay   = "%d年%d月%d日"

	// ParseThemeDay, of a branch's 主题党日 rule.
	textThemeDayRange = "每月固定日须在 1 到 28 之间"
	textThemeDayForm  = "应为 1 到 28 的日期，或“第一个周五”“最后一个周六”这样的规则"

	// Hold: why a run sends nothing now.
	textHoldDayOff = "休息日（%s）不发送"
	textHoldQuiet  = "静默时段（%s）不发送"

	// Validate, ParseQuietHours, ParseHolidays: the configuration key at fault.
	textYellowRepeatNegative = "healthcheck.yellow_repeat 不能为负数（%s）"
	textRedRepeatNegative    = "healthcheck.red_repeat 不能为负数（%s）"
	textEscalateNegative     = "healthcheck.escalate_after 不能为负数（%d）"
	textQuietRange           = "healthcheck.quiet_hours 超出范围（%d-%d 分钟）"
	textQuietWholeDay        = "healthcheck.quiet_hours 覆盖全天，将永远无法发送"
	textQuietBad             = "healthcheck.quiet_hours %q 无效：%s（格式如 21:00-08:00，留空表示不设）"
	textQuietNoDash          = "缺少“-”"
	textQuietClock           = "时间应为 HH:MM"
	textQuietEqual           = "起止时间不能相同，也不能覆盖全天"
	textHolidayBad           = "healthcheck.holidays：日期 %q 无效，应为 2026-10-01 格式"
)
