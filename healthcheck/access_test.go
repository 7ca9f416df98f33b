package healthcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/integrations"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/villagepoints"
)

// The health reads, robots and integrations authorise the actor
// themselves, by the one policy, whichever door calls them; each refusal
// is audited under the use case's name.
func TestUseCasesAuthoriseTheActor(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	f.unit("B2", "第二党支部", "branch", "QA-RZ-XZ", hcDay(2026, 10, 1))
	f.person("孙村民", "villager", "QA-RZ-XZ", 0)
	f.person("周书记", "secretary", "B2", 0)
	secretary, organiser, villager, other := f.actor("王书记"), f.actor("赵委员"), f.actor("孙村民"), f.actor("周书记")
	county := f.actor("钱部长")

	forbidden := func(what string, err error, words string) {
		t.Helper()
		if !errors.Is(err, domain.ErrForbidden) || !strings.Contains(err.Error(), words) {
			t.Errorf("%s: %v, want a refusal saying %q", what, err, words)
		}
	}
	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	_, err := healthcheck.Of(f.app).BranchStatus(f.ctx, secretary, f.units["B1"].ID)
	ok("secretary reads the own branch", err)
	_, err = healthcheck.Of(f.app).BranchStatus(f.ctx, other, f.units["B1"].ID)
	forbidden("secretary of another branch", err, "不在您的管辖范围内")
	_, _, err = healthcheck.Of(f.app).UnitSummary(f.ctx, organiser, f.units["QA-RZ"].ID)
	ok("organiser reads the own township", err)
	_, _, err = healthcheck.Of(f.app).UnitSummary(f.ctx, organiser, f.units["QA"].ID)
	forbidden("organiser reads the county above", err, "乾安县 不在您的管辖范围内")
	_, err = healthcheck.Of(f.app).BranchLights(f.ctx, villager, f.units["B1"].ID)
	ok("villager reads the lights of a branch in the village", err)

	_, _, err = healthcheck.Of(f.app).Escalations(f.ctx, organiser, "QA-RZ")
	ok("organiser lists escalations", err)
	_, _, err = healthcheck.Of(f.app).Escalations(f.ctx, secretary, "QA-RZ")
	forbidden("secretary lists the township's escalations", err, "单位 QA-RZ 不在您的管辖范围内")
	_, _, err = healthcheck.Of(f.app).Escalations(f.ctx, villager, "")
	forbidden("villager lists escalations", err, "您的角色（村民）不能查看人员名单和联系方式")
	_, _, err = healthcheck.Of(f.app).Misses(f.ctx, villager, "QA-RZ-XZ", f.now.AddDate(0, 0, -30), 10)
	forbidden("villager lists misses", err, "不能查看人员名单")
	u, _, err := healthcheck.Of(f.app).LightsOf(f.ctx, villager, "")
	if err != nil || u.Code != "QA-RZ-XZ" {
		t.Errorf("villager's lights default to the own unit: %s %v", u.Code, err)
	}

	_, err = integrations.Of(f.app).AddRobot(f.ctx, county, integrations.RobotRequest{UnitCode: "QA", Kind: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"})
	forbidden("county organiser adds a robot", err, "只有服务器管理员可以管理群机器人")
	_, err = checkin.Of(f.app).ListIntegrations(f.ctx, county)
	forbidden("county organiser lists integrations", err, "只有服务器管理员可以管理外部系统接入")
	forbidden("county organiser turns a robot off", integrations.Of(f.app).SetRobotActive(f.ctx, county, 1, false), "只有服务器管理员可以管理群机器人")
	forbidden("county organiser turns an integration off", checkin.Of(f.app).SetIntegrationActive(f.ctx, county, "crm", false), "只有服务器管理员可以管理外部系统接入")
	robot, err := integrations.Of(f.app).AddRobot(f.ctx, domain.Operator, integrations.RobotRequest{UnitCode: "QA", Kind: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=y"})
	ok("operator adds a robot", err)
	ok("operator turns the robot off", integrations.Of(f.app).SetRobotActive(f.ctx, domain.Operator, robot.ID, false))
	if rows, err := f.st.AuditLog(f.ctx, "robot.active", nil, 10); err != nil || len(rows) != 2 || !rows[0].Allowed || string(rows[0].Details) != `{"active": false}` {
		t.Errorf("robot.active audited: %+v %v", rows, err)
	}
	if _, err := checkin.Of(f.app).ListIntegrations(f.ctx, domain.Operator); err != nil {
		t.Errorf("operator lists integrations: %v", err)
	}
	if err := villagepoints.Of(f.app).ClearUnitCatalog(f.ctx, county, "QA"); err == nil || !strings.Contains(err.Error(), "只有服务器管理员可以导入数据") {
		t.Errorf("county organiser clears a catalogue: %v", err)
	}
	if _, err := accounts.Of(f.app).Invite(f.ctx, county, "QA", "zhibu_bot"); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("county organiser lists invitations: %v", err)
	}
	if _, err := villagepoints.Of(f.app).ExportLedger(f.ctx, villager, ""); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("villager exports the points ledger: %v", err)
	}
	if _, err := villagepoints.Of(f.app).ExportClaims(f.ctx, organiser, "QA-RZ"); err != nil {
		t.Errorf("organiser exports the township's claims: %v", err)
	}
	if _, err := villagepoints.Of(f.app).ExportSettlements(f.ctx, organiser, "QA"); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("organiser exports the county's settlements: %v", err)
	}
	if _, err := checkin.Of(f.app).CheckinLedger(f.ctx, villager, ""); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("villager reads the check-in ledger: %v", err)
	}

	for action, want := range map[string]int{"escalations.list": 2, "misses.list": 1, "robot.add": 1, "robot.active": 1, "integration.list": 1, "integration.active": 1, "health.summary": 1, "health.status": 1, "import.catalog": 1, "invite": 1, "points.export": 2} {
		if refused := f.refusals(action); refused != want {
			t.Errorf("%s: %d refusals audited, want %d", action, refused, want)
		}
	}
}

// refusals counts the refusals of action in the audit log.
func (f *hcFixture) refusals(action string) int {
	f.t.Helper()
	_, refused := testdb.AuditTally(f.t, f.st, action, 100)
	return refused
}

// The scheduler's jobs and the bind-code bootstrap are use cases too: the
// system (domain.System) runs the jobs and nothing else, the operator both;
// a person is refused, and the refusal audited.
func TestJobsAndBootstrapAuthoriseTheActor(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	county := f.actor("钱部长")
	only := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, domain.ErrForbidden) || !strings.Contains(err.Error(), "只有服务器管理员可以") {
			t.Errorf("%s: %v, want the operator's refusal", what, err)
		}
	}
	_, err := healthcheck.Of(f.app).Evaluate(f.ctx, county, f.now, "")
	only("county organiser evaluates", err)
	_, err = healthcheck.Of(f.app).RunHealthcheck(f.ctx, county, f.now, "", false)
	only("county organiser runs the health check", err)
	_, err = villagepoints.Of(f.app).Settle(f.ctx, county, f.now)
	only("county organiser settles", err)
	_, err = villagepoints.Of(f.app).PostPublicity(f.ctx, county, f.now)
	only("county organiser posts the publicity", err)
	only("county organiser applies retention", f.app.ApplyRetention(f.ctx, county, f.now))
	_, err = accounts.Of(f.app).NewBindCode(f.ctx, county, county.PersonID)
	only("county organiser bootstraps a bind code", err)
	_, err = accounts.Of(f.app).NewBindCode(f.ctx, domain.System, county.PersonID)
	only("the system bootstraps a bind code", err)

	if _, err := healthcheck.Of(f.app).RunHealthcheck(f.ctx, domain.System, f.now, "", false); err != nil {
		t.Errorf("the system runs the health check: %v", err)
	}
	if _, err := villagepoints.Of(f.app).Settle(f.ctx, domain.System, f.now); err != nil {
		t.Errorf("the system settles: %v", err)
	}
	if _, err := villagepoints.Of(f.app).PostPublicity(f.ctx, domain.System, f.now); err != nil {
		t.Errorf("the system posts the publicity: %v", err)
	}
	if err := f.app.ApplyRetention(f.ctx, domain.System, f.now); err != nil {
		t.Errorf("the system applies retention: %v", err)
	}
	if code, err := accounts.Of(f.app).NewBindCode(f.ctx, domain.Operator, county.PersonID); err != nil || code == "" {
		t.Errorf("the operator bootstraps a bind code: %q %v", code, err)
	}
	for action, want := range map[string]int{"healthcheck": 2, "points.settle": 1, "points.publicity": 1, "retention": 1, "bind.code": 2} {
		if refused := f.refusals(action); refused != want {
			t.Errorf("%s: %d refusals audited, want %d", action, refused, want)
		}
	}
}

// A dashboard session serves only an actor that may see the dashboard:
// DashboardActor itself refuses, unaudited, one whose token's role may not
// (a session DashboardLogin would not have opened), whichever door reads
// the cookie.
func TestDashboardSessionOnlyForDashboardRoles(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	token := func(unit, role string) string {
		t.Helper()
		tok, err := accounts.Of(f.app).CreateToken(f.ctx, domain.Operator, accounts.TokenRequest{UnitCode: unit, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	s, err := accounts.Of(f.app).DashboardLogin(f.ctx, token("QA", domain.RoleOrganiser))
	if err != nil {
		t.Fatal(err)
	}
	if actor, err := accounts.Of(f.app).DashboardActor(f.ctx, s.ID); err != nil || len(actor.Roles) != 1 {
		t.Fatalf("organiser's session: %+v %v", actor, err)
	}

	// A reviewer's token opens no session; one stored for it all the same
	// (as by an older release) is refused too.
	reviewer := token("QA-RZ-XZ", domain.RoleReviewer)
	if _, err := accounts.Of(f.app).DashboardLogin(f.ctx, reviewer); !errors.Is(err, accounts.ErrNoDashboard) {
		t.Fatalf("reviewer's login: %v, want ErrNoDashboard", err)
	}
	tok, err := f.st.TokenByHash(f.ctx, accounts.Hash(reviewer), f.now)
	if err != nil {
		t.Fatal(err)
	}
	const sid = "reviewer-session"
	if _, err := f.st.CreateSession(f.ctx, accounts.Hash(sid), tok.ID, f.now, f.now.Add(accounts.DashSessionLifetime)); err != nil {
		t.Fatal(err)
	}
	audited := func() int {
		t.Helper()
		rows, err := f.st.AuditLog(f.ctx, "", nil, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	before := audited()
	actor, err := accounts.Of(f.app).DashboardActor(f.ctx, sid)
	if !errors.Is(err, accounts.ErrNoDashboard) || len(actor.Roles) != 0 {
		t.Fatalf("reviewer's session: %+v %v, want ErrNoDashboard and no actor", actor, err)
	}
	if n := audited(); n != before {
		t.Fatalf("the refused session wrote %d audit rows", n-before)
	}
}
