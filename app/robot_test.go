package app_test

import (
	"slices"
	"testing"

	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/outbox"
)

// The robot kinds the app registers are the outbox channels that send them.
func TestRobotKindsAreOutboxChannels(t *testing.T) {
	if !slices.Equal(app.RobotKinds, outbox.RobotKinds) {
		t.Fatalf("app.RobotKinds %v, outbox.RobotKinds %v", app.RobotKinds, outbox.RobotKinds)
	}
}
