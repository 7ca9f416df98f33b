// Package accounts is who is who: people and units imported from the county's files, Telegram accounts bound by code or by phone, group chats bound to units, the directory, and the API's bearer tokens.
package accounts

import "github.com/zhibu/zhibu/app"

// Service is the package's use cases over the dependencies every feature
// shares (store, config, clock, log; authorisation and audit): app.App.
type Service struct{ *app.App }

// Of returns the use cases working on a's store (a transaction when a is
// bound to one).
func Of(a *app.App) Service { return Service{a} }
