// Package villagepoints is the village points scheme (积分制): claims by message and their one-tap review, the append-only ledger, objections, the catalogue and the points shop, settlements, rankings and publicity.
package villagepoints

import "github.com/zhibu/zhibu/app"

// Service is the package's use cases over the dependencies every feature
// shares (store, config, clock, log; authorisation and audit): app.App.
type Service struct{ *app.App }

// Of returns the use cases working on a's store (a transaction when a is
// bound to one).
func Of(a *app.App) Service { return Service{a} }
