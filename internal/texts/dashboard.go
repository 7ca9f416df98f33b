package texts

// Dashboard is what the dashboard's Go code says (dashboard.yaml): page
// titles, login and error pages, and the boards' refusals. The pages
// themselves are the templates of web/.
var Dashboard = MustLoad("dashboard", map[string][]string{
	"title.login":               nil,
	"title.escalations":         {"unit"},
	"title.rankings":            {"unit"},
	"login.revoked":             nil,
	"login.expired":             nil,
	"login.link":                nil,
	"login.ended":               nil,
	"login.role":                nil,
	"login.empty":               nil,
	"login.cross_site":          nil,
	"logout.cross_site":         nil,
	"error.forbidden.title":     nil,
	"error.forbidden":           nil,
	"error.not_found.title":     nil,
	"error.not_found":           nil,
	"error.bad.title":           nil,
	"error.bad":                 nil,
	"error.internal.title":      nil,
	"error.internal":            nil,
	"error.render":              nil,
	"refuse.not_manager":        nil,
	"refuse.page":               {"page"},
	"refuse.page_number":        nil,
	"refuse.unknown_obligation": {"obligation"},
	"refuse.no_township":        {"township", "unit"},
	"rankings.month":            {"month"},
})
