package integrations_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/integrations"
)

// With the default configuration a robot (or subscription: same check)
// naming localhost or a literal loopback, private, link-local or
// unspecified address is refused before anything is stored. Nothing is
// dialled here.
func TestRobotTargetsMustBePublic(t *testing.T) {
	a := app.New(nil, config.Default(), nil, nil) // refused before the store is used
	for _, u := range []string{
		"http://127.0.0.1:8080/x",
		"http://localhost:5432/",
		"https://LocalHost./x",
		"http://[::1]/x",
		"http://[::ffff:127.0.0.1]/x",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.8/x",
		"http://172.16.3.4/x",
		"http://192.168.1.1/x",
		"http://100.64.0.1/x",
		"http://0.0.0.0:5432/",
		"http://[::]/x",
		"http://[fe80::1%25eth0]/x",
		"http://[fd00::1]/x",
	} {
		_, err := integrations.Of(a).AddRobot(context.Background(), domain.Operator, integrations.RobotRequest{UnitCode: "QA", Kind: "wecom", URL: u})
		if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), "内网") ||
			!strings.Contains(err.Error(), "webhooks.allow_private_targets") {
			t.Errorf("%s: %v", u, err)
		}
	}
}
