package command

import (
	"maps"
	"reflect"
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
		ask Text
	}{
		{"labelled topic", card, "主题是学习二十届四中全会精神", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=学习二十届四中全会精神", false, Text{}},
		{"议题 with a colon", card, "议题：研究冬季防火工作。", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=研究冬季防火工作", false, Text{}},
		{"the topic alone", card, "学习二十届四中全会精神", CorrectedTopic,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=学习二十届四中全会精神", false, Text{}},
		{"the topic alone, full-width spaces kept out", card, "　学习党章 ", CorrectedTopic,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=学习党章", false, Text{}},
		{"present", card, "实到4人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=4/5;topic=商量冬季防火", true, Text{}},
		{"total", card, "应到6人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/6;topic=商量冬季防火", true, Text{}},
		{"both halves", card, "应到9人，实到8人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=8/9;topic=商量冬季防火", true, Text{}},
		{"a/b", card, "8/9", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=8/9;topic=商量冬季防火", true, Text{}},
		{"Chinese numerals", card, "实到四人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=4/5;topic=商量冬季防火", true, Text{}},
		{"date", card, "11月21日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-21;att=5/5;topic=商量冬季防火", true, Text{}},
		{"relative date", card, "是前天开的", CorrectedFields,
			"ob=committee_meeting;date=2026-11-24;att=5/5;topic=商量冬季防火", true, Text{}},
		{"date and topic", card, "11.21，主题是学习党章", CorrectedFields,
			"ob=committee_meeting;date=2026-11-21;att=5/5;topic=学习党章", false, Text{}},
		{"yes confirms the topic asked", card, "对的", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=商量冬季防火", false, Text{}},
		{"present above total is asked", card, "实到6人", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=6/5;topic=商量冬季防火;unsure=attendance", true, text("command.ask.attendance_above", "present", "6", "total", "5")},
		{"a half without the other is asked", noAtt, "实到8人", CorrectedFields,
			"ob=party_lecture;date=2026-11-20;att=8/0;topic=学习党章;unsure=attendance", false, text("command.ask.attendance_no_total", "present", "8")},
		{"both halves on a card without", noAtt, "实到8人应到9人", CorrectedFields,
			"ob=party_lecture;date=2026-11-20;att=8/9;topic=学习党章", false, Text{}},
		{"a day not come is asked", card, "11月27日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-27;att=5/5;topic=商量冬季防火;unsure=date", true, text("command.ask.date_not_come", "day", "11月27日")},
		{"no such day is asked", card, "2月30日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=商量冬季防火;unsure=date", true, text("command.ask.date_no_such_day", "date", "2月30日")},
		{"two dates are asked", card, "11月21日还是11月22日", CorrectedFields,
			"ob=committee_meeting;date=2026-11-25;att=5/5;topic=商量冬季防火;unsure=date", true, text("command.ask.dates", "n", "2", "dates", "11月21日、11月22日")},
		{"a bare no", card, "不对", NoCorrection, "", false, Text{}},
		{"a yes to nothing asked", noAtt, "是的", NoCorrection, "", false, Text{}},
		{"an activity named", card, "党课", NoCorrection, "", false, Text{}},
		{"a head count alone", card, "8人", NoCorrection, "", false, Text{}},
		{"an attendance word left unread", card, "到会一百零二人", NoCorrection, "", false, Text{}},
		{"blank", card, " \n", NoCorrection, "", false, Text{}},
		{"one rune", card, "嗨", NoCorrection, "", false, Text{}},
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
			case tt.ask.Key == "" && !got.Sure():
				t.Errorf("Correct(%q) asks %+v", tt.reply, got.Unsure)
			case tt.ask.Key != "" && (len(got.Unsure) != 1 || !reflect.DeepEqual(got.Unsure[0].Question, tt.ask)):
				t.Errorf("Correct(%q) asks %+v, want %v", tt.reply, got.Unsure, tt.ask)
			}
		})
	}
}
