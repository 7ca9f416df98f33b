package testdb

import "time"

// Loc is the zone the tests' counties live in, Asia/Shanghai (the
// configuration's default timezone), loaded once for every package's tests.
var Loc = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()
