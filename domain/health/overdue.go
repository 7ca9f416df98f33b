package health

import "time"

// DaysOverdue is how many days an item due at due (the exclusive end of its
// last day, as ItemStatus.Due and PlanItem.Due are) is overdue at t, counted
// in calendar days of loc, the configured time zone: the first calendar day
// after the due day is day 1, the next day 2, and so on, whatever the hour.
// Before due it is 0; once due has passed it is at least 1 (a deadline that
// falls within a day is a day overdue at once).
//
// It is the one number the bot's replies and notices, the dashboard and the
// API show: counting whole 24-hour spans instead would say a day less for
// most of each day.
func DaysOverdue(due, t time.Time, loc *time.Location) int {
	if t.Before(due) {
		return 0
	}
	return int(max(1, civilDay(t, loc)-civilDay(lastDay(due), loc)))
}
