// Package dashboard builds the boards the web dashboard shows: the lights of
// a unit's subtree, its escalations, its village rankings. Every board
// authorises its actor like every use case (app.Authorise).
package dashboard

import "github.com/zhibu/zhibu/app"

// Service is the dashboard's boards, built on the use cases' dependencies.
type Service struct{ *app.App }

// Of returns the boards working on a's store.
func Of(a *app.App) Service { return Service{a} }
