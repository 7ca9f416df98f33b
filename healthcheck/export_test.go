package healthcheck

import (
	"context"
	"time"

	"github.com/zhibu/zhibu/app"
)

// EvaluateUnfiltered is Evaluate with every yellow and red item planned,
// whatever the engine's pre-filter thinks was sent already.
func (a Service) EvaluateUnfiltered(ctx context.Context, at time.Time) (*Evaluation, error) {
	var ev *Evaluation
	err := a.InTx(ctx, func(a *app.App) error {
		var err error
		ev, err = Of(a).evaluate(ctx, at, "", evalMode{plan: true, keepLights: true, keepDigests: true, planAll: true})
		return err
	})
	return ev, err
}
