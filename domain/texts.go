package domain

// The words of package domain's own refusals, in one table to review (fmt
// formats). They are not in internal/texts' catalogues on purpose: domain
// is standard library only, and these refusals are made where no catalogue
// is at hand — storage's lookups (Missing, Exists), the general answer of
// a door to an error with no refusal of its own (UserMessage), and a pure
// parser (ParseTokenExpiry). Vocabulary (RoleNames, KindNames, branch
// types) is data and stays next to its codes.
const (
	textMissing = "没有%s为 %s 的%s。"  // by, key, what
	textExists  = "%s为 %s 的%s已存在。" // by, key, what
	// The unit of UnitNotFound: "单位" (what) by its "编码" (by).
	textUnit     = "单位"
	textUnitCode = "编码"

	// UserMessage's answer by the kind of an error that is no refusal.
	textNotFound  = "要找的记录不存在。"
	textConflict  = "与已有的记录冲突，请检查后重试。"
	textForbidden = "您无权进行此操作。"
	textInvalid   = "输入有误，请检查后重试。"

	// ParseTokenExpiry, each with the value as written.
	textExpiryForm     = "有效期 %s 写法不对：写天数或小时数（如 30d、12h），或最后一天的日期（如 2027-01-31）。"
	textExpiryPast     = "有效期 %s 已经过去，请写今天或以后的日期。"
	textExpiryPositive = "有效期 %s 必须大于零。"
	textExpiryTooLong  = "有效期 %s 太长：最长十年。"
)
