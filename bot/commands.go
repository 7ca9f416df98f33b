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
	r.Handle(Command{Name: "start", Description: "开始使用 / 绑定账号", Handler: startHandler})
	r.Handle(Command{Name: "help", Description: "查看可用命令", Handler: helpHandler, Words: []string{"帮助"}})
	r.Handle(Command{Name: "bind", Description: "把本群绑定到党支部或村（书记/评议员）", Handler: bindHandler,
		Roles: []string{domain.RoleSecretary, domain.RoleReviewer}, Words: []string{"绑定"}})
	r.HandleCallback(callback.Relink, relinkCallback)

	// Check-ins.
	r.Handle(Command{Name: "checkin", Description: "记录开会等活动，例：打卡 支委会 11月20日 7/9 主题（可附照片）", Handler: checkinHandler, Roles: secretaries,
		Words: []string{"打卡", "签到", "纪实"}})
	r.Handle(Command{Name: "undo", Description: "撤回 24 小时内的最近一次打卡", Handler: undoHandler, Roles: secretaries, Words: []string{"撤回"}})
	r.Handle(Command{Name: "reject", Description: "驳回打卡：驳回 编号 理由（上级组织委员）", Handler: rejectHandler, Roles: managers, Words: []string{"驳回"}})
	r.HandleCallback(callback.CheckinBranch, checkinBranchCallback)
	r.HandleCallback(callback.CheckinPeriod, checkinPeriodCallback)
	r.HandleCallback(callback.CheckinReject, rejectButtonCallback)
	r.HandleMessage(textReplyHook) // a reply to a reading's card: corrects it
	r.HandleMessage(albumPhotoHook)
	r.HandleMessage(checkinTextHook) // free text naming an activity: read, then 确认
	r.HandleCallback(callback.FreeText, textCallback)

	// Branch health check.
	r.Handle(Command{Name: "status", Description: "查看支部体检红黄绿灯（书记看本支部，组织委员看辖区汇总）", Handler: statusHandler, Roles: viewers,
		Words: []string{"状态", "体检"}})
	r.Handle(Command{Name: "ack", Description: "确认收到红灯督办：收到 [活动] [计划完成日期]", Handler: ackHandler, Roles: secretaries, Words: []string{"收到"}})
	r.Handle(Command{Name: "exempt", Description: "豁免：豁免 支部编码 活动 期间 理由（上级组织委员）", Handler: exemptHandler, Roles: managers, Words: []string{"豁免"}})
	r.Handle(Command{Name: "silence", Description: "静默提醒：静默 单位编码 [活动] 截止日期 理由", Handler: silenceHandler, Roles: managers, Words: []string{"静默"}})
	r.HandleCallback(callback.Ack, ackCallback)

	// Village points.
	r.Handle(Command{Name: "claim", Description: "申报积分：申报 项目 [说明]，可附照片", Handler: claimHandler, Roles: villagers, Words: []string{"申报"}})
	r.Handle(Command{Name: "points", Description: "查看本户积分余额和最近记录", Handler: pointsHandler, Roles: village, Words: []string{"积分", "我的积分"}})
	r.Handle(Command{Name: "rank", Description: "本村本期积分排名", Handler: rankHandler, Roles: village, Words: []string{"排名"}})
	r.Handle(Command{Name: "items", Description: "查看积分项目清单", Handler: itemsHandler, Roles: village, Words: []string{"积分项目"}})
	r.Handle(Command{Name: "goods", Description: "积分超市商品、所需积分和库存", Handler: goodsHandler, Roles: village, Words: []string{"商品", "积分超市"}})
	r.Handle(Command{Name: "pending", Description: "待审核的积分申报（评议员）", Handler: pendingHandler, Roles: reviewers, Words: []string{"待审"}})
	r.Handle(Command{Name: "deduct", Description: "记录扣分或一票否决（评议员）", Handler: deductHandler, Roles: reviewers, Words: []string{"扣分"}})
	r.Handle(Command{Name: "object", Description: "公示期内对申报提出异议：异议 申报号 理由", Handler: objectHandler, Roles: village, Words: []string{"异议"}})
	r.Handle(Command{Name: "redeem", Description: "登记积分兑换（积分超市）", Handler: redeemHandler, Roles: []string{domain.RoleShopkeeper}, Words: []string{"兑换"}})
	r.HandleCallback(callback.ClaimDecision, decideCallback)
	r.HandleCallback(callback.ClaimPick, pickCallback)
	r.HandleCallback(callback.ObjectionDecision, objectionCallback)
	r.HandleMessage(claimTextHook) // free text naming a catalogue item: read, then 确认
}
