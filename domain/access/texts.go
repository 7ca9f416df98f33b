package access

import (
	"fmt"

	"github.com/zhibu/zhibu/domain"
)

// The words of the policy's refusals, in one table to review (fmt
// formats). They are not in internal/texts' catalogues on purpose: this
// package is pure (domain and the standard library only), and Refusal and
// NoUnit word every access refusal, for every door.
const (
	textNoUnit     = "没有可查看的单位。"
	textOutOfScope = "%s 不在您的管辖范围内。" // the subject
	textRoleCannot = "您的角色（%s）不能%s。" // the actor's roles, the verb
	textOnly       = "只有%s可以%s。"     // who may, the verb
	textOperator   = "服务器管理员"        // who may an action no role is granted
	textUnitCode   = "单位 %s"         // a unit as named by its code
)

// verbs says each action in Chinese, for refusals.
var verbs = map[Action]string{
	ViewUnit:           "查看这个单位",
	ViewDashboard:      "登录管理后台",
	ListPeople:         "查看人员名单和联系方式",
	ListCheckins:       "查看打卡记录",
	CheckIn:            "为本支部打卡",
	RejectCheckin:      "退回打卡",
	ManageHealth:       "豁免或撤销豁免",
	SilenceHealth:      "暂停提醒",
	IssueBindCodes:     "生成绑定码",
	ManageWebhooks:     "管理 Webhook 订阅",
	ManageRobots:       "管理群机器人",
	ManageIntegrations: "管理外部系统接入",
	ImportData:         "导入数据",
	ReadAudit:          "查看审计日志",
	RunJobs:            "运行定时任务",
}

// NoUnit refuses an action that names no unit to an actor whose roles
// would allow it, but who holds them nowhere it can be done.
func NoUnit() error { return domain.Refuse(domain.ErrForbidden, textNoUnit) }

// UnitSubject is a unit named by its code, as Refusal's subject.
func UnitSubject(code string) string { return fmt.Sprintf(textUnitCode, code) }
