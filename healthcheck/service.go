// Package healthcheck is the branch health check: the activities branches owe (obligations, the calendar), the engine that evaluates every branch's lights and plans reminders and supervision notices, acknowledgements, exemptions, silences and the read model the API and dashboard show.
package healthcheck

import "github.com/zhibu/zhibu/app"

// Service is the package's use cases over the dependencies every feature
// shares (store, config, clock, log; authorisation and audit): app.App.
type Service struct{ *app.App }

// Of returns the use cases working on a's store (a transaction when a is
// bound to one).
func Of(a *app.App) Service { return Service{a} }
