package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/domain/command"
	"github.com/zhibu/zhibu/domain/points"
	"github.com/zhibu/zhibu/storage"
)

// Village points commands (SPEC §4): /claim (text or photo caption), the
// one-tap review buttons ("cl:<id>:ok" / "cl:<id>:no"), the item choice of an
// ambiguous claim ("clp:<draft>:<index>" / "clp:<draft>:x"), /pending,
// /deduct, /object, /points, /rank, /items, /goods and /redeem. The use cases in app
// authorise, apply the rules and enqueue the cards and notices; these
// handlers only parse and reply.

// claimPhoto is the file id of the biggest size of a message's photo.
func claimPhoto(m *models.Message) string {
	if m == nil || len(m.Photo) == 0 {
		return ""
	}
	best := m.Photo[len(m.Photo)-1] // Telegram lists sizes ascending
	for _, p := range m.Photo {
		if p.FileSize > best.FileSize || p.FileSize == best.FileSize && p.Width*p.Height > best.Width*best.Height {
			best = p
		}
	}
	return best.FileID
}

// parseClaimID reads "12" or "#12".
func parseClaimID(s string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimPrefix(s, "#"), "＃"), 10, 64)
	return id, err == nil && id > 0
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func signed(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func claimHandler(c *Ctx) error {
	res, err := c.App.SubmitClaim(c, c.Actor, app.ClaimRequest{Words: c.Cmd.Args, Photo: claimPhoto(c.Msg), ChatID: c.ChatID()})
	if err != nil {
		return err
	}
	switch {
	case res.Claim != nil:
		return c.Reply(submittedText(*res.Claim), nil)
	case res.Choice != nil:
		var rows [][]map[string]string
		for i, it := range res.Choice.Items {
			label := cutRunes(it.Code+" "+it.Name, 28) + " " + signed(it.Points)
			rows = append(rows, []map[string]string{{"text": label, "callback_data": callback.Pick(res.Choice.DraftID, i)}})
		}
		rows = append(rows, []map[string]string{{"text": "取消", "callback_data": callback.Pick(res.Choice.DraftID, -1)}})
		payload := map[string]any{"text": "“" + E(strings.Join(c.Cmd.Args, " ")) + "”可能是以下项目，请选择：", "parse_mode": "HTML",
			"reply_markup": map[string]any{"inline_keyboard": rows}}
		if c.Msg != nil {
			payload["reply_parameters"] = map[string]any{"message_id": c.Msg.ID, "allow_sending_without_reply": true}
		}
		err := c.App.Store.Enqueue(c, storage.OutMessage{DedupeKey: draftKey(res.Choice.DraftID), ChatID: c.ChatID(),
			Priority: storage.PriorityReply, Kind: "reply", Payload: payload})
		return err
	}
	return c.Reply(noMatchText(c, strings.Join(c.Cmd.Args, " ")), nil)
}

func draftKey(id int64) string { return "claimdraft:" + strconv.FormatInt(id, 10) }

func submittedText(cl storage.Claim) string {
	s := fmt.Sprintf("✅ 已提交积分申报 #%d：%s", cl.ID, E(app.PointsText(cl)))
	if cl.HasPhoto() {
		s += "（附照片）"
	}
	return s + "\n等待村积分评议员审核，结果会通知您。"
}

// noMatchText lists the categories with a few claimable items each.
func noMatchText(c *Ctx, query string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "没有找到与“%s”对应的可申报项目。积分项目分为：\n", E(cutRunes(query, 20)))
	items, err := c.App.CatalogForActor(c, c.Actor)
	if err == nil {
		for _, cat := range points.Categories() {
			var names []string
			for _, it := range items {
				if it.Category == cat && it.Claimable && len(names) < 3 {
					names = append(names, E(it.Code+" "+it.Name))
				}
			}
			if len(names) == 0 {
				fmt.Fprintf(&b, "• <b>%s</b>（由评议员登记）\n", E(cat))
				continue
			}
			fmt.Fprintf(&b, "• <b>%s</b>：%s 等\n", E(cat), strings.Join(names, "；"))
		}
	}
	b.WriteString("发送 /items 查看完整清单，用项目编号申报更准确，例如 <code>/claim A01 今晚参加巡逻</code>。")
	return b.String()
}

func pickCallback(c *Ctx) error {
	id, index, ok := callback.ParsePick(c.Data)
	if !ok {
		return c.Answer("该按钮已失效。", false)
	}
	// A refusal undoes the pick (the draft stays, its keyboard too) and
	// answers with the reason.
	cl, _, err := c.App.PickClaimItem(c, c.Actor, id, index)
	switch {
	case err != nil:
		return err
	case cl.ID == 0:
		if err := editDraft(c, id, "已取消申报。"); err != nil {
			return err
		}
		return c.Answer("已取消", false)
	}
	if err := editDraft(c, id, submittedText(cl)); err != nil {
		return err
	}
	return c.Answer(fmt.Sprintf("已提交申报 #%d", cl.ID), false)
}

// editDraft replaces the choice message of a draft (and its buttons).
func editDraft(c *Ctx, draftID int64, text string) error {
	err := c.App.Store.Enqueue(c, storage.OutMessage{DedupeKey: draftKey(draftID) + ":done", ChatID: c.ChatID(),
		Priority: storage.PriorityReply, Kind: "reply", Method: "editMessageText",
		Payload: map[string]any{"edit_of": draftKey(draftID), "text": text, "parse_mode": "HTML"}})
	return err
}

func decideCallback(c *Ctx) error {
	id, approve, ok := callback.ParseDecision(c.Data)
	if !ok {
		return c.Answer("该按钮已失效。", false)
	}
	res, err := c.App.DecideClaim(c, c.Actor, id, approve, "")
	if err != nil {
		return err
	}
	if res.Awaiting > 0 {
		return c.Answer(fmt.Sprintf("已记录您的同意（%d/%d），还需 %d 位评议员同意", len(res.Approvals), len(res.Approvals)+res.Awaiting, res.Awaiting), false)
	}
	if approve {
		return c.Answer(fmt.Sprintf("已通过申报 #%d", id), false)
	}
	return c.Answer(fmt.Sprintf("已驳回申报 #%d", id), false)
}

// objectionCallback is 维持异议 / 驳回异议 on a villager's objection card.
func objectionCallback(c *Ctx) error {
	id, uphold, ok := callback.ParseObjection(c.Data)
	if !ok {
		return c.Answer("该按钮已失效。", false)
	}
	res, err := c.App.DecideObjection(c, c.Actor, id, uphold)
	if err != nil {
		return err
	}
	if uphold {
		return c.Answer(fmt.Sprintf("异议成立，申报 #%d 不计积分", res.Claim.ID), false)
	}
	return c.Answer(fmt.Sprintf("异议不成立，申报 #%d 照常计入", res.Claim.ID), false)
}

func pendingHandler(c *Ctx) error {
	pr, err := c.App.PendingClaims(c, c.Actor)
	if err != nil {
		return err
	}
	cs, os := pr.Claims, pr.Objections
	if len(cs) == 0 && len(os) == 0 {
		return c.Reply("目前没有待审核的积分申报，也没有待评议的公示异议。", nil)
	}
	var b strings.Builder
	var rows [][]map[string]string
	if len(cs) > 0 {
		fmt.Fprintf(&b, "<b>待审核的积分申报（%d 条）</b>\n", len(cs))
	}
	for i, cl := range cs {
		if i == 30 {
			fmt.Fprintf(&b, "……另有 %d 条\n", len(cs)-i)
			break
		}
		photo := ""
		if cl.HasPhoto() {
			photo = " 📷"
		}
		fmt.Fprintf(&b, "#%d %s（%s）· %s%s · %s\n", cl.ID, E(cl.PersonName), E(cl.HouseholdName), E(app.PointsText(cl)), photo,
			cl.ClaimedAt.In(c.App.Loc).Format("01-02 15:04"))
		if i < 10 {
			id := strconv.FormatInt(cl.ID, 10)
			rows = append(rows, []map[string]string{
				{"text": "通过 #" + id, "callback_data": callback.Decision(cl.ID, true)},
				{"text": "驳回 #" + id, "callback_data": callback.Decision(cl.ID, false)},
			})
		}
	}
	if len(os) > 0 {
		if len(cs) > 0 {
			b.WriteString("\n")
		}
		// Claims in 公示 held by a villager's objection wait for the
		// reviewers too: 维持 rejects the claim, 驳回 books it again.
		fmt.Fprintf(&b, "<b>公示异议待评议（%d 条）</b>\n", len(os))
	}
	for i, oc := range os {
		if i == 30 {
			fmt.Fprintf(&b, "……另有 %d 条\n", len(os)-i)
			break
		}
		cl, o := oc.Claim, oc.Objection
		fmt.Fprintf(&b, "#%d %s（%s）· %s · 异议人 %s：%s\n", cl.ID, E(cl.PersonName), E(cl.HouseholdName), E(app.PointsText(cl)),
			E(o.PersonName), E(cutRunes(o.Reason, 60)))
		if i < 10 {
			id := strconv.FormatInt(cl.ID, 10)
			rows = append(rows, []map[string]string{
				{"text": "维持异议 #" + id, "callback_data": callback.Objection(o.ID, true)},
				{"text": "驳回异议 #" + id, "callback_data": callback.Objection(o.ID, false)},
			})
		}
	}
	return c.Reply(strings.TrimRight(b.String(), "\n"), map[string]any{"inline_keyboard": rows})
}

func deductHandler(c *Ctx) error {
	if !c.Private() {
		// A deduction or veto is a household's matter: never recorded (and
		// answered) in the villagers' 公示 group.
		if _, err := c.App.Store.PublicGroupByChat(c, c.ChatID()); err == nil {
			return domain.Refuse(domain.ErrForbidden, "扣分请在积分评议群或私聊中登记，不在公示群里登记。")
		} else if !errors.Is(err, domain.ErrNotFound) {
			return err
		}
	}
	args := c.Cmd.Args
	req := app.DeductRequest{}
	// The act's date may close the command: /deduct H001 E01 2026-11-20.
	if n := len(args); n > 2 {
		if d, ok := command.ParseDate(args[n-1], c.App.Now(), c.App.Loc); ok {
			req.ActDate, args = d, args[:n-1]
		}
	}
	if len(args) > 0 {
		req.Target = args[0]
	}
	if len(args) > 1 {
		req.Item = args[1]
		req.Note = strings.Join(args[2:], " ")
	}
	res, err := c.App.RecordDeduction(c, c.Actor, req)
	if err != nil {
		return err
	}
	cl := res.Claim
	if cl.Veto {
		when := "本期"
		if l := c.App.VetoLabel(cl); l != "" {
			when = l
		}
		return c.Reply(fmt.Sprintf("⛔ 已登记一票否决 #%d：%s，%s。\n该户%s不参加积分排名和奖励，待审核的申报已冻结；已私下告知该户，公开排名中不显示原因。",
			cl.ID, E(res.Household.Label()), E(cl.ItemCode+" "+cl.ItemName), when), nil)
	}
	s := fmt.Sprintf("⚠️ 已登记扣分 #%d：%s，%s。", cl.ID, E(res.Household.Label()), E(app.PointsText(cl)))
	if res.Entry != nil && cl.DecidedAt != nil && res.Entry.EffectiveAt.After(*cl.DecidedAt) {
		s += "\n公示至" + res.Entry.EffectiveAt.In(c.App.Loc).Format("1月2日") + "，期满生效。"
	}
	return c.Reply(s, nil)
}

func objectHandler(c *Ctx) error {
	if len(c.Cmd.Args) == 0 {
		return domain.Refuse(domain.ErrInvalid, "用法：异议 申报号 理由（或 /object 申报号 理由），例如 异议 12 照片与实际不符。")
	}
	id, ok := parseClaimID(c.Cmd.Args[0])
	if !ok {
		return domain.Refuse(domain.ErrInvalid, "申报号应为数字，例如 /object 12 照片与实际不符。")
	}
	cl, err := c.App.ObjectClaim(c, c.Actor, id, strings.Join(c.Cmd.Args[1:], " "))
	if err != nil {
		return err
	}
	if cl.Status == storage.ClaimApproved {
		// A villager's objection: the reviewers decide on it.
		return c.Reply(fmt.Sprintf("已收到您对申报 #%d %s 的异议，积分暂缓计入，村积分评议员评议后会通知您。", cl.ID, E(app.PointsText(cl))), nil)
	}
	return c.Reply(fmt.Sprintf("已对 #%d %s 提出异议：公示中的积分已冲正，该申报重新进入评议。", cl.ID, E(app.PointsText(cl))), nil)
}

func redeemHandler(c *Ctx) error {
	args := c.Cmd.Args
	if len(args) < 2 {
		return domain.Refuse(domain.ErrInvalid, "用法：/redeem 户号或手机号 商品编号 [数量]，例如 /redeem H001 G01 2；"+
			"不在清单上的物品按积分登记：/redeem H001 5 酱油一瓶。发送 /goods 查看商品。")
	}
	n, err := strconv.Atoi(foldDigits(strings.TrimSuffix(args[1], "分")))
	if err != nil {
		return redeemGoods(c, args)
	}
	r, err := c.App.Redeem(c, c.Actor, app.RedeemRequest{Target: args[0], Points: n, Goods: strings.Join(args[2:], " ")})
	if err != nil {
		return err
	}
	s := fmt.Sprintf("✅ 兑换成功 #%d：%s 兑换 %d 分", r.Entry.ID, E(r.Household.Label()), n)
	if r.Entry.Goods != "" {
		s += "（" + E(r.Entry.Goods) + "）"
	}
	return c.Reply(s+fmt.Sprintf("。\n余额 %d → <b>%d</b> 分，回执已发给该户。", r.Before, r.After), nil)
}

// redeemGoods is "/redeem <household> <goods code> [qty]": listed goods,
// price × qty, taken from stock. "G01×2" and "G01 ×2" read as 2 pieces.
func redeemGoods(c *Ctx, args []string) error {
	code, rest := args[1], args[2:]
	if i := strings.IndexAny(code, "×*"); i > 0 {
		code, rest = code[:i], append([]string{code[i:]}, rest...)
	}
	qty := 1
	if len(rest) > 0 {
		q, ok := parseQty(rest[0])
		if !ok || len(rest) > 1 {
			return domain.Refuse(domain.ErrInvalid, "兑换数量应为正整数，例如 /redeem %s %s 2。", args[0], code)
		}
		qty = q
	}
	r, err := c.App.Redeem(c, c.Actor, app.RedeemRequest{Target: args[0], GoodsCode: code, Qty: qty})
	if err != nil {
		return err
	}
	s := fmt.Sprintf("✅ 兑换成功 #%d：%s 兑换 %s ×%d，共 %d 分。\n余额 %d → <b>%d</b> 分",
		r.Entry.ID, E(r.Household.Label()), E(r.Goods.Name), r.Qty, -r.Entry.Points, r.Before, r.After)
	if r.StockLeft != nil {
		s += fmt.Sprintf("；%s 库存剩 %d 件", E(r.Goods.Name), *r.StockLeft)
	}
	return c.Reply(s+"。回执已发给该户。", nil)
}

// parseQty reads a quantity: 2, ２, ×2, x2, *2, 2件, 2个.
func parseQty(s string) (int, bool) {
	s = foldDigits(s)
	s = strings.TrimLeft(s, "×xX*")
	s = strings.TrimRight(s, "件个份袋瓶包")
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func goodsHandler(c *Ctx) error {
	shops, err := c.App.ShopGoods(c, c.Actor)
	if err != nil {
		return err
	}
	var b strings.Builder
	shopkeeper := false
	for i, v := range shops {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "🛒 <b>%s积分超市</b>\n", E(v.Village.Name))
		shopkeeper = shopkeeper || v.Shopkeeper
		if len(v.Goods) == 0 {
			b.WriteString("还没有上架商品。\n")
			continue
		}
		for _, g := range v.Goods {
			stock := "不限量"
			switch {
			case g.Stock == nil:
			case *g.Stock == 0:
				stock = "已兑完"
			default:
				stock = fmt.Sprintf("库存 %d 件", *g.Stock)
			}
			fmt.Fprintf(&b, "<code>%s</code> %s · %d 积分 · %s\n", E(g.Code), E(g.Name), g.Points, stock)
		}
	}
	if shopkeeper {
		b.WriteString("\n登记兑换：<code>/redeem 户号或手机号 商品编号 [数量]</code>，例如 <code>/redeem H001 G01 2</code>。")
	} else {
		b.WriteString("\n兑换请到村积分超市，由积分超市管理员登记；发送 /points 查看本户积分。")
	}
	return c.Reply(b.String(), nil)
}

// foldDigits maps full-width digits to ASCII.
func foldDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
}

var entryWords = map[string]string{
	storage.EntryAward: "加分", storage.EntryDeduction: "扣分", storage.EntryVeto: "一票否决",
	storage.EntryRedemption: "兑换", storage.EntryReversal: "冲正",
}

func pointsHandler(c *Ctx) error {
	v, err := c.App.HouseholdPoints(c, c.Actor, c.Cmd.Rest)
	if err != nil {
		return err
	}
	now := c.App.Now()
	loc := c.App.Loc
	var b strings.Builder
	fmt.Fprintf(&b, "<b>%s 积分</b>（%s）\n", E(v.Household.Label()), E(v.Household.VillageName))
	fmt.Fprintf(&b, "当前余额：<b>%d</b> 分\n", v.Balance)
	if v.Publicity != 0 {
		fmt.Fprintf(&b, "公示中：%s 分（期满生效）\n", signed(v.Publicity))
	}
	if v.PendingCount > 0 {
		fmt.Fprintf(&b, "待审核：%s 分（%d 条申报）\n", signed(v.PendingClaims), v.PendingCount)
	}
	if len(v.Entries) == 0 {
		b.WriteString("暂无积分记录。")
		return c.Reply(b.String(), nil)
	}
	b.WriteString("<b>最近记录</b>\n")
	for _, e := range v.Entries {
		what := e.ItemCode + " " + e.ItemName
		if e.Kind == storage.EntryRedemption {
			what = e.Goods // "洗衣粉 ×2": the line reads "-40 兑换 洗衣粉 ×2"
		}
		line := fmt.Sprintf("%s %s %s %s", e.RecordedAt.In(loc).Format("01-02"), signed(e.Points), entryWords[e.Kind], E(strings.TrimSpace(what)))
		if e.EffectiveAt.After(now) {
			line += "（公示至" + e.EffectiveAt.In(loc).Format("1月2日") + "）"
		}
		b.WriteString(line + "\n")
	}
	return c.Reply(strings.TrimRight(b.String(), "\n"), nil)
}

func rankHandler(c *Ctx) error {
	code := ""
	if len(c.Cmd.Args) > 0 {
		code = c.Cmd.Args[0]
	}
	rk, err := c.App.VillageRanking(c, c.Actor, code)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("🏆 %s %s 积分排名（截至 %s）", rk.Village.Name, rk.Period.Label(), c.App.Now().In(c.App.Loc).Format("01-02 15:04"))
	text := app.RankingText(title, rk.Rows, 30)
	if hh, err := c.App.OwnHousehold(c, c.Actor); err == nil {
		for _, r := range rk.Rows {
			if r.Household == hh.ID {
				if r.Vetoed && !c.Private() {
					// A veto is the household's matter: not said in a group.
					continue
				}
				if r.Vetoed {
					text += "\n本户本期因一票否决不参与排名。"
				} else {
					text += fmt.Sprintf("\n本户：第 %d 名，%d 分。", r.Rank, r.Points)
				}
			}
		}
	}
	return c.Reply(text, nil)
}

var evidenceMarks = map[points.Evidence]string{
	points.EvidencePhoto: " 📷", points.EvidenceCertificate: " 📄", points.EvidenceWitness: " 👁",
}

func itemsHandler(c *Ctx) error {
	items, err := c.App.CatalogForActor(c, c.Actor)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("<b>积分项目清单</b>\n📷 需附现场照片　📄 需附证明照片　👁 评议员见证\n")
	for _, cat := range points.Categories() {
		first := true
		for _, it := range items {
			if it.Category != cat {
				continue
			}
			if first {
				b.WriteString("\n<b>" + E(cat) + "</b>\n")
				first = false
			}
			pts := signed(it.Points) + " 分"
			if it.Veto {
				pts = "一票否决"
			}
			line := fmt.Sprintf("<code>%s</code> %s %s%s", E(it.Code), E(it.Name), pts, evidenceMarks[it.Evidence])
			if len(it.Caps) > 0 {
				var caps []string
				for _, cp := range it.Caps {
					caps = append(caps, capWords(cp))
				}
				line += "（" + strings.Join(caps, "，") + "）"
			}
			if !it.Claimable {
				line += " · 评议员登记"
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\n申报：<code>/claim 项目编号或关键词 [说明]</code>，需照片的项目请发照片并把命令写在照片说明里。")
	return c.Reply(b.String(), nil)
}

func capWords(cp points.Cap) string {
	switch cp.Per {
	case points.Day:
		return fmt.Sprintf("每天%d次", cp.N)
	case points.Month:
		return fmt.Sprintf("每月%d次", cp.N)
	case points.Quarter:
		return fmt.Sprintf("每季度%d次", cp.N)
	case points.Year:
		return fmt.Sprintf("每年%d次", cp.N)
	}
	return fmt.Sprintf("限%d次", cp.N)
}
