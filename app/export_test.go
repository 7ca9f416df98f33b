package app

import (
	"context"
	"time"
)

// EvaluateUnfiltered is Evaluate with every yellow and red item planned,
// whatever the engine's pre-filter thinks was sent already.
func (a *App) EvaluateUnfiltered(ctx context.Context, at time.Time) (*Evaluation, error) {
	var ev *Evaluation
	err := a.InTx(ctx, func(a *App) error {
		var err error
		ev, err = a.evaluate(ctx, at, "", evalMode{plan: true, keepLights: true, keepDigests: true, planAll: true})
		return err
	})
	return ev, err
}
