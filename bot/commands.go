package bot

import (
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
)

// registerAll is the bot's whole command table: every command, callback
// prefix and message hook in one place, in the order /help and
// setMyCommands list them — what people use most first.
func registerAll(r *Router) {
	secretaries := []string{domain.RoleSecretary}
	viewers := []string{domain.RoleSecretary, domain.RoleOrganiser, domain.RoleAdmin}
	managers := []string{domain.RoleOrganiser, domain.RoleAdmin}
	villagers := []string{domain.RoleVillager}
	reviewers := []string{domain.RoleReviewer}
	village := []string{domain.RoleVillager, domain.RoleReviewer, domain.RoleShopkeeper}

	// Accounts and groups.
	r.Handle(Command{Name: "start", Description: "开始使用 / 绑定账号", Handler: startHandler})
	r.Handle(Command{Name: "help", Description: "查看可用命令", Handler: helpHandler})
	r.Handle(Command{Name: "bind", Description: "把本群绑定到党支部或村（书记/评议员）", Handler: bindHandler,
		Roles: []string{domain.RoleSecretary, domain.RoleReviewer}})
	r.HandleCallback(callback.Relink, relinkCallback)

	// Check-ins.
	r.Handle(Command{Name: "checkin", Description: "打卡：/checkin 支委会 11-20 7/9 主题（可附照片）", Handler: checkinHandler, Roles: secretaries})
	r.Handle(Command{Name: "undo", Description: "撤回 24 小时内的最近一次打卡", Handler: undoHandler, Roles: secretaries})
	r.Handle(Command{Name: "reject", Description: "驳回打卡：/reject 编号 理由（上级组织委员）", Handler: rejectHandler, Roles: managers})
	r.HandleCallback(callback.CheckinBranch, checkinBranchCallback)
	r.HandleCallback(callback.CheckinReject, rejectButtonCallback)
	r.HandleMessage(albumPhotoHook)

	// Branch health check.
	r.Handle(Command{Name: "status", Description: "查看支部体检红黄绿灯（书记看本支部，组织委员看辖区汇总）", Handler: statusHandler, Roles: viewers})
	r.Handle(Command{Name: "ack", Description: "确认收到红灯督办：/ack [规定动作] [计划完成日期]", Handler: ackHandler, Roles: secretaries})
	r.Handle(Command{Name: "exempt", Description: "豁免：/exempt 支部编码 规定动作 期间 理由（上级组织委员）", Handler: exemptHandler, Roles: managers})
	r.Handle(Command{Name: "silence", Description: "静默提醒：/silence 单位编码 [规定动作] 截止日期 理由", Handler: silenceHandler, Roles: managers})
	r.HandleCallback(callback.Ack, ackCallback)

	// Village points.
	r.Handle(Command{Name: "claim", Description: "申报积分：/claim 项目 [说明]，可附照片", Handler: claimHandler, Roles: villagers})
	r.Handle(Command{Name: "points", Description: "查看本户积分余额和最近记录", Handler: pointsHandler, Roles: village})
	r.Handle(Command{Name: "rank", Description: "本村本期积分排名", Handler: rankHandler, Roles: village})
	r.Handle(Command{Name: "items", Description: "查看积分项目清单", Handler: itemsHandler, Roles: village})
	r.Handle(Command{Name: "goods", Description: "积分超市商品、所需积分和库存", Handler: goodsHandler, Roles: village})
	r.Handle(Command{Name: "pending", Description: "待审核的积分申报（评议员）", Handler: pendingHandler, Roles: reviewers})
	r.Handle(Command{Name: "deduct", Description: "记录扣分或一票否决（评议员）", Handler: deductHandler, Roles: reviewers})
	r.Handle(Command{Name: "object", Description: "公示期内对申报提出异议（评议员）", Handler: objectHandler, Roles: reviewers})
	r.Handle(Command{Name: "redeem", Description: "登记积分兑换（积分超市）", Handler: redeemHandler, Roles: []string{domain.RoleShopkeeper}})
	r.HandleCallback(callback.ClaimDecision, decideCallback)
	r.HandleCallback(callback.ClaimPick, pickCallback)
}
