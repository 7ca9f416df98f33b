package health

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkLightAt(b *testing.B) {
	sh := shanghai(b)
	ob := obligation(b, "theme_day")
	p := Period{Monthly, 2026, 11}
	tm := at(sh, 2026, 12, 3, 9, 0, 0)
	f := Facts{Owed: true}
	for b.Loop() {
		if LightAt(ob, p, 28, f, tm, sh, nil) != Yellow {
			b.Fatal("wrong light")
		}
	}
}

// BenchmarkPlan plans 100k items: 20k branches × 5 obligations under 200
// townships and 10 counties, a province-sized evaluation.
func BenchmarkPlan(b *testing.B) {
	sh := shanghai(b)
	tm := at(sh, 2026, 12, 9, 9, 0, 0)
	obs := DefaultObligations()[:5]
	items := make([]Item, 0, 100_000)
	for br := range 20_000 {
		town := Recipient{PersonID: int64(1_000_000 + br%200), Name: "组织委员", ChatID: int64(2_000_000 + br%200)}
		county := Recipient{PersonID: int64(3_000_000 + br%10), Name: "部长", ChatID: int64(4_000_000 + br%10)}
		f := fixture{loc: sh, branchID: int64(br + 1), code: fmt.Sprintf("P-%03d-%05d", br%200, br), name: fmt.Sprintf("第%d村党支部", br), themeDay: 1 + br%28}
		if br%3 == 0 {
			f.facts.CheckedIn = true
		}
		for _, ob := range obs {
			p := PeriodAt(ob.Recurs, tm, sh)
			if br%2 == 0 {
				p = p.Prev() // last period: red unless checked in
			}
			it := f.item(ob, p, tm)
			it.Secretaries = []Recipient{{PersonID: int64(br + 1), Name: "书记", ChatID: int64(br + 1)}}
			it.Organisers = [][]Recipient{{town}, {county}}
			items = append(items, it)
		}
	}
	in := PlanInput{At: tm, Loc: sh, Rules: DefaultRules(), Items: items, Wording: wording}
	b.ResetTimer()
	var out PlanOutput
	for b.Loop() {
		out = Plan(in)
	}
	b.ReportMetric(float64(out.Stats.Lines), "lines")
	b.ReportMetric(float64(len(out.Digests)), "digests")
	_ = time.Second
}

// BenchmarkRenderTelegram renders BenchmarkPlan's digests as Telegram HTML,
// what the app does when it enqueues them.
func BenchmarkRenderTelegram(b *testing.B) {
	sh := shanghai(b)
	tm := at(sh, 2026, 12, 9, 9, 0, 0)
	var items []Item
	for br := range 20_000 {
		f := fixture{loc: sh, branchID: int64(br + 1), code: fmt.Sprintf("P-%03d-%05d", br%200, br), name: fmt.Sprintf("第%d村党支部", br), themeDay: 1 + br%28}
		for _, ob := range DefaultObligations()[:5] {
			p := PeriodAt(ob.Recurs, tm, sh)
			if br%2 == 0 {
				p = p.Prev()
			}
			it := f.item(ob, p, tm)
			it.Secretaries = []Recipient{{PersonID: int64(br + 1), Name: "书记", ChatID: int64(br + 1)}}
			it.Organisers = [][]Recipient{{{PersonID: int64(1_000_000 + br%200), Name: "组织委员", ChatID: 1}}, {{PersonID: int64(3_000_000 + br%10), Name: "部长", ChatID: 2}}}
			items = append(items, it)
		}
	}
	out := Plan(PlanInput{At: tm, Loc: sh, Rules: DefaultRules(), Items: items, Wording: wording})
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n = 0
		for i := range out.Digests {
			n += len(out.Digests[i].Texts())
		}
	}
	b.ReportMetric(float64(n), "texts")
}
