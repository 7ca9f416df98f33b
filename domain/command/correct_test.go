package command

import (
	"maps"
	"strings"
	"testing"
)

func TestCorrect(t *testing.T) {
	m := defaultMatcher()
	// The card: 支委会 yesterday, 5 of 5, the topic inferred and asked.
	card, ok := ReadCheckin("昨天开了支委会，5个人都到了，商量冬季防火", corpusNow, cst, m)
	if !ok || !card.Sure() || !card.TopicToConfirm || card.Topic != "商量冬季防火" {
		t.Fatalf("the card's reading: %+v, %v", card, ok)
	}
	// A card without an attendance.
	noAtt, ok := ReadCheckin("11月20日开了党课，主题：学习党章", corpusNow, cst, m)
	if !ok || !noAtt.Sure() || noAtt.Total != 0 {
		t.Fatalf("the second card's reading: %+v, %v", noAtt, ok)
	}
	tests := []struct {
		name  string
		r     Reading
		reply string
		want  Correction
		// the corrected fields, in the corpus's notation (describeReading), and whether
		// the topic is still asked
		expect  string
		confirm bool
		// the question asked, when the correction leaves one
		ask string
	}{
		{"labelled topic", card, "主题是学习二十届四中全会精神", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=学习二十届四中全会精神", false, ""},
		{"议题 with a colon", card, "议题：研究冬季防火工作。", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=研究冬季防火工作", false, ""},
		{"the topic alone", card, "学习二十届四中全会精神", CorrectedTopic,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=学习二十届四中全会精神", false, ""},
		{"the topic alone, full-width spaces kept out", card, "　学习党章 ", CorrectedTopic,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=学习党章", false, ""},
		{"present", card, "实到4人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=4/5;topic=商量冬季防火", true, ""},
		{"total", card, "应到6人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/6;topic=商量冬季防火", true, ""},
		{"both halves", card, "应到9人，实到8人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=8/9;topic=商量冬季防火", true, ""},
		{"a/b", card, "8/9", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=8/9;topic=商量冬季防火", true, ""},
		{"Chinese numerals", card, "实到四人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=4/5;topic=商量冬季防火", true, ""},
		{"date", card, "11月21日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-21;att=5/5;topic=商量冬季防火", true, ""},
		{"relative date", card, "是前天开的", CorrectedFields,
			"ob=committee_meeting;date=2026-11-24;att=5/5;topic=商量冬季防火", true, ""},
		{"date and topic", card, "11.21，主题是学习党章", CorrectedFields,
			"ob=committee_meeting;date=2026-11-21;att=5/5;topic=学习党章", false, ""},
		{"yes confirms the topic asked", card, "对的", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=商量冬季防火", false, ""},
		{"present above total is asked", card, "实到6人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=6/5;topic=商量冬季防火;unsure=attendance", true, "实到6人多于应到5人，请核对。"},
		{"a half without the other is asked", noAtt, "实到8人", CorrectedFields,
			"ob=party_lecture;date=2026-11-20;att=8/0;topic=学习党章;unsure=attendance", false, "出席人数只写了实到8人，应到多少人？"},
		{"both halves on a card without", noAtt, "实到8人应到9人", CorrectedFields,
			"ob=party_lecture;date=2026-11-20;att=8/9;topic=学习党章", false, ""},
		{"a day not come is asked", card, "11月27日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-27;att=5/5;topic=商量冬季防火;unsure=date", true, "日期11月27日还没到，请核对。"},
		{"no such day is asked", card, "2月30日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=商量冬季防火;unsure=date", true, "日期“2月30日”不存在，请核对月份和日期。"},
		{"two dates are asked", card, "11月21日还是11月22日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=商量冬季防火;unsure=date", true, "写了2个日期"},
		{"a bare no", card, "不对", NoCorrection, "", false, ""},
		{"a yes to nothing asked", noAtt, "是的", NoCorrection, "", false, ""},
		{"an activity named", card, "党课", NoCorrection, "", false, ""},
		{"a head count alone", card, "8人", NoCorrection, "", false, ""},
		{"an attendance word left unread", card, "到会一百零二人", NoCorrection, "", false, ""},
		{"blank", card, " \n", NoCorrection, "", false, ""},
		{"one rune", card, "嗨", NoCorrection, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := describeReading(tt.r)
			got, how := Correct(tt.r, tt.reply, corpusNow, cst, m)
			if how != tt.want {
				t.Fatalf("Correct(%q) = %v, want %v (%+v)", tt.reply, how, tt.want, got)
			}
			if d := describeReading(tt.r); !maps.Equal(d, before) {
				t.Fatalf("the card's reading changed: %v, was %v", d, before)
			}
			if how == NoCorrection {
				return
			}
			if d, want := describeReading(got), parseExpect(tt.expect); !maps.Equal(d, want) {
				t.Errorf("Correct(%q) = %v, want %v", tt.reply, d, want)
			}
			if got.TopicToConfirm != tt.confirm {
				t.Errorf("Correct(%q): topic asked %v, want %v", tt.reply, got.TopicToConfirm, tt.confirm)
			}
			switch {
			case tt.ask == "" && !got.Sure():
				t.Errorf("Correct(%q) asks %+v", tt.reply, got.Unsure)
			case tt.ask != "" && (len(got.Unsure) != 1 || !strings.HasPrefix(got.Unsure[0].Question, tt.ask)):
				t.Errorf("Correct(%q) asks %+v, want %q", tt.reply, got.Unsure, tt.ask)
			}
		})
	}
}
