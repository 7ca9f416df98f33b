// Package integrations connects a unit to the systems around it: group robots (WeCom, DingTalk, Feishu) that receive its notices, and outbound webhook targets that receive its events, each checked and signed.
package integrations

import "github.com/zhibu/zhibu/app"

// Service is the package's use cases over the dependencies every feature
// shares (store, config, clock, log; authorisation and audit): app.App.
type Service struct{ *app.App }

// Of returns the use cases working on a's store (a transaction when a is
// bound to one).
func Of(a *app.App) Service { return Service{a} }
