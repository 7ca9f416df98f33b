package app_test

import (
	"strings"
	"testing"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
)

// Units with group robots get the health check's notices there too: the
// branch its secretaries' notices (once, though two secretaries got them),
// the township its organiser's red notices; the county, without a robot,
// nothing. A repeat the next day goes again; a run with nothing new sends
// nothing.
func TestHealthNoticesReachUnitRobots(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 10, 24, 10, 0))
	branch, err := f.app.AddRobot(f.ctx, domain.Operator, app.RobotRequest{UnitCode: "B1", Kind: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=b1"})
	if err != nil {
		t.Fatal(err)
	}
	township, err := f.app.AddRobot(f.ctx, domain.Operator, app.RobotRequest{UnitCode: "QA-RZ", Kind: "dingtalk", URL: "https://oapi.dingtalk.com/robot/send?access_token=rz", Secret: "SECabc"})
	if err != nil {
		t.Fatal(err)
	}
	robotTexts := func(robot int64) []string {
		t.Helper()
		var ts []string
		if err := f.st.DB().Select(&ts, `SELECT payload->>'text' FROM outbox WHERE kind = 'robot' AND chat_id = $1 ORDER BY id`, robot); err != nil {
			t.Fatal(err)
		}
		return ts
	}

	f.run(hcAt(2026, 10, 25, 9, 0)) // yellow: the secretaries
	if ts := robotTexts(branch.ID); len(ts) != 1 || !strings.Contains(ts[0], "黄灯提醒") {
		t.Fatalf("branch robot after the yellow run: %q", ts)
	}
	if ts := robotTexts(township.ID); len(ts) != 0 {
		t.Fatalf("township robot got a yellow notice: %q", ts)
	}

	f.run(hcAt(2026, 11, 1, 8, 0)) // red: secretaries and the township
	ts := robotTexts(branch.ID)
	if len(ts) != 2 || !strings.Contains(ts[1], "红灯督办") {
		t.Fatalf("branch robot after the red run: %q", ts)
	}
	rz := robotTexts(township.ID)
	if len(rz) != 1 || !strings.Contains(rz[0], "红灯督办") || !strings.Contains(rz[0], "幸福村第一党支部") {
		t.Fatalf("township robot after the red run: %q", rz)
	}

	f.run(hcAt(2026, 11, 1, 15, 0)) // nothing new
	if len(robotTexts(branch.ID)) != 2 || len(robotTexts(township.ID)) != 1 {
		t.Fatal("a run with nothing new reached the robots")
	}

	f.run(hcAt(2026, 11, 2, 8, 0)) // the daily red repeat
	if len(robotTexts(branch.ID)) != 3 || len(robotTexts(township.ID)) != 2 {
		t.Fatalf("repeat: branch %d township %d messages, want 3 and 2", len(robotTexts(branch.ID)), len(robotTexts(township.ID)))
	}
	var channels []string
	if err := f.st.DB().Select(&channels, `SELECT DISTINCT channel FROM outbox WHERE kind = 'robot' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(channels, ",") != "dingtalk,wecom" {
		t.Fatalf("robot rows on channels %v", channels)
	}
}
