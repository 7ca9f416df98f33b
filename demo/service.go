// Package demo loads the sandbox's demo county: units, people, chats,
// check-ins, claims and a history of lights, the same county for the same
// seed.
package demo

import "github.com/zhibu/zhibu/app"

// Service loads the demo county.
type Service struct{ *app.App }

// Of returns the loader working on a's store.
func Of(a *app.App) Service { return Service{a} }
