package bot

import (
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
	"github.com/zhibu/zhibu/internal/texts"
	"github.com/zhibu/zhibu/villagepoints"
)

// Village points commands (SPEC §4): /claim (text or photo caption), the
// one-tap review buttons ("cl:<id>:ok" / "cl:<id>:no"), the item choice of an
// ambiguous claim ("clp:<draft>:<index>" / "clp:<draft>:x"), /pending,
// /deduct, /object, /points, /rank, /items, /goods and /redeem. The use cases in app
// authorise, apply the rules and enqueue the cards and notices; these
// handlers only parse and reply, in the words of internal/texts/points.yaml.

var pt = texts.Points

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

func claimHandler(c *Ctx) error {
	res, err := villagepoints.Of(c.App).SubmitClaim(c, c.Actor, villagepoints.ClaimRequest{Words: c.Cmd.Args, Photo: claimPhoto(c.Msg), ChatID: c.ChatID()})
	if err != nil {
		return err
	}
	switch {
	case res.Claim != nil:
		return c.Reply(submittedText(*res.Claim), nil)
	case res.Choice != nil:
		var rows [][]map[string]string
		for i, it := range res.Choice.Items {
			label := cutRunes(it.Code+" "+it.Name, 28) + " " + points.Signed(it.Points)
			rows = append(rows, []map[string]string{{"text": label, "callback_data": callback.Pick(res.Choice.DraftID, i)}})
		}
		rows = append(rows, []map[string]string{{"text": pt.T("claim.cancel"), "callback_data": callback.Pick(res.Choice.DraftID, -1)}})
		payload := map[string]any{"text": pt.T("claim.choose", "words", E(strings.Join(c.Cmd.Args, " "))), "parse_mode": "HTML",
			"reply_markup": map[string]any{"inline_keyboard": rows}}
		if c.Msg != nil {
			payload["reply_parameters"] = map[string]any{"message_id": c.Msg.ID, "allow_sending_without_reply": true}
		}
		return c.App.SendReply(c, app.Reply{Key: draftKey(res.Choice.DraftID), ChatID: c.ChatID(), Kind: "reply", Payload: payload})
	}
	return c.Reply(noMatchText(c, strings.Join(c.Cmd.Args, " ")), nil)
}

func draftKey(id int64) string { return "claimdraft:" + strconv.FormatInt(id, 10) }

func submittedText(cl app.Claim) string {
	s := pt.T("claim.submitted", "id", strconv.FormatInt(cl.ID, 10), "item", E(villagepoints.PointsText(cl)))
	if cl.HasPhoto() {
		s += pt.T("claim.submitted_photo")
	}
	return s + pt.T("claim.submitted_wait")
}

// noMatchText lists the categories with a few claimable items each.
func noMatchText(c *Ctx, query string) string {
	var b strings.Builder
	b.WriteString(pt.T("claim.no_match", "query", E(cutRunes(query, 20))))
	items, err := villagepoints.Of(c.App).CatalogForActor(c, c.Actor)
	if err == nil {
		for _, cat := range points.Categories() {
			var names []string
			for _, it := range items {
				if it.Category == cat && it.Claimable && len(names) < 3 {
					names = append(names, E(it.Code+" "+it.Name))
				}
			}
			if len(names) == 0 {
				b.WriteString(pt.T("claim.no_match_recorded", "category", E(cat)))
				continue
			}
			b.WriteString(pt.T("claim.no_match_category", "category", E(cat), "items", strings.Join(names, "；")))
		}
	}
	b.WriteString(pt.T("claim.no_match_how"))
	return b.String()
}

func pickCallback(c *Ctx) error {
	id, index, ok := callback.ParsePick(c.Data)
	if !ok {
		return c.Answer(pt.T("tap.stale"), false)
	}
	// A refusal undoes the pick (the draft stays, its keyboard too) and
	// answers with the reason.
	cl, _, err := villagepoints.Of(c.App).PickClaimItem(c, c.Actor, id, index)
	switch {
	case err != nil:
		return err
	case cl.ID == 0:
		if err := editDraft(c, id, pt.T("claim.cancelled")); err != nil {
			return err
		}
		return c.Answer(pt.T("claim.tap_cancelled"), false)
	}
	if err := editDraft(c, id, submittedText(cl)); err != nil {
		return err
	}
	return c.Answer(pt.T("claim.tap_submitted", "id", strconv.FormatInt(cl.ID, 10)), false)
}

// editDraft replaces the choice message of a draft (and its buttons).
func editDraft(c *Ctx, draftID int64, text string) error {
	return c.App.SendReply(c, app.Reply{Key: draftKey(draftID) + ":done", ChatID: c.ChatID(), Kind: "reply", Method: "editMessageText",
		Payload: map[string]any{"edit_of": draftKey(draftID), "text": text, "parse_mode": "HTML"}})
}

func decideCallback(c *Ctx) error {
	id, approve, ok := callback.ParseDecision(c.Data)
	if !ok {
		return c.Answer(pt.T("tap.stale"), false)
	}
	res, err := villagepoints.Of(c.App).DecideClaim(c, c.Actor, id, approve, "")
	if err != nil {
		return err
	}
	if res.Awaiting > 0 {
		return c.Answer(pt.T("decide.tap_approval", "count", strconv.Itoa(len(res.Approvals)),
			"quorum", strconv.Itoa(len(res.Approvals)+res.Awaiting), "missing", strconv.Itoa(res.Awaiting)), false)
	}
	if approve {
		return c.Answer(pt.T("decide.tap_approved", "id", strconv.FormatInt(id, 10)), false)
	}
	return c.Answer(pt.T("decide.tap_rejected", "id", strconv.FormatInt(id, 10)), false)
}

// objectionCallback is 维持异议 / 驳回异议 on a villager's objection card.
func objectionCallback(c *Ctx) error {
	id, uphold, ok := callback.ParseObjection(c.Data)
	if !ok {
		return c.Answer(pt.T("tap.stale"), false)
	}
	res, err := villagepoints.Of(c.App).DecideObjection(c, c.Actor, id, uphold)
	if err != nil {
		return err
	}
	if uphold {
		return c.Answer(pt.T("objection.tap_upheld", "id", strconv.FormatInt(res.Claim.ID, 10)), false)
	}
	return c.Answer(pt.T("objection.tap_dismissed", "id", strconv.FormatInt(res.Claim.ID, 10)), false)
}

func pendingHandler(c *Ctx) error {
	pr, err := villagepoints.Of(c.App).PendingClaims(c, c.Actor)
	if err != nil {
		return err
	}
	cs, os := pr.Claims, pr.Objections
	if len(cs) == 0 && len(os) == 0 {
		return c.Reply(pt.T("pending.none"), nil)
	}
	var b strings.Builder
	var rows [][]map[string]string
	if len(cs) > 0 {
		b.WriteString(pt.T("pending.claims", "count", strconv.Itoa(len(cs))))
	}
	for i, cl := range cs {
		if i == 30 {
			b.WriteString(pt.T("pending.more", "count", strconv.Itoa(len(cs)-i)))
			break
		}
		photo := ""
		if cl.HasPhoto() {
			photo = " 📷"
		}
		b.WriteString(pt.T("pending.claim", "id", strconv.FormatInt(cl.ID, 10), "person", E(cl.PersonName), "household", E(cl.HouseholdName),
			"item", E(villagepoints.PointsText(cl)), "photo", photo, "time", cl.ClaimedAt.In(c.App.Loc).Format("01-02 15:04")))
		if i < 10 {
			id := strconv.FormatInt(cl.ID, 10)
			rows = append(rows, []map[string]string{
				{"text": pt.T("pending.approve", "id", id), "callback_data": callback.Decision(cl.ID, true)},
				{"text": pt.T("pending.reject", "id", id), "callback_data": callback.Decision(cl.ID, false)},
			})
		}
	}
	if len(os) > 0 {
		if len(cs) > 0 {
			b.WriteString("\n")
		}
		// Claims in 公示 held by a villager's objection wait for the
		// reviewers too: 维持 rejects the claim, 驳回 books it again.
		b.WriteString(pt.T("pending.objections", "count", strconv.Itoa(len(os))))
	}
	for i, oc := range os {
		if i == 30 {
			b.WriteString(pt.T("pending.more", "count", strconv.Itoa(len(os)-i)))
			break
		}
		cl, o := oc.Claim, oc.Objection
		b.WriteString(pt.T("pending.objection", "id", strconv.FormatInt(cl.ID, 10), "person", E(cl.PersonName), "household", E(cl.HouseholdName),
			"item", E(villagepoints.PointsText(cl)), "objector", E(o.PersonName), "reason", E(cutRunes(o.Reason, 60))))
		if i < 10 {
			id := strconv.FormatInt(cl.ID, 10)
			rows = append(rows, []map[string]string{
				{"text": pt.T("pending.uphold", "id", id), "callback_data": callback.Objection(o.ID, true)},
				{"text": pt.T("pending.dismiss", "id", id), "callback_data": callback.Objection(o.ID, false)},
			})
		}
	}
	return c.Reply(strings.TrimRight(b.String(), "\n"), map[string]any{"inline_keyboard": rows})
}

func deductHandler(c *Ctx) error {
	args := c.Cmd.Args
	req := villagepoints.DeductRequest{}
	if !c.Private() {
		req.ChatID = c.ChatID()
	}
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
	res, err := villagepoints.Of(c.App).RecordDeduction(c, c.Actor, req)
	if err != nil {
		return err
	}
	cl := res.Claim
	if cl.Veto {
		when := pt.T("veto.this_period")
		if l := villagepoints.Of(c.App).VetoLabel(cl); l != "" {
			when = l
		}
		return c.Reply(pt.T("deduct.done_veto", "id", strconv.FormatInt(cl.ID, 10), "household", E(res.Household.Label()),
			"item", E(cl.ItemCode+" "+cl.ItemName), "when", when), nil)
	}
	s := pt.T("deduct.done", "id", strconv.FormatInt(cl.ID, 10), "household", E(res.Household.Label()), "item", E(villagepoints.PointsText(cl)))
	if res.Entry != nil && cl.DecidedAt != nil && res.Entry.EffectiveAt.After(*cl.DecidedAt) {
		s += pt.T("deduct.done_publicity", "day", res.Entry.EffectiveAt.In(c.App.Loc).Format("1月2日"))
	}
	return c.Reply(s, nil)
}

func objectHandler(c *Ctx) error {
	if len(c.Cmd.Args) == 0 {
		return domain.Refuse(domain.ErrInvalid, "%s", pt.T("object.usage"))
	}
	id, ok := parseClaimID(c.Cmd.Args[0])
	if !ok {
		return domain.Refuse(domain.ErrInvalid, "%s", pt.T("object.refuse.bad_id"))
	}
	cl, err := villagepoints.Of(c.App).ObjectClaim(c, c.Actor, id, strings.Join(c.Cmd.Args[1:], " "))
	if err != nil {
		return err
	}
	if cl.Status == app.ClaimApproved {
		// A villager's objection: the reviewers decide on it.
		return c.Reply(pt.T("object.done_villager", "id", strconv.FormatInt(cl.ID, 10), "item", E(villagepoints.PointsText(cl))), nil)
	}
	return c.Reply(pt.T("object.done_reviewer", "id", strconv.FormatInt(cl.ID, 10), "item", E(villagepoints.PointsText(cl))), nil)
}

func redeemHandler(c *Ctx) error {
	args := c.Cmd.Args
	if len(args) < 2 {
		return domain.Refuse(domain.ErrInvalid, "%s", pt.T("redeem.usage"))
	}
	n, err := strconv.Atoi(foldDigits(strings.TrimSuffix(args[1], "分")))
	if err != nil {
		return redeemGoods(c, args)
	}
	r, err := villagepoints.Of(c.App).Redeem(c, c.Actor, villagepoints.RedeemRequest{Target: args[0], Points: n, Goods: strings.Join(args[2:], " ")})
	if err != nil {
		return err
	}
	s := pt.T("redeem.done", "id", strconv.FormatInt(r.Entry.ID, 10), "household", E(r.Household.Label()), "points", strconv.Itoa(n))
	if r.Entry.Goods != "" {
		s += pt.T("redeem.done_what", "goods", E(r.Entry.Goods))
	}
	return c.Reply(s+pt.T("redeem.done_balance", "before", strconv.Itoa(r.Before), "after", strconv.Itoa(r.After)), nil)
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
			return domain.Refuse(domain.ErrInvalid, "%s", pt.T("redeem.refuse.qty_form", "target", args[0], "code", code))
		}
		qty = q
	}
	r, err := villagepoints.Of(c.App).Redeem(c, c.Actor, villagepoints.RedeemRequest{Target: args[0], GoodsCode: code, Qty: qty})
	if err != nil {
		return err
	}
	s := pt.T("redeem.done_goods", "id", strconv.FormatInt(r.Entry.ID, 10), "household", E(r.Household.Label()), "goods", E(r.Goods.Name),
		"qty", strconv.Itoa(r.Qty), "points", strconv.Itoa(-r.Entry.Points), "before", strconv.Itoa(r.Before), "after", strconv.Itoa(r.After))
	if r.StockLeft != nil {
		s += pt.T("redeem.done_stock", "goods", E(r.Goods.Name), "left", strconv.Itoa(*r.StockLeft))
	}
	return c.Reply(s+pt.T("redeem.done_receipt"), nil)
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
	shops, err := villagepoints.Of(c.App).ShopGoods(c, c.Actor)
	if err != nil {
		return err
	}
	var b strings.Builder
	shopkeeper := false
	for i, v := range shops {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(pt.T("goods.shop", "village", E(v.Village.Name)))
		shopkeeper = shopkeeper || v.Shopkeeper
		if len(v.Goods) == 0 {
			b.WriteString(pt.T("goods.empty"))
			continue
		}
		for _, g := range v.Goods {
			stock := pt.T("goods.unlimited")
			switch {
			case g.Stock == nil:
			case *g.Stock == 0:
				stock = pt.T("goods.sold_out")
			default:
				stock = pt.T("goods.stock", "count", strconv.Itoa(*g.Stock))
			}
			b.WriteString(pt.T("goods.line", "code", E(g.Code), "name", E(g.Name), "points", strconv.Itoa(g.Points), "stock", stock))
		}
	}
	if shopkeeper {
		b.WriteString(pt.T("goods.how_shopkeeper"))
	} else {
		b.WriteString(pt.T("goods.how_villager"))
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
	app.EntryAward: pt.T("entry.award"), app.EntryDeduction: pt.T("entry.deduction"), app.EntryVeto: pt.T("entry.veto"),
	app.EntryRedemption: pt.T("entry.redemption"), app.EntryReversal: pt.T("entry.reversal"),
}

func pointsHandler(c *Ctx) error {
	v, err := villagepoints.Of(c.App).HouseholdPoints(c, c.Actor, c.Cmd.Rest)
	if err != nil {
		return err
	}
	now := c.App.Now()
	loc := c.App.Loc
	var b strings.Builder
	b.WriteString(pt.T("points.head", "household", E(v.Household.Label()), "village", E(v.Household.VillageName)))
	b.WriteString(pt.T("points.balance", "balance", strconv.Itoa(v.Balance)))
	if v.Publicity != 0 {
		b.WriteString(pt.T("points.publicity", "points", points.Signed(v.Publicity)))
	}
	if v.PendingCount > 0 {
		b.WriteString(pt.T("points.pending", "points", points.Signed(v.PendingClaims), "count", strconv.Itoa(v.PendingCount)))
	}
	if len(v.Entries) == 0 {
		b.WriteString(pt.T("points.none"))
		return c.Reply(b.String(), nil)
	}
	b.WriteString(pt.T("points.recent"))
	for _, e := range v.Entries {
		what := e.ItemCode + " " + e.ItemName
		if e.Kind == app.EntryRedemption {
			what = e.Goods // "洗衣粉 ×2": the line reads "-40 兑换 洗衣粉 ×2"
		}
		line := fmt.Sprintf("%s %s %s %s", e.RecordedAt.In(loc).Format("01-02"), points.Signed(e.Points), entryWords[e.Kind], E(strings.TrimSpace(what)))
		if e.EffectiveAt.After(now) {
			line += pt.T("points.until", "day", e.EffectiveAt.In(loc).Format("1月2日"))
		}
		b.WriteString(line + "\n")
	}
	return c.Reply(strings.TrimRight(b.String(), "\n"), nil)
}

func rankHandler(c *Ctx) error {
	req := villagepoints.RankingRequest{}
	if len(c.Cmd.Args) > 0 {
		req.Unit = c.Cmd.Args[0]
	}
	if !c.Private() {
		req.ChatID = c.ChatID()
	}
	rk, err := villagepoints.Of(c.App).VillageRanking(c, c.Actor, req)
	if err != nil {
		return err
	}
	title := pt.T("rank.title_now", "village", rk.Village.Name, "period", rk.Period.Label(), "time", c.App.Now().In(c.App.Loc).Format("01-02 15:04"))
	text := villagepoints.RankingText(title, rk.Rows, 30)
	switch {
	case rk.Own == nil:
	case rk.Own.Vetoed:
		text += pt.T("rank.own_vetoed")
	default:
		text += pt.T("rank.own", "rank", strconv.Itoa(rk.Own.Rank), "points", strconv.Itoa(rk.Own.Points))
	}
	return c.Reply(text, nil)
}

var evidenceMarks = map[points.Evidence]string{
	points.EvidencePhoto: " 📷", points.EvidenceCertificate: " 📄", points.EvidenceWitness: " 👁",
}

func itemsHandler(c *Ctx) error {
	items, err := villagepoints.Of(c.App).CatalogForActor(c, c.Actor)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(pt.T("items.head"))
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
			pts := pt.T("items.points", "points", points.Signed(it.Points))
			if it.Veto {
				pts = pt.T("items.veto")
			}
			line := fmt.Sprintf("<code>%s</code> %s %s%s", E(it.Code), E(it.Name), pts, evidenceMarks[it.Evidence])
			if len(it.Caps) > 0 {
				var caps []string
				for _, cp := range it.Caps {
					caps = append(caps, capWords(cp))
				}
				line += pt.T("items.caps", "caps", strings.Join(caps, "，"))
			}
			if !it.Claimable {
				line += pt.T("items.recorded")
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString(pt.T("items.how"))
	return c.Reply(b.String(), nil)
}

func capWords(cp points.Cap) string {
	n := strconv.Itoa(cp.N)
	switch cp.Per {
	case points.Day:
		return pt.T("cap.day", "count", n)
	case points.Month:
		return pt.T("cap.month", "count", n)
	case points.Quarter:
		return pt.T("cap.quarter", "count", n)
	case points.Year:
		return pt.T("cap.year", "count", n)
	}
	return pt.T("cap.other", "count", n)
}
