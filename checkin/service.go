// Package checkin records the activities branches hold: check-ins by command, by free text (read, confirmed on a card, corrected by a reply) and by integration, their corrections and copies, and the lights a check-in changes.
package checkin

import (
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/internal/texts"
)

// Service is the package's use cases over the dependencies every feature
// shares (store, config, clock, log; authorisation and audit): app.App.
type Service struct{ *app.App }

// Of returns the use cases working on a's store (a transaction when a is
// bound to one).
func Of(a *app.App) Service { return Service{a} }

// api is what the API use cases say (internal/texts/api.yaml).
var api = texts.API
