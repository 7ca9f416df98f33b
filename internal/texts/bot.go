package texts

// Bot is what the bot says about itself (bot.yaml): each command's line in
// /help and Telegram's command menu, the /help text, and the router's own
// replies (an unknown command or button, a message it cannot store, an
// apology after failures).
var Bot = MustLoad("bot", map[string][]string{
	"command.start":   nil,
	"command.help":    nil,
	"command.bind":    nil,
	"command.checkin": nil,
	"command.undo":    nil,
	"command.reject":  nil,
	"command.status":  nil,
	"command.ack":     nil,
	"command.exempt":  nil,
	"command.silence": nil,
	"command.claim":   nil,
	"command.points":  nil,
	"command.rank":    nil,
	"command.items":   nil,
	"command.goods":   nil,
	"command.pending": nil,
	"command.deduct":  nil,
	"command.object":  nil,
	"command.redeem":  nil,
	"help.not_linked": nil,
	"help.head":       nil,
	"help.line":       {"description", "name"},
	"help.line_words": {"description", "name", "words"},
	"button.stale":    nil,
	"reply.unknown":   {"name"},
	"reply.apology":   nil,
	"refuse.nul":      nil,
})
