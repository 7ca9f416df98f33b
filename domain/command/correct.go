package command

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Correcting a reading (SPEC §7.3): the sender replies to the card that shows a free-text
// check-in with what is wrong, and Correct reads the reply against the reading.
//
//   - A topic after 主题/议题/内容 (主题是学习全会精神, 议题：…) replaces the topic, and is no
//     longer asked.
//   - An attendance (实到8人, 应到9人, 应到9人实到8人, 8/9) replaces what it names; a half
//     whose other half the reading lacks is asked, as is an impossible one.
//   - A date (11月21日, 11-21, 昨天, 上周五) replaces the date; several, or one not come,
//     are asked.
//   - When none of these is written, the reply itself is the topic (学习二十届四中全会精神),
//     unless it names an activity or an attendance, or is a bare yes or no: a yes (对, 是的)
//     confirms a topic the card asks about, a no corrects nothing.
//
// Fields not written keep their reading. The reply never names another activity: that is
// cancelled and written again.

// Correction is what a reply to a reading's card does.
type Correction int

const (
	// NoCorrection: the reply corrects nothing (chatter, a bare no, a yes to nothing asked).
	NoCorrection Correction = iota
	// CorrectedFields: a labelled topic, an attendance or a date was read, or a yes
	// confirmed the topic asked.
	CorrectedFields
	// CorrectedTopic: nothing else was written, so the reply is taken whole as the topic.
	CorrectedTopic
)

// yesWords confirm the topic a card asks about; noWords say it is wrong without saying how.
var (
	yesWords = []string{"对", "对的", "是", "是的", "没错", "正确", "对了", "嗯", "嗯嗯", "好", "好的", "可以"}
	noWords  = []string{"不对", "不是", "错了", "不对的", "不正确", "有误", "改一下", "要改"}
)

// Correct reads reply, written to the card of reading r, as a correction (see above). The
// corrected reading's Unsure lists what the reply leaves to ask; r itself is not changed.
// now and loc give "today"; m names the activities.
func Correct(r Reading, reply string, now time.Time, loc *time.Location, m *Matcher) (Reading, Correction) {
	loc = orUTC(loc)
	s := cnCounts(cnDates(foldKeepPunct(cleanKeepLines(reply))))
	bare := strings.TrimFunc(s, func(c rune) bool { return isSpace(c) || strings.ContainsRune("，,。.！!~～", c) })
	c := r
	c.Obligations = append([]string(nil), r.Obligations...)
	c.Unsure = nil
	switch {
	case bare == "" || contains(noWords, bare):
		return r, NoCorrection
	case contains(yesWords, bare):
		if !r.TopicToConfirm || r.Topic == "" {
			return r, NoCorrection
		}
		c.TopicToConfirm = false
		return c, CorrectedFields
	}

	w := []byte(s)
	blank := func(i, j int) {
		for k := i; k < j; k++ {
			w[k] = ' '
		}
	}
	read := false
	if lb := topicLabel(w); lb != nil {
		topic, end := labelledTopic(w, lb)
		blank(lb[0], end)
		if topic != "" {
			c.Topic, c.TopicToConfirm, read = cutTopic(topic), false, true
		}
	}
	if c.correctAttendance(w, r, blank) {
		read = true
	}
	dr := &dateReader{r: &c, w: w, now: now, loc: loc, blank: blank}
	dr.readAll()
	if len(dr.dates) > 0 {
		dr.take()
		read = true
	} else if c.UnsureOf(FieldDate) {
		read = true // a date that does not exist: asked
	}
	if read {
		return c, CorrectedFields
	}

	// Nothing else written: the reply is the topic.
	topic := trimTopic(s)
	if utf8.RuneCountInString(topic) < 2 || len(m.named(s)) > 0 || reAttWord.Match(w) || reCountLeft.Match(w) {
		return r, NoCorrection
	}
	c.Topic, c.TopicToConfirm = cutTopic(topic), false
	return c, CorrectedTopic
}

// correctAttendance reads an attendance written in w into c (whose reading was r) and
// reports whether one was.
func (c *Reading) correctAttendance(w []byte, r Reading, blank func(i, j int)) bool {
	total, present := -1, -1
	if t := reTotal.FindSubmatchIndex(w); t != nil {
		total = atoi(w[t[2]:t[3]])
		blank(t[0], t[1])
	}
	for _, p := range rePresent.FindAllSubmatchIndex(w, -1) {
		if p[0] >= 3 && string(w[p[0]-3:p[0]]) == "应" {
			continue // 应出席
		}
		present = atoi(w[p[2]:p[3]])
		blank(p[0], p[1])
		break
	}
	if total < 0 && present < 0 {
		if sl := reSlash.FindSubmatchIndex(w); sl != nil {
			total, present = atoi(w[sl[6]:sl[7]]), atoi(w[sl[2]:sl[3]]) // 8/9, the command's form
			blank(sl[0], sl[1])
		}
	}
	switch {
	case total < 0 && present < 0:
		return false
	case total >= 0 && present < 0 && r.Total == 0:
		c.Total = total
		c.unsure(FieldAttendance, "command.ask.attendance_no_present", "total", strconv.Itoa(total))
		return true
	case present >= 0 && total < 0 && r.Total == 0:
		c.Present = present
		c.unsure(FieldAttendance, "command.ask.attendance_no_total", "present", strconv.Itoa(present))
		return true
	}
	if total >= 0 {
		c.Total = total
	}
	if present >= 0 {
		c.Present = present
	}
	switch {
	case c.Total < 1 || c.Total > maxPeople || c.Present < 0:
		c.unsure(FieldAttendance, "command.ask.attendance_absurd", "present", strconv.Itoa(c.Present), "total", strconv.Itoa(c.Total))
	case c.Present > c.Total:
		c.unsure(FieldAttendance, "command.ask.attendance_above", "present", strconv.Itoa(c.Present), "total", strconv.Itoa(c.Total))
	}
	return true
}

// cutTopic cuts a topic to MaxTopicRunes.
func cutTopic(s string) string {
	if utf8.RuneCountInString(s) > MaxTopicRunes {
		return string([]rune(s)[:MaxTopicRunes])
	}
	return s
}
