package texts

// FreeText is what the bot says about free text (freetext.yaml): the
// readings of check-ins and claims, their buttons and the answers to taps.
var FreeText = MustLoad("freetext", map[string][]string{
	"checkin.day":                     {"year", "month", "day"},
	"checkin.period.makeup":           {"period"},
	"checkin.period.either":           {"first", "last"},
	"checkin.reading.head":            nil,
	"checkin.reading.activity":        {"name", "period"},
	"checkin.reading.date":            {"day"},
	"checkin.reading.date_unwritten":  {"day"},
	"checkin.reading.attendance":      {"present", "total"},
	"checkin.reading.attendance_none": nil,
	"checkin.reading.topic":           {"topic"},
	"checkin.reading.topic_none":      nil,
	"checkin.reading.topic_confirm":   {"topic"},
	"checkin.reading.makeup":          {"period"},
	"checkin.reading.photo_one":       nil,
	"checkin.reading.photo_album":     nil,
	"checkin.reading.tail":            nil,
	"checkin.unsure.head":             nil,
	"checkin.unsure.question":         {"question"},
	"checkin.unsure.tail":             {"command"},

	"claim.reading":       {"item", "points", "note"},
	"claim.choose":        {"note"},
	"claim.needs_photo":   {"item", "points", "why"},
	"claim.photo_command": nil,

	"button.confirm": nil,
	"button.edit":    nil,
	"button.cancel":  nil,

	"tap.cancelled":        nil,
	"tap.cancelled_answer": nil,
	"tap.edit":             {"command"},
	"tap.edit_answer":      nil,
	"tap.confirmed":        nil,
	"tap.recorded_answer":  nil,
	"tap.confirmed_branch": nil,
	"tap.confirmed_period": nil,
	"tap.claimed_answer":   {"id"},
	"tap.stale_button":     nil,

	"correct.done":       nil,
	"correct.unread":     nil,
	"correct.unsure":     {"questions"},
	"correct.not_sender": nil,
	"correct.confirmed":  nil,
	"correct.cancelled":  nil,
	"correct.edited":     nil,

	"refuse.gone":       nil,
	"refuse.not_sender": nil,
	"refuse.used":       nil,
	"refuse.expired":    nil,
	"refuse.item_gone":  nil,
})
