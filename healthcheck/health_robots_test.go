package healthcheck_test

import (
	"encoding/json"
	"strings"
	"testing"

	"errors"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/notice"
	"github.com/zhibu/zhibu/integrations"
)

// Units with group robots get the health check's notices there too: the
// branch its secretaries' notices (once, though two secretaries got them),
// the township its organiser's red notices; the county, without a robot,
// nothing. A repeat the next day goes again; a run with nothing new sends
// nothing.
func TestHealthNoticesReachUnitRobots(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 10, 24, 10, 0))
	branch, err := integrations.Of(f.app).AddRobot(f.ctx, domain.Operator, integrations.RobotRequest{UnitCode: "B1", Kind: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=b1"})
	if err != nil {
		t.Fatal(err)
	}
	township, err := integrations.Of(f.app).AddRobot(f.ctx, domain.Operator, integrations.RobotRequest{UnitCode: "QA-RZ", Kind: "dingtalk", URL: "https://oapi.dingtalk.com/robot/send?access_token=rz", Secret: "SECabc"})
	if err != nil {
		t.Fatal(err)
	}
	// robotTexts are the notices queued for a robot, as Feishu's plain text.
	robotTexts := func(robot int64) []string {
		t.Helper()
		var raw []string
		if err := f.st.DB().Select(&raw, `SELECT payload->>'notice' FROM outbox WHERE kind = 'robot' AND chat_id = $1 ORDER BY id`, robot); err != nil {
			t.Fatal(err)
		}
		ts := make([]string, len(raw))
		for i, r := range raw {
			var m notice.Message
			if err := json.Unmarshal([]byte(r), &m); err != nil {
				t.Fatalf("robot payload %q: %v", r, err)
			}
			ts[i] = notice.Robot(m, notice.PlainText)
		}
		return ts
	}

	f.run(hcAt(2026, 10, 25, 9, 0)) // yellow: the secretaries
	// The group's robot is told the notice, not that a secretary's
	// message went to the Telegram group because he has not linked.
	if ts := robotTexts(branch.ID); len(ts) != 1 || !strings.HasPrefix(ts[0], "🟡 【黄灯提醒】") || strings.Contains(ts[0], "尚未绑定") {
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

// A secretary who has not linked gets his notice in the branch's Telegram
// group with a note saying so; the branch's robot gets the notice alone.
func TestRobotNoticeLeavesOutTheFallbackNote(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 10, 24, 10, 0), hcOnlyCommittee, hcEveryDayWorking)
	hcCounty(f, hcDay(2026, 10, 1))
	li := f.person("李副书记", "secretary", "B1", 0)
	if err := f.st.BindGroup(f.ctx, -1001, f.units["B1"].ID, "一支部群", li); err != nil {
		t.Fatal(err)
	}
	robot, err := integrations.Of(f.app).AddRobot(f.ctx, domain.Operator, integrations.RobotRequest{UnitCode: "B1", Kind: "feishu", URL: "https://open.feishu.cn/open-apis/bot/v2/hook/b1"})
	if err != nil {
		t.Fatal(err)
	}
	_, ds := f.run(hcAt(2026, 10, 25, 9, 0))
	if d := ds["李副书记"]; !d.ViaFallback || !strings.HasPrefix(d.Texts()[0], "<i>（此消息应发给 李副书记，其尚未绑定个人账号") {
		t.Fatalf("fallback digest %+v", d)
	}
	var raw []string
	if err := f.st.DB().Select(&raw, `SELECT payload->>'notice' FROM outbox WHERE kind = 'robot' AND chat_id = $1`, robot.ID); err != nil {
		t.Fatal(err)
	}
	var m notice.Message
	if len(raw) != 1 || json.Unmarshal([]byte(raw[0]), &m) != nil {
		t.Fatalf("robot rows %q", raw)
	}
	if text := notice.Robot(m, notice.PlainText); !strings.HasPrefix(text, "🟡 【黄灯提醒】") || strings.Contains(text, "尚未绑定") {
		t.Fatalf("robot notice %q", text)
	}
}

// A robot registered twice (same platform, same address) is refused in the
// platform's Chinese name, and the first stays the only one.
func TestAddRobotTwiceIsRefused(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 10, 24, 10, 0))
	req := integrations.RobotRequest{UnitCode: "B1", Kind: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=b1"}
	if _, err := integrations.Of(f.app).AddRobot(f.ctx, domain.Operator, req); err != nil {
		t.Fatal(err)
	}
	_, err := integrations.Of(f.app).AddRobot(f.ctx, domain.Operator, req)
	var ue *domain.UserError
	if !errors.As(err, &ue) || !errors.Is(err, domain.ErrConflict) || ue.Msg != "这个地址的企业微信群机器人已经登记过了。" {
		t.Fatalf("second AddRobot: %v", err)
	}
	robots, err := integrations.Of(f.app).ListRobots(f.ctx, domain.Operator, "")
	if err != nil || len(robots) != 1 {
		t.Fatalf("robots = %d, %v", len(robots), err)
	}
}
