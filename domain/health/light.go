package health

import "time"

// Light is a traffic light: green, yellow or red.
type Light string

// The lights, from best to worst.
const (
	Green  Light = "green"
	Yellow Light = "yellow"
	Red    Light = "red"
)

// Valid reports whether l is Green, Yellow or Red.
func (l Light) Valid() bool { return l == Green || l == Yellow || l == Red }

// Severity is 0 for green, 1 for yellow, 2 for red and -1 for anything else.
func (l Light) Severity() int {
	switch l {
	case Green:
		return 0
	case Yellow:
		return 1
	case Red:
		return 2
	}
	return -1
}

// Worse reports whether l is strictly worse than o (red > yellow > green).
func (l Light) Worse(o Light) bool { return l.Severity() > o.Severity() }

// Label is the Chinese name of the light (绿灯, 黄灯, 红灯).
func (l Light) Label() string {
	switch l {
	case Green:
		return "绿灯"
	case Yellow:
		return "黄灯"
	case Red:
		return "红灯"
	}
	return string(l)
}

// Worst is the worst of lights; Green when there are none.
func Worst(lights ...Light) Light {
	w := Green
	for _, l := range lights {
		if l.Worse(w) {
			w = l
		}
	}
	return w
}

// Counts counts lights.
type Counts struct {
	Green, Yellow, Red int
}

// Total is Green + Yellow + Red.
func (c Counts) Total() int { return c.Green + c.Yellow + c.Red }

// Add counts one more l; anything but Green, Yellow or Red is ignored.
func (c *Counts) Add(l Light) {
	switch l {
	case Green:
		c.Green++
	case Yellow:
		c.Yellow++
	case Red:
		c.Red++
	}
}

// Merge adds o to c.
func (c *Counts) Merge(o Counts) {
	c.Green += o.Green
	c.Yellow += o.Yellow
	c.Red += o.Red
}

// Count counts lights.
func Count(lights ...Light) Counts {
	var c Counts
	for _, l := range lights {
		c.Add(l)
	}
	return c
}

// Facts are what the records say about one (branch or group, obligation,
// period). The zero Facts is "not owed", which is green: a caller sets Owed
// (see IsOwed) for every period from the start period on.
type Facts struct {
	// CheckedIn: a check-in for the period exists that is neither withdrawn
	// nor rejected, on time or late.
	CheckedIn bool
	// Exempt: an organiser or admin above the branch exempted the period.
	Exempt bool
	// Owed: the period is not before the branch's start period.
	Owed bool
}

// Done reports whether nothing more is wanted for the period.
func (f Facts) Done() bool { return f.CheckedIn || f.Exempt || !f.Owed }

// LightAt is the light of ob for period p at instant t: green when done
// (checked in, exempt or not owed) or before the yellow window, yellow
// inside it, red from due on. See Deadline for the window.
func LightAt(ob Obligation, p Period, themeDay int, f Facts, t time.Time, loc *time.Location, cal *Calendar) Light {
	if f.Done() {
		return Green
	}
	yellowFrom, due := Deadline(ob, p, themeDay, loc, cal)
	switch {
	case t.Before(yellowFrom):
		return Green
	case t.Before(due):
		return Yellow
	}
	return Red
}

// StartPeriod is the first period of rec a branch that started at start
// owes: the one containing start.
func StartPeriod(rec Recurrence, start time.Time, loc *time.Location) Period {
	return PeriodAt(rec, start, loc)
}

// IsOwed reports whether period p is owed by a branch that started at start.
func IsOwed(p Period, start time.Time, loc *time.Location) bool {
	return !p.Before(StartPeriod(p.Rec, start, loc))
}

// OpenPeriods lists, oldest first, the periods of ob to evaluate at t for a
// branch that started at start: every period from the start period to the
// current one (past ones may be red or still in their grace days, the
// current one may be any colour), plus the next period when its yellow
// window has already opened (a themed party day on the 1st to 3rd of the
// month warns at the end of the month before). Nothing before the start
// period is ever listed, and nothing at all when t is before the start
// period's yellow window.
func OpenPeriods(ob Obligation, themeDay int, start, t time.Time, loc *time.Location) []Period {
	if !ob.Recurs.Valid() {
		return nil
	}
	first := StartPeriod(ob.Recurs, start, loc)
	cur := PeriodAt(ob.Recurs, t, loc)
	var out []Period
	if !cur.Before(first) {
		out = make([]Period, 0, periodsApart(first, cur)+2)
		for p := first; !p.After(cur); p = p.Next() {
			out = append(out, p)
		}
	}
	if next := cur.Next(); !next.Before(first) {
		if yf, _ := Deadline(ob, next, themeDay, loc, nil); !t.Before(yf) {
			out = append(out, next)
		}
	}
	return out
}
