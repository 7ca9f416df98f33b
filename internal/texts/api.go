package texts

// API is what the HTTP API says (api.yaml): a request body it cannot read,
// a token refused, and the refusals of webhook subscriptions and of
// check-ins sent by other systems. Every answer is {"error": text}.
var API = MustLoad("api", map[string][]string{
	"body.too_large":                    nil,
	"body.one_object":                   nil,
	"body.not_json":                     nil,
	"body.wrong_type":                   {"field"},
	"body.unknown_field":                {"field"},
	"body.nul":                          {"field"},
	"body.out_of_range":                 {"field"},
	"body.whole":                        nil,
	"internal":                          nil,
	"token.expired":                     nil,
	"date.unknown":                      {"date"},
	"query.date":                        {"name"},
	"checkin.refuse.no_branch":          nil,
	"checkin.refuse.external_id_long":   {"max"},
	"webhook.refuse.not_admin":          nil,
	"robot.refuse.exists":               {"platform"},
	"webhook.refuse.no_unit":            nil,
	"webhook.refuse.forbidden":          {"code", "unit"},
	"webhook.refuse.url_long":           {"max"},
	"webhook.refuse.url_form":           nil,
	"webhook.refuse.private":            {"host"},
	"webhook.refuse.unknown_event_type": {"type", "types"},
	"webhook.refuse.no_such":            {"id"},
})
