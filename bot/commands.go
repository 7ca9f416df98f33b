package bot

import (
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
)

// registerAll is the bot's whole command table: every command, callback
// prefix and message hook in one place, in the order /help and
// setMyCommands list them — what people use most first. Each command's
// Words are what people may write instead of the slash form.
func registerAll(r *Router) {
	secretaries := []string{domain.RoleSecretary}
	viewers := []string{domain.RoleSecretary, domain.RoleOrganiser, domain.RoleAdmin}
	managers := []string{domain.RoleOrganiser, domain.RoleAdmin}
	villagers := []string{domain.RoleVillager}
	reviewers := []string{domain.RoleReviewer}
	village := []string{domain.RoleVillager, domain.RoleReviewer, domain.RoleShopkeeper}

	// Accounts and groups.
	r.Handle(Command{Name: "start", Description: bt.T("command.start"), Handler: startHandler})
	r.Handle(Command{Name: "help", Description: bt.T("command.help"), Handler: helpHandler, Words: []string{"帮助"}})
	r.Handle(Command{Name: "bind", Description: bt.T("command.bind"), Handler: bindHandler,
		Roles: []string{domain.RoleSecretary, domain.RoleReviewer}, Words: []string{"绑定"}})
	r.HandleCallback(callback.Relink, relinkCallback)

	// Check-ins.
	r.Handle(Command{Name: "checkin", Description: bt.T("command.checkin"), Handler: checkinHandler, Roles: secretaries,
		Words: []string{"打卡", "签到", "纪实"}})
	r.Handle(Command{Name: "undo", Description: bt.T("command.undo"), Handler: undoHandler, Roles: secretaries, Words: []string{"撤回"}})
	r.Handle(Command{Name: "reject", Description: bt.T("command.reject"), Handler: rejectHandler, Roles: managers, Words: []string{"驳回"}})
	r.HandleCallback(callback.CheckinBranch, checkinBranchCallback)
	r.HandleCallback(callback.CheckinPeriod, checkinPeriodCallback)
	r.HandleCallback(callback.CheckinReject, rejectButtonCallback)
	r.HandleMessage(textReplyHook) // a reply to a reading's card: corrects it
	r.HandleMessage(albumPhotoHook)
	r.HandleMessage(checkinTextHook) // free text naming an activity: read, then 确认
	r.HandleCallback(callback.FreeText, textCallback)

	// Branch health check.
	r.Handle(Command{Name: "status", Description: bt.T("command.status"), Handler: statusHandler, Roles: viewers,
		Words: []string{"状态", "体检"}})
	r.Handle(Command{Name: "ack", Description: bt.T("command.ack"), Handler: ackHandler, Roles: secretaries, Words: []string{"收到"}})
	r.Handle(Command{Name: "exempt", Description: bt.T("command.exempt"), Handler: exemptHandler, Roles: managers, Words: []string{"豁免"}})
	r.Handle(Command{Name: "silence", Description: bt.T("command.silence"), Handler: silenceHandler, Roles: managers, Words: []string{"静默"}})
	r.HandleCallback(callback.Ack, ackCallback)

	// Village points.
	r.Handle(Command{Name: "claim", Description: bt.T("command.claim"), Handler: claimHandler, Roles: villagers, Words: []string{"申报"}})
	r.Handle(Command{Name: "points", Description: bt.T("command.points"), Handler: pointsHandler, Roles: village, Words: []string{"积分", "我的积分"}})
	r.Handle(Command{Name: "rank", Description: bt.T("command.rank"), Handler: rankHandler, Roles: village, Words: []string{"排名"}})
	r.Handle(Command{Name: "items", Description: bt.T("command.items"), Handler: itemsHandler, Roles: village, Words: []string{"积分项目"}})
	r.Handle(Command{Name: "goods", Description: bt.T("command.goods"), Handler: goodsHandler, Roles: village, Words: []string{"商品", "积分超市"}})
	r.Handle(Command{Name: "pending", Description: bt.T("command.pending"), Handler: pendingHandler, Roles: reviewers, Words: []string{"待审"}})
	r.Handle(Command{Name: "deduct", Description: bt.T("command.deduct"), Handler: deductHandler, Roles: reviewers, Words: []string{"扣分"}})
	r.Handle(Command{Name: "object", Description: bt.T("command.object"), Handler: objectHandler, Roles: village, Words: []string{"异议"}})
	r.Handle(Command{Name: "redeem", Description: bt.T("command.redeem"), Handler: redeemHandler, Roles: []string{domain.RoleShopkeeper}, Words: []string{"兑换"}})
	r.HandleCallback(callback.ClaimDecision, decideCallback)
	r.HandleCallback(callback.ClaimPick, pickCallback)
	r.HandleCallback(callback.ObjectionDecision, objectionCallback)
	r.HandleMessage(claimTextHook) // free text naming a catalogue item: read, then 确认
}
