package health

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zhibu/zhibu/domain/notice"
)

// Wording is what the notices say: one template (notice.Template) per key
// of the notices catalogue, internal/texts/notices.yaml. The caller passes
// it in (PlanInput.Wording), made by NewWording from the catalogue. The
// package keeps no copy of its own: it imports only the standard library
// and domain packages, so the words come in as data, and the catalogue is
// their one source — the tests read the same file (helpers_test.go).
// WordingKeys declares the keys and their placeholders for the catalogue.
type Wording struct {
	headers                                [numSections]notice.Template
	continued, fallback                    notice.Template
	bullet, path, group, item              notice.Template
	reason, dueToday, daysLeft, overdue    notice.Template
	escalated, acked, planned, planLapsed  notice.Template
	checkedIn, exempt, cleared             notice.Template
	termLine, termCleared, termEscalated   notice.Template
	promptHead, promptItem, promptGroup    notice.Template
	promptDue, promptDone                  notice.Template
	footerCheckin, footerMakeup, footerAck notice.Template
	buttonAck, buttonAckItem, buttonAckAll notice.Template
	buttonAckBranch                        notice.Template
	// The lines without placeholders every digest repeats, made once
	// (shared: users clip them before appending).
	headerLines         [numSections]notice.Line
	continuedLine       notice.Line
	ackText, ackAllText string
}

// wordingKeys maps each catalogue key to its template and placeholders.
func (w *Wording) keys() []struct {
	key          string
	t            *notice.Template
	placeholders []string
} {
	type k = struct {
		key          string
		t            *notice.Template
		placeholders []string
	}
	return []k{
		{"header.red_secretary", &w.headers[secRedSecretary], nil},
		{"header.red_organiser", &w.headers[secRedOrganiser], nil},
		{"header.yellow", &w.headers[secYellow], nil},
		{"header.resolved", &w.headers[secResolved], nil},
		{"header.green", &w.headers[secGreen], nil},
		{"header.continued", &w.continued, nil},
		{"fallback", &w.fallback, []string{"name"}},
		{"line.bullet", &w.bullet, nil},
		{"line.path", &w.path, []string{"path"}},
		{"line.group", &w.group, []string{"group"}},
		{"line.item", &w.item, []string{"obligation", "period", "due"}},
		{"line.reason", &w.reason, []string{"reason"}},
		{"line.due_today", &w.dueToday, nil},
		{"line.days_left", &w.daysLeft, []string{"days"}},
		{"line.overdue", &w.overdue, []string{"days"}},
		{"line.escalated", &w.escalated, []string{"days"}},
		{"line.acked", &w.acked, []string{"person"}},
		{"line.planned", &w.planned, []string{"day"}},
		{"line.plan_lapsed", &w.planLapsed, nil},
		{"line.checked_in", &w.checkedIn, nil},
		{"line.exempt", &w.exempt, nil},
		{"line.cleared", &w.cleared, nil},
		{"term.line", &w.termLine, []string{"notice"}},
		{"term.cleared", &w.termCleared, []string{"obligation"}},
		{"term.escalated", &w.termEscalated, nil},
		{"prompt.head", &w.promptHead, []string{"branch", "period"}},
		{"prompt.item", &w.promptItem, []string{"obligation"}},
		{"prompt.group", &w.promptGroup, []string{"group"}},
		{"prompt.due", &w.promptDue, []string{"due"}},
		{"prompt.done", &w.promptDone, nil},
		{"footer.checkin", &w.footerCheckin, []string{"activity", "day"}},
		{"footer.makeup", &w.footerMakeup, []string{"activity", "period"}},
		{"footer.ack", &w.footerAck, []string{"day"}},
		{"button.ack", &w.buttonAck, nil},
		{"button.ack_item", &w.buttonAckItem, []string{"activity", "period"}},
		{"button.ack_all", &w.buttonAckAll, nil},
		{"button.ack_branch", &w.buttonAckBranch, []string{"branch"}},
	}
}

// WordingKeys lists the catalogue's keys with their placeholders (the
// declaration internal/texts checks notices.yaml against).
func WordingKeys() map[string][]string {
	var w Wording
	out := map[string][]string{}
	for _, k := range w.keys() {
		out[k.key] = k.placeholders
	}
	return out
}

// NewWording parses the text of every key, as text returns it (the
// catalogue's). A template that does not parse or has other placeholders
// than its key declares is an error.
func NewWording(text func(key string) string) (*Wording, error) {
	w := &Wording{}
	var problems []string
	for _, k := range w.keys() {
		t, err := notice.ParseTemplate(text(k.key))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", k.key, err))
			continue
		}
		got, want := t.Placeholders(), slices.Clone(k.placeholders)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			problems = append(problems, fmt.Sprintf("%s has placeholders %v, want %v", k.key, got, want))
		}
		*k.t = t
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("health: wording: %s", strings.Join(problems, "; "))
	}
	for s := range w.headers {
		w.headerLines[s] = slices.Clip(w.headers[s].Line())
	}
	w.continuedLine = slices.Clip(w.continued.Line())
	w.ackText, w.ackAllText = w.buttonAck.Text(), w.buttonAckAll.Text()
	return w, nil
}
