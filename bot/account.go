package bot

import (
	"errors"
	"strings"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/internal/texts"
)

// acct and bt are the catalogues of what the bot says about accounts and
// about itself.
var (
	acct = texts.Accounts
	bt   = texts.Bot
)

// startHandler links the account with /start <code> in a private chat.
func startHandler(c *Ctx) error {
	if !c.Private() {
		return c.Reply(acct.T("start.private_only"), nil)
	}
	if len(c.Cmd.Args) == 0 {
		return helpHandler(c)
	}
	if c.From == nil {
		// An update without a sender (Telegram may omit from): there is
		// no account to link the code to.
		return domain.Refuse(domain.ErrInvalid, "%s", acct.T("start.no_sender"))
	}
	p, err := accounts.Of(c.App).RedeemBindCode(c, c.Cmd.Args[0], c.From.ID, c.Msg.Chat.ID, c.From.Username)
	var relink *accounts.ErrConfirmRelink
	if errors.As(err, &relink) {
		return c.Reply(acct.T("relink.ask", "person", E(relink.Person.Name)),
			map[string]any{"inline_keyboard": [][]map[string]string{{
				{"text": acct.T("relink.button.confirm"), "callback_data": callback.RelinkChoice(relink.RequestID, true)},
				{"text": acct.T("relink.button.cancel"), "callback_data": callback.RelinkChoice(relink.RequestID, false)},
			}}})
	}
	if err != nil {
		return err
	}
	return c.linked(p, "start.linked")
}

// linked tells the sender who they now are (the text of key) and what they
// may do.
func (c *Ctx) linked(p domain.Person, key string) error {
	actor, err := accounts.Of(c.App).ActorByTelegram(c, c.From.ID)
	if err != nil {
		return err
	}
	c.Actor = actor
	text := acct.T(key, "person", E(p.Name))
	if s := roleSummary(actor); s != "" {
		text += acct.T("start.roles", "roles", s)
	}
	return c.Reply(text+"\n\n"+c.router.helpText(actor), nil)
}

// relinkCallback answers the re-link question: 确认改绑 moves the link to
// the tapping account and tells the old one; 取消 leaves it where it was.
func relinkCallback(c *Ctx) error {
	id, confirm, ok := callback.ParseRelink(c.Data)
	if !ok {
		return c.Answer(bt.T("button.stale"), false)
	}
	res, err := accounts.Of(c.App).ConfirmRelink(c, c.From.ID, id, confirm)
	if err != nil {
		return err
	}
	if !confirm {
		if err := c.Answer(acct.T("relink.tap_cancelled"), false); err != nil {
			return err
		}
		return c.Reply(acct.T("relink.cancelled"), nil)
	}
	if res.OldChatID != 0 {
		if err := c.SendTo(res.OldChatID, acct.T("relink.notice"), nil, "notice"); err != nil {
			return err
		}
	}
	if err := c.Answer(acct.T("relink.tap_done"), false); err != nil {
		return err
	}
	return c.linked(res.Person, "relink.linked")
}

func helpHandler(c *Ctx) error {
	if c.Actor.PersonID == 0 {
		return c.Reply(bt.T("help.not_linked"), nil)
	}
	return c.Reply(c.router.helpText(c.Actor), nil)
}

func (r *Router) helpText(actor domain.Actor) string {
	var b strings.Builder
	b.WriteString(bt.T("help.head") + "\n")
	for _, cmd := range r.helpFor(actor) {
		if len(cmd.Words) > 0 {
			b.WriteString(bt.T("help.line_words", "words", E(strings.Join(cmd.Words, "、")), "name", cmd.Name, "description", E(cmd.Description)) + "\n")
		} else {
			b.WriteString(bt.T("help.line", "name", cmd.Name, "description", E(cmd.Description)) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func bindHandler(c *Ctx) error {
	if c.Private() {
		if len(c.Cmd.Args) > 0 {
			// "绑定 3k9xq7" in private: the person's own bind code, as /start.
			return startHandler(c)
		}
		return c.Reply(acct.T("bind.private"), nil)
	}
	args := c.Cmd.Args
	purpose, word := accounts.GroupDefault, ""
	if len(args) > 0 {
		switch args[0] {
		case "评议", "评议群":
			purpose, word, args = accounts.GroupReview, "评议 ", args[1:]
		case "公示", "公示群":
			purpose, word, args = accounts.GroupPublic, "公示 ", args[1:]
		}
	}
	code := ""
	if len(args) > 0 {
		code = args[0]
	}
	u, replaced, err := accounts.Of(c.App).BindGroupAs(c, c.Actor, c.Msg.Chat.ID, c.Msg.Chat.Title, code, purpose)
	var choose *accounts.ErrChooseUnit
	if errors.As(err, &choose) {
		lines := make([]string, 0, len(choose.Units))
		for _, r := range choose.Units {
			lines = append(lines, acct.T("bind.choose.line", "command", E(word+r.UnitCode), "unit", E(r.UnitName)))
		}
		return c.Reply(acct.T("bind.choose", "lines", strings.Join(lines, "\n")), nil)
	}
	if err != nil {
		return err
	}
	key := "bind.done"
	switch purpose {
	case accounts.GroupPublic:
		key = "bind.done_public"
	case accounts.GroupReview:
		key = "bind.done_review"
	}
	msg := acct.T(key, "unit", E(u.Name))
	if replaced != nil {
		msg += acct.T("bind.replaced", "unit", E(replaced.Name))
	}
	return c.Reply(msg, nil)
}
