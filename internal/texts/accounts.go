package texts

// Accounts is what the bot says about accounts (accounts.yaml): linking a
// person's Telegram account with a bind code, moving a link, binding a
// group chat to a unit, issuing bind codes and API tokens, and their
// refusals.
var Accounts = MustLoad("accounts", map[string][]string{
	"refuse.not_linked":           nil,
	"start.private_only":          nil,
	"start.no_sender":             nil,
	"start.linked":                {"person"},
	"start.roles":                 {"roles"},
	"start.refuse.bad_code":       nil,
	"start.refuse.too_many":       {"count", "minutes", "when"},
	"start.refuse.when_other_day": {"day", "month", "time"},
	"relink.ask":                  {"person"},
	"relink.button.confirm":       nil,
	"relink.button.cancel":        nil,
	"relink.tap_cancelled":        nil,
	"relink.cancelled":            nil,
	"relink.tap_done":             nil,
	"relink.linked":               {"person"},
	"relink.notice":               nil,
	"relink.refuse.gone":          nil,
	"relink.refuse.done":          nil,
	"bind.private":                nil,
	"bind.choose":                 {"lines"},
	"bind.choose.line":            {"command", "unit"},
	"bind.done":                   {"unit"},
	"bind.done_public":            {"unit"},
	"bind.done_review":            {"unit"},
	"bind.replaced":               {"unit"},
	"bind.refuse.not_reviewer":    nil,
	"bind.refuse.not_of_unit":     {"code"},
	"bind.refuse.no_role":         nil,
	"bind.refuse.bound_elsewhere": {"unit"},
	"code.refuse.no_person":       {"phone"},
	"role.refuse.unknown":         {"role"},
	"token.refuse.no_dashboard":   nil,
	"token.refuse.operator_only":  nil,
	"token.refuse.no_role":        {"role", "roles"},
	"token.refuse.no_such":        {"id"},
})
