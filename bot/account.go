package bot

import (
	"errors"
	"strings"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/storage"
)

// startHandler links the account with /start <code> in a private chat.
func startHandler(c *Ctx) error {
	if !c.Private() {
		return c.Reply("请私聊本机器人完成账号绑定。", nil)
	}
	if len(c.Cmd.Args) == 0 {
		return helpHandler(c)
	}
	if c.From == nil {
		// An update without a sender (Telegram may omit from): there is
		// no account to link the code to.
		return domain.Refuse(domain.ErrInvalid, "无法识别发送者的账号，请用自己的 Telegram 账号私聊本机器人再试。")
	}
	p, err := c.App.RedeemBindCode(c, c.Cmd.Args[0], c.From.ID, c.Msg.Chat.ID, c.From.Username)
	var relink *app.ErrConfirmRelink
	if errors.As(err, &relink) {
		return c.Reply("“"+E(relink.Person.Name)+"”的账号已绑定在另一个 Telegram 账号上。\n"+
			"确认改为绑定到当前这个账号吗？确认后，原来的账号将不再收到提醒和消息。",
			map[string]any{"inline_keyboard": [][]map[string]string{{
				{"text": "✅ 确认改绑", "callback_data": callback.RelinkChoice(relink.RequestID, true)},
				{"text": "✖ 取消", "callback_data": callback.RelinkChoice(relink.RequestID, false)},
			}}})
	}
	if err != nil {
		return err
	}
	return c.linked(p, "✅ 绑定成功，")
}

// linked tells the sender who they now are and what they may do.
func (c *Ctx) linked(p domain.Person, lead string) error {
	actor, err := c.App.ActorByTelegram(c, c.From.ID)
	if err != nil {
		return err
	}
	c.Actor = actor
	text := lead + E(p.Name) + "！"
	if s := roleSummary(actor); s != "" {
		text += "\n您的身份：" + s
	}
	return c.Reply(text+"\n\n"+c.router.helpText(actor), nil)
}

// relinkNotice tells the account a link was taken from.
const relinkNotice = "你的账号已在另一个 Telegram 账号上绑定，本账号不再接收提醒和消息。如果这不是你本人的操作，请立即联系管理员。"

// relinkCallback answers the re-link question: 确认改绑 moves the link to
// the tapping account and tells the old one; 取消 leaves it where it was.
func relinkCallback(c *Ctx) error {
	id, confirm, ok := callback.ParseRelink(c.Data)
	if !ok {
		return c.Answer("该按钮已失效。", false)
	}
	res, err := c.App.ConfirmRelink(c, c.From.ID, id, confirm)
	if err != nil {
		return err
	}
	if !confirm {
		if err := c.Answer("已取消", false); err != nil {
			return err
		}
		return c.Reply("已取消改绑，原来的账号绑定保持不变。", nil)
	}
	if res.OldChatID != 0 {
		if err := c.SendTo(res.OldChatID, relinkNotice, nil, storage.PriorityReply, "notice"); err != nil {
			return err
		}
	}
	if err := c.Answer("已改绑", false); err != nil {
		return err
	}
	return c.linked(res.Person, "✅ 已改绑到当前账号，")
}

func helpHandler(c *Ctx) error {
	if c.Actor.PersonID == 0 {
		return c.Reply("您好，这里是“支部”智能助手：党支部规定动作提醒与打卡、村级积分申报与审核。\n\n"+
			"您还没有绑定账号。请点击管理员发给您的绑定链接，或发送 <code>/start 绑定码</code>。", nil)
	}
	return c.Reply(c.router.helpText(c.Actor), nil)
}

func (r *Router) helpText(actor domain.Actor) string {
	var b strings.Builder
	b.WriteString("<b>可用命令</b>（直接写中文词即可，也可用 / 命令）\n")
	for _, cmd := range r.helpFor(actor) {
		if len(cmd.Words) > 0 {
			b.WriteString("<b>" + E(strings.Join(cmd.Words, "、")) + "</b>（/" + cmd.Name + "）— " + E(cmd.Description) + "\n")
		} else {
			b.WriteString("/" + cmd.Name + " — " + E(cmd.Description) + "\n")
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
		return c.Reply("请在要绑定的群里发送 /bind（或“绑定”）；绑定自己的账号请发送 <code>绑定 绑定码</code>。", nil)
	}
	args := c.Cmd.Args
	purpose, word := app.GroupDefault, ""
	if len(args) > 0 {
		switch args[0] {
		case "评议", "评议群":
			purpose, word, args = app.GroupReview, "评议 ", args[1:]
		case "公示", "公示群":
			purpose, word, args = app.GroupPublic, "公示 ", args[1:]
		}
	}
	code := ""
	if len(args) > 0 {
		code = args[0]
	}
	u, replaced, err := c.App.BindGroupAs(c, c.Actor, c.Msg.Chat.ID, c.Msg.Chat.Title, code, purpose)
	var choose *app.ErrChooseUnit
	if errors.As(err, &choose) {
		var b strings.Builder
		b.WriteString("您负责多个单位，请指明要绑定哪一个：\n")
		for _, r := range choose.Units {
			b.WriteString("<code>/bind " + E(word+r.UnitCode) + "</code> " + E(r.UnitName) + "\n")
		}
		return c.Reply(strings.TrimRight(b.String(), "\n"), nil)
	}
	if err != nil {
		return err
	}
	msg := "✅ 本群已绑定到 <b>" + E(u.Name) + "</b>。"
	switch purpose {
	case app.GroupPublic:
		msg = "✅ 本群已绑定为 <b>" + E(u.Name) + "</b> 的积分公示群：每天的公示名单、积分结算和排名发到本群，村民可在公示期内提出异议。"
	case app.GroupReview:
		msg = "✅ 本群已绑定为 <b>" + E(u.Name) + "</b> 的积分评议群：积分申报卡片和村民异议发到本群审核。"
	}
	if replaced != nil {
		msg += "原绑定的 " + E(replaced.Name) + " 已解除。"
	}
	return c.Reply(msg, nil)
}
