package healthcheck_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
)

// The engine plans only items with a line not sent yet (its pre-filter, for
// speed at province scale); health.Plan decides what is sent. Walking a
// county with every default obligation through a quarter and a year end,
// with acknowledgements, late check-ins and escalations, every evaluation
// must send exactly what it sends when every yellow and red item goes to the
// planner: a pre-filter that drops a line Plan would send fails here.
func TestPreFilterNeverDropsWhatPlanSends(t *testing.T) {
	f := newHCFixture(t, hcAt(2026, 9, 20, 10, 0))
	hcCounty(f, hcDay(2026, 9, 1))
	f.unit("B2", "幸福村第二党支部", "branch", "QA-RZ-XZ", hcDay(2026, 9, 1))
	f.person("钱部长", "organiser", "QA", 900)
	f.person("赵委员", "organiser", "QA-RZ", 800)
	f.person("王书记", "secretary", "B1", 100)
	f.person("李副书记", "secretary", "B1", 0)
	f.person("孙书记", "secretary", "B2", 200)
	if err := f.st.BindGroup(f.ctx, -1001, f.units["B1"].ID, "一支部群", f.ppl["王书记"]); err != nil {
		t.Fatal(err)
	}
	// 换届提醒: B2's term runs out at the year end (yellow all along, red in
	// January); B1's ran out in November until a new term is set.
	setTerm := func(code, day string) {
		if _, err := f.st.DB().ExecContext(f.ctx, `UPDATE units SET term_end = $2 WHERE code = $1`, code, day); err != nil {
			t.Fatal(err)
		}
	}
	setTerm("B2", "2026-12-31")
	setTerm("B1", "2026-11-15")
	digests := func(ev *healthcheck.Evaluation) []string {
		var out []string
		for _, d := range ev.Digests {
			out = append(out, fmt.Sprintf("%s→%d: %s", d.Name, d.ChatID, strings.Join(d.Texts(), "¶")))
		}
		slices.Sort(out)
		return out
	}
	sent := 0
	termWords := []string{"任期将于2026年12月31日届满", "任期已于2026年12月31日届满", "任期已于2026年11月15日届满", "换届提醒 · 已消除"}
	termSeen := map[string]bool{}
	for at := hcAt(2026, 9, 20, 10, 0); at.Before(hcAt(2027, 1, 20, 0, 0)); at = at.Add(7 * time.Hour) {
		switch at.Format("2006-01-02T15") {
		case "2026-10-03T12":
			f.checkin("B2", "B2", "committee_meeting", "2026-09", hcDay(2026, 10, 2), "")
		case "2026-11-02T14": // the pause covers the escalation on 8 Nov
			planned := hcDay(2026, 11, 9)
			if _, err := healthcheck.Of(f.app).Ack(f.ctx, f.actor("王书记"), healthcheck.AckRequest{Planned: &planned}); err != nil {
				t.Fatalf("ack at %s: %v", at, err)
			}
		case "2026-11-25T15":
			setTerm("B1", "2031-11-15")
		case "2026-12-10T09":
			f.checkin("B1", "B1", "general_meeting", "2026-Q3", hcDay(2026, 12, 9), "")
		}
		all, err := healthcheck.Of(f.app).EvaluateUnfiltered(f.ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		filtered, err := healthcheck.Of(f.app).Evaluate(f.ctx, domain.System, at, "")
		if err != nil {
			t.Fatal(err)
		}
		if a, b := digests(all), digests(filtered); !slices.Equal(a, b) {
			t.Fatalf("at %s the pre-filter changed what is sent:\nevery item planned:\n%s\npre-filtered:\n%s",
				at.In(f.app.Loc), strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
		ev, _ := f.run(at)
		sent += len(ev.Digests)
		for _, d := range ev.Digests {
			for _, txt := range d.Texts() {
				for _, w := range termWords {
					if strings.Contains(txt, w) {
						termSeen[w] = true
					}
				}
			}
		}
		if len(ev.Digests) != len(filtered.Digests) && !ev.Deferred {
			t.Fatalf("at %s: the run sent %d digests, its dry run planned %d", at, len(ev.Digests), len(filtered.Digests))
		}
	}
	for _, w := range termWords {
		if !termSeen[w] {
			t.Errorf("no notice says %q: the term reminder is not exercised", w)
		}
	}
	if sent < 20 {
		t.Fatalf("only %d digests in four months: the scenario exercises too little", sent)
	}
}
