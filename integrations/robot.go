package integrations

// Group robots (SPEC §5 "Integrations"): units that use WeCom (企业微信),
// DingTalk (钉钉) or Feishu (飞书) register their group's webhook robot with
// `zhibu robot add`; notices for the unit then also go to its robots,
// through the outbox like every message (channels "wecom", "dingtalk",
// "feishu", see package outbox). Robots only push: replies come through
// Telegram or the API.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"errors"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/access"
	"github.com/zhibu/zhibu/domain/notice"
	"github.com/zhibu/zhibu/outbox"
	"github.com/zhibu/zhibu/storage"
)

// RobotRequest is a robot to register.
type RobotRequest struct {
	UnitCode string
	Kind     string // wecom, dingtalk, feishu
	URL      string // the robot's webhook address, key included
	Secret   string // DingTalk "SEC…" or Feishu signing secret; "" when the robot does not check signatures
}

// robotKindNames are the platforms' names as users know them.
var robotKindNames = map[string]string{"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}

// AddRobot registers a unit's group robot (operator only).
func (a Service) AddRobot(ctx context.Context, actor domain.Actor, req RobotRequest) (storage.Robot, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ManageRobots, "robot.add"); err != nil {
		return storage.Robot{}, err
	}
	kind := strings.ToLower(strings.TrimSpace(req.Kind))
	if !slices.Contains(outbox.RobotKinds, kind) {
		return storage.Robot{}, fmt.Errorf("--kind %q: use wecom, dingtalk or feishu", req.Kind)
	}
	if _, err := a.checkURL(req.URL); err != nil {
		return storage.Robot{}, fmt.Errorf("--url: %w", err)
	}
	secret := strings.TrimSpace(req.Secret)
	if kind == "wecom" && secret != "" {
		return storage.Robot{}, fmt.Errorf("--secret: WeCom robots are not signed; leave it out")
	}
	u, err := a.db().UnitByCode(ctx, req.UnitCode)
	if err != nil {
		return storage.Robot{}, err
	}
	var r storage.Robot
	err = a.InTx(ctx, func(a *app.App) error {
		var err error
		if r, err = Of(a).db().CreateRobot(ctx, u.ID, kind, strings.TrimSpace(req.URL), secret); errors.Is(err, storage.ErrRobotExists) {
			return domain.Refuse(domain.ErrConflict, "%s", api.T("robot.refuse.exists", "platform", robotKindNames[kind]))
		} else if err != nil {
			return err
		}
		return a.Audit(ctx, actor, "robot.add", "robot:"+strconv.FormatInt(r.ID, 10), true, map[string]any{"unit": u.Code, "kind": kind})
	})
	return r, err
}

// ListRobots lists the robots of unitCode's subtree ("" = all; operator only).
func (a Service) ListRobots(ctx context.Context, actor domain.Actor, unitCode string) ([]storage.Robot, error) {
	if err := a.AuthoriseGlobal(ctx, actor, access.ManageRobots, "robot.list"); err != nil {
		return nil, err
	}
	if unitCode == "" {
		return a.db().RobotsIn(ctx, 0)
	}
	u, err := a.db().UnitByCode(ctx, unitCode)
	if err != nil {
		return nil, err
	}
	return a.db().RobotsIn(ctx, u.ID)
}

// SetRobotActive turns a robot on or off (operator only). Messages already
// queued for an inactive robot fail rather than go out.
func (a Service) SetRobotActive(ctx context.Context, actor domain.Actor, id int64, active bool) error {
	return a.SetActive(ctx, actor, access.ManageRobots, "robot.active", "robot:"+strconv.FormatInt(id, 10), active, func(a *app.App) error {
		return Of(a).db().SetRobotActive(ctx, id, active)
	})
}

// NotifyUnitRobots enqueues the notice m for every active robot of the
// unit: one outbox row per robot, channel = the robot's kind, chat_id = the
// robot's id, payload {"notice": m} (the channel renders it in its
// platform's format), dedupe key dedupeKey+"@robot:<id>", so that calling
// it again for the same notice adds nothing. Run it inside the transaction
// of the change that causes the notice. A unit without robots is not an
// error.
func (a Service) NotifyUnitRobots(ctx context.Context, unitID int64, dedupeKey string, m notice.Message, priority int) error {
	if dedupeKey == "" {
		return fmt.Errorf("app: notify robots: empty dedupe key")
	}
	if len(m.Lines) == 0 {
		return fmt.Errorf("app: notify robots: empty notice")
	}
	robots, err := a.db().ActiveRobotsOf(ctx, unitID)
	if err != nil {
		return err
	}
	for _, r := range robots {
		if err := a.db().Enqueue(ctx, storage.OutMessage{
			DedupeKey: dedupeKey + "@robot:" + strconv.FormatInt(r.ID, 10),
			Channel:   r.Kind,
			ChatID:    r.ID,
			Priority:  priority,
			Kind:      storage.KindRobot,
			Payload:   map[string]notice.Message{"notice": m},
		}); err != nil {
			return err
		}
	}
	return nil
}
