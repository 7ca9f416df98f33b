package command

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zhibu/zhibu/domain/health"
)

// Free text (SPEC §7.3): a message that is not a command, read for a check-in.
//
// ReadCheckin finds, anywhere in the text, the activities named (the obligations' names and
// aliases, longest first: 支委会 before 支委), the date, the attendance, the topic and a
// requested make-up period. It never guesses: a field it cannot read for sure is listed in
// Reading.Unsure with a Chinese question, and the caller asks instead of recording. Text that
// names no activity, announces or asks about one (明天开支委会、支委会开了吗？), or names one
// without anything that says it was held, is not a check-in.

// Fields of a reading, as Unsure names them.
const (
	FieldDate       = "date"
	FieldAttendance = "attendance"
	FieldMakeUp     = "makeup"
	FieldActivity   = "activity"
)

// Unsure is one field the reader could not read for sure, and the question to ask.
type Unsure struct {
	Field    string
	Question Text
}

// Reading is what a free-text check-in says.
type Reading struct {
	// Obligations are the obligation codes named, in the order written.
	Obligations []string
	// Date is 00:00 in loc of the day held; today when DateWritten is false.
	Date        time.Time
	DateWritten bool
	// Present and Total are the attendance; both 0 when not given.
	Present, Total int
	// Topic is the topic written after 主题/议题/内容 (or the clause that starts with 学习,
	// 传达 …); "" when none.
	Topic string
	// TopicToConfirm says the topic was inferred, not written after a label (主题/议题/内容 or
	// the activity's name and a colon): taken from the clause that starts with a verb of
	// the list, or from the one clause nothing else was read in. The confirmation asks
	// whether it is the topic instead of showing it as read.
	TopicToConfirm bool
	// MakeUp is the period a 补开11月 / 补第三季度 asks for; the zero Period when none.
	MakeUp health.Period
	// Unsure lists the fields that must be asked, not guessed.
	Unsure []Unsure
}

// Sure reports whether every field was read for sure.
func (r Reading) Sure() bool { return len(r.Unsure) == 0 }

// UnsureOf reports whether field is unsure.
func (r Reading) UnsureOf(field string) bool {
	for _, u := range r.Unsure {
		if u.Field == field {
			return true
		}
	}
	return false
}

func (r *Reading) unsure(field, key string, pairs ...string) {
	if !r.UnsureOf(field) {
		r.Unsure = append(r.Unsure, Unsure{Field: field, Question: text(key, pairs...)})
	}
}

var (
	// reNotHeld marks announcements, plans, questions and denials: not a report of a held
	// meeting.
	reNotHeld = regexp.MustCompile(`(?:周|星期|礼拜)[一二三四五六日天]前|请各|各位(?:党员|委员|同志)|明天|明日|明早|明晚|后天|下周|下星期|下礼拜|下个?月|将于|将在|准时|通知[:：，,]|特此通知|现通知|请各位|请大家|请全体|大家记得|记得|别忘|准备开|计划于|计划在|打算|要开|几点|什么时候|何时|谁|哪|怎么|多少|是否|有没有|吗|呢|没开|未开|还没|没有开|(?:了|过)没有?$|想一想|议一议|商量一下|推迟|改期|改到|改在|延期|另行|取消|之前|以前|截止|[日号]前(?:[^天]|$)|要完成|定在|定于|没有|通知$|[?？]`)
	// reHeld says that something took place.
	reHeld = regexp.MustCompile(`已(?:经)?(?:全部)?收缴|缴齐|开了|开过|做完|搞了|搞完|结束|召开|举行|举办|开展|组织了|进行了|讲了|上了(?:党课|课)|课[^，,。]{0,4}上了|开完|已开|已经?(?:召开|讲|办|搞)|完成|参加了|学习了|已收|收齐|交齐|已交|[:：]`)

	reTimeOfDay = regexp.MustCompile(`(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?\s*\d{1,2}\s*(?:[:：]\s*\d{2}(?:\s*[-~至到]\s*\d{1,2}\s*[:：]\s*\d{2})?|点(?:\s*(?:半|\d{1,2}\s*分|钟))?|时(?:\d{1,2}分)?)`)

	reFullCJK  = regexp.MustCompile(`(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?`)
	reFullNum  = regexp.MustCompile(`(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})[日号]?`)
	reMonthDay = regexp.MustCompile(`(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?`)
	reDotDash  = regexp.MustCompile(`(\d{1,2})[.\-](\d{1,2})`)
	reDayOnly  = regexp.MustCompile(`(\d{1,2})\s*[日号]`)
	// reLastMonthDay is a day of last month: 上个月20号.
	reLastMonthDay = regexp.MustCompile(`上个?月份?的?\s*(\d{1,2})\s*[日号]`)
	// reDateLeft is what is left of a date word the reader did not read (昨儿黑, 上月底):
	// the date is asked rather than taken as today.
	reDateLeft = regexp.MustCompile(`昨|前儿|今儿|上个?月|上个?(?:周|星期|礼拜)|\d\s*[日号]|月初|月中|月底|月末|[上中下]旬|周末|前几天|前两天|前些天|前些日子|前阵子|那天|这几天|最近|近日|日前`)
	reRelDay   = regexp.MustCompile(`今天|今日|今晚|今早|今儿(?:个)?|昨天|昨日|昨晚|昨儿(?:个)?|大前天|前天|前日|前儿(?:个)?`)
	// reCNDate is a month and day written in Chinese numerals: 十一月二十日.
	reCNDate   = regexp.MustCompile(`([一二三四五六七八九十]{1,3}|\d{1,2})月([一二三四五六七八九十]{1,3}|\d{1,2})[日号]`)
	reWeekRel  = regexp.MustCompile(`(上|本|这)个?(?:周|星期|礼拜)([一二三四五六日天])`)
	reWeekBare = regexp.MustCompile(`(?:周|星期|礼拜)([一二三四五六日天])`)

	reMakeUpMonth       = regexp.MustCompile(`补(?:开|办|录|记|上|讲)?了?\s*(?:(\d{4})年)?(\d{1,2}|[一二三四五六七八九十]{1,3})月份?`)
	reMakeUpQuarter     = regexp.MustCompile(`补(?:开|办|录|记|上|讲)?了?\s*(?:(\d{4})年)?第?([一二三四1-4])季度`)
	reMakeUpLast        = regexp.MustCompile(`补(?:开|办|录|记|讲)?了?上个?月|上个?月份?的[^，,。；;\n]{0,12}?补(?:开|办|录|记|上|讲)`)
	reMakeUpLastQuarter = regexp.MustCompile(`补(?:开|办|录|记|讲)?了?上个?季度|上个?季度的?[^，,。；;\n]{0,12}?补(?:开|办|录|记|上|讲)`)
	// reMakeUpAfter is a month or quarter named before the 补: 10月份的支委会补开了.
	// A quarter is no date, so 第三季度党课已于11月23日补讲 needs no 的.
	reMakeUpAfter = regexp.MustCompile(`(?:(\d{4})年)?(?:(\d{1,2}|[一二三四五六七八九十]{1,3})月份?的|第?([一二三四1-4])季度的?)[^，,。；;\n]{0,12}?补(?:开|办|录|记|上|讲)`)

	reTotal   = regexp.MustCompile(`(?:应到会?|应该到|应该来|应来|应出席|应参会|应参加|应参评)\s*(?:委员|党员|同志|人数)?\s*[:：]?\s*(\d{1,5})\s*(?:个人|人|名|个|位)?`)
	rePresent = regexp.MustCompile(`(?:听课人数|听课|实到会?|实际到会|实际参会|实际出席|实出席|实参会|实参加|出席|出勤|签到|到会|到场|参会|参评|参加|到了|来了)(?:的有|的是|的)?\s*(?:委员|党员|同志|人数)?\s*[:：]?\s*(\d{1,5})\s*(?:个人|人|名|个|位)?`)
	reAbsent  = regexp.MustCompile(`(?:缺席|请假|未到|缺|少来|少到|没来)了?\s*[:：]?\s*(\d{1,5}|无)\s*(?:个人|人|名|个|位)?`)
	// reNoneAbsent is no one absent: 无缺席, 无人请假.
	reNoneAbsent = regexp.MustCompile(`(?:无|没有)人?(?:缺席|请假)`)
	// reAbsentAfter is the absent written before their word: 9人请假, 1名请假.
	reAbsentAfter = regexp.MustCompile(`(\d{1,5})\s*(?:个人|人|名|位|个)\s*(?:党员|委员|同志)?\s*(?:请假|缺席|未到)`)
	// reOfWhom is a total and how many of them came: 32个党员来了29个, 8个人到了7个, 组员7人到6人.
	reOfWhom = regexp.MustCompile(`(\d{1,5})\s*(?:个人|个|名|位|人)\s*(?:党员|委员|同志|支委)?\s*(?:来了|到了|参加了|到会|到)\s*(\d{1,5})\s*(?:个人|个|名|位|人)?`)
	// reAllCame is an attendance where everyone came: 5个委员都到了, 委员5人全到.
	reAllCame = regexp.MustCompile(`(\d{1,5})\s*(?:个人|人|名|个|位)?\s*(?:委员|党员|同志|支委)?\s*(?:全部|全|都)(?:到|来|参加|参会|出席|在)`)
	// rePresentAfter is the present written before its verb: 21名党员参加.
	rePresentAfter = regexp.MustCompile(`(\d{1,5})\s*(?:个人|人|名|位|个)\s*(?:党员|委员|同志)?\s*(?:参加|参会|出席|到会|实到)`)
	// reAllThere says that everyone came: 全部到齐.
	reAllThere = regexp.MustCompile(`全部到齐|全到了?|都到了|都来了|到齐了?|全部到会|全部参加|全部参会|全员到|全员参加|全体(?:党员|委员)?都?(?:参加|到会|出席|参会)`)
	// reTotalOf is how many members there are: 共有党员9名, 委员5人, 小组6人.
	reTotalOf = regexp.MustCompile(`(?:(?:共有?|全体)\s*(?:党员|委员)?|(?:党员|委员|小组|全组|本组|组员|小组成员))\s*(?:共|有)?\s*(\d{1,5})\s*(?:个人|人|名|位)`)
	// rePresentAll is everyone, counted, present: 全体党员21人参加.
	rePresentAll = regexp.MustCompile(`(?:全体|全部)(?:党员|委员|同志)?\s*(\d{1,5})\s*(?:个人|人|名|位|个)\s*(?:都|全部)?(?:参加|参会|出席|到会|到了|到齐)`)
	// reTotalAfter is the total written before its word: 33人应到.
	reTotalAfter = regexp.MustCompile(`(\d{1,5})\s*(?:个人|人|名|位|个)?\s*(?:党员|委员|同志)?\s*应到`)
	reSlash      = regexp.MustCompile(`(\d{1,5})\s*(人|名)?\s*[/／]\s*(\d{1,5})\s*(人|名)?`)
	// reAttHint before an a/b says it is an attendance.
	reAttHint = regexp.MustCompile(`(?:出席|参会|到会|人数|实到|应到|党员)\s*[:：]?\s*$`)
	// reDateHint before an a/b says it is a date.
	reDateHint = regexp.MustCompile(`(?:日期|时间|于)\s*[:：]?\s*$`)

	reTopicLabel = regexp.MustCompile(`(?:讲的是|讲的内容是|课题|会议主题|学习主题|活动主题|党课主题|主题|会议议题|议题|会议内容|学习内容|活动内容|内容|题目)\s*(?:是|为)?\s*[:：]?\s*`)
	reNextLabel  = regexp.MustCompile(`(?:会议名称|名称|时间|地点|应到|实到|出席|缺席|请假|议题|主题|主持人?|记录人?|参会人员|参加人员|列席)\s*[:：]`)
	reTopicVerb  = regexp.MustCompile(`(?:去|到)了?[^，,。；;\s]{1,8}?开展|(?:(?:去|到)了?[^，,。；;\s]{0,8}?)?(?:集中|认真|专题|深入|全票|一致|义务)?(?:学习|传达|研究|讨论|部署|观看|重温|开展批评|选举|民主推荐|表决|清扫|打扫|清理|学了|讲|开展了|通报|宣讲|审议|通过|帮助|扫墓|祭扫|看了|开展|确定|决定|定了|交流|看望|慰问|走访|义务(?:为|给))`)
	reHardStop   = regexp.MustCompile(`[。！!\n；;]`)
	// reMakeUpVerb is a make-up written without a period read: 补开、补上 (补录 records
	// late, it makes nothing up).
	reMakeUpVerb = regexp.MustCompile(`补(?:开|办|上|讲)|补\s*(?:第|上个?|本|\d|[一二三四五六七八九十])`)
	// reAttWord is a word of attendance and a count: left unread, the attendance is asked.
	reAttWord = regexp.MustCompile(`(?:应到|实到|应出席|出席|到会|缺席|请假|到场|参会|参加|人数|来了|到了)\s*(?:会|委员|党员|同志)?\s*[:：]?\s*[\d一二三四五六七八九十百两]`)
	// reAttAny is any word about attendance; reCountLeft a head count.
	reAttAny    = regexp.MustCompile(`到会|参加|参会|出席|实到|应到|缺席|请假|到齐|到场|全部|都到|来了|到了`)
	reCountLeft = regexp.MustCompile(`\d+\s*(?:个人|人|名|位)`)
	// reTopicStop is an attendance after a topic, without a comma: 议题：… 实到5 应到5.
	reTopicStop = regexp.MustCompile(`(?:应到|实到|应出席|实际出席|缺席|请假|到会|参会)\s*[:：]?\s*\d`)
)

// ReadCheckin reads free text for a check-in (see above). ok is false when the text is not a
// check-in at all. now and loc give "today"; m names the obligations.
func ReadCheckin(text string, now time.Time, loc *time.Location, m *Matcher) (r Reading, ok bool) {
	loc = orUTC(loc)
	s := cnCounts(cnDates(foldKeepPunct(cleanKeepLines(text))))
	s = strings.ReplaceAll(s, "讲了党课", "讲党课") // 书记讲了党课 names 书记讲党课
	if strings.TrimFunc(s, isSpace) == "" {
		return Reading{}, false
	}
	r.Obligations = m.findAll(s)
	if len(r.Obligations) == 0 || reNotHeld.MatchString(s) || aboutThing(s, m) {
		return Reading{}, false
	}
	w := []byte(s) // the working copy: what is read is blanked out, offsets kept
	blank := func(i, j int) {
		for k := i; k < j; k++ {
			w[k] = ' '
		}
	}
	today := dayOf(now.In(loc))

	// The topic first: its words must not be read as a date or an attendance.
	topicAt := -1
	if lb := topicLabel(w); lb != nil {
		var end int
		r.Topic, end = labelledTopic(w, lb)
		topicAt = lb[0]
		blank(lb[0], end)
	}

	// A requested make-up period.
	if mm := reMakeUpMonth.FindSubmatchIndex(w); mm != nil && !digitAt(w, mm[1]) {
		month := monthNumber(string(w[mm[4]:mm[5]]))
		year := today.y
		if mm[2] >= 0 {
			year, _ = strconv.Atoi(string(w[mm[2]:mm[3]]))
		} else if time.Month(month) > today.m {
			year--
		}
		if month < 1 || month > 12 {
			r.unsure(FieldMakeUp, "command.ask.makeup_month", "month", strconv.Itoa(month))
		} else {
			r.MakeUp = health.Period{Rec: health.Monthly, Year: year, N: month}
		}
		blank(mm[0], mm[1])
	} else if mq := reMakeUpQuarter.FindSubmatchIndex(w); mq != nil {
		q := quarterNumber(string(w[mq[4]:mq[5]]))
		year := today.y
		if mq[2] >= 0 {
			year, _ = strconv.Atoi(string(w[mq[2]:mq[3]]))
		} else if q > (int(today.m)+2)/3 {
			year--
		}
		r.MakeUp = health.Period{Rec: health.Quarterly, Year: year, N: q}
		blank(mq[0], mq[1])
	} else if ma := reMakeUpAfter.FindSubmatchIndex(w); ma != nil {
		year := today.y
		if ma[2] >= 0 {
			year, _ = strconv.Atoi(string(w[ma[2]:ma[3]]))
		}
		if ma[4] >= 0 {
			month := monthNumber(string(w[ma[4]:ma[5]]))
			if ma[2] < 0 && time.Month(month) > today.m {
				year--
			}
			if month < 1 || month > 12 {
				r.unsure(FieldMakeUp, "command.ask.makeup_month", "month", strconv.Itoa(month))
			} else {
				r.MakeUp = health.Period{Rec: health.Monthly, Year: year, N: month}
			}
		} else {
			q := quarterNumber(string(w[ma[6]:ma[7]]))
			if ma[2] < 0 && q > (int(today.m)+2)/3 {
				year--
			}
			r.MakeUp = health.Period{Rec: health.Quarterly, Year: year, N: q}
		}
		blankMakeUp(blank, w, ma[0], ma[1])
	} else if ml := reMakeUpLast.FindIndex(w); ml != nil {
		last := civil{today.y, today.m - 1, 1}
		if last.m < time.January {
			last = civil{today.y - 1, time.December, 1}
		}
		r.MakeUp = health.Period{Rec: health.Monthly, Year: last.y, N: int(last.m)}
		blankMakeUp(blank, w, ml[0], ml[1])
	} else if lq := reMakeUpLastQuarter.FindIndex(w); lq != nil {
		q, year := (int(today.m)+2)/3-1, today.y
		if q < 1 {
			q, year = 4, year-1
		}
		r.MakeUp = health.Period{Rec: health.Quarterly, Year: year, N: q}
		blankMakeUp(blank, w, lq[0], lq[1])
	}

	// A 补 verb whose period was not read is asked: 补开 says some period is made up.
	if r.MakeUp == (health.Period{}) && !r.UnsureOf(FieldMakeUp) && reMakeUpVerb.Match(w) {
		r.unsure(FieldMakeUp, "command.ask.makeup_which")
	}

	// Times of day are dropped: 下午3点 is no day 3.
	for _, t := range reTimeOfDay.FindAllIndex(w, -1) {
		blank(t[0], t[1])
	}

	// Attendance in words: 应到9人 实到7人 缺席2人, in any order.
	total, present, absent := -1, -1, -1
	if ts := reTotal.FindAllSubmatch(w, -1); len(ts) > 1 {
		for _, x := range ts[1:] {
			if string(x[1]) != string(ts[0][1]) {
				// 支委会应到5人实到5人，党员大会应到30人实到28人: which is this check-in's?
				r.unsure(FieldAttendance, "command.ask.attendance_groups", "first", string(ts[0][1]), "second", string(x[1]))
				break
			}
		}
	}
	if o := reOfWhom.FindSubmatchIndex(w); o != nil && atoi(w[o[4]:o[5]]) <= atoi(w[o[2]:o[3]]) {
		total, present = atoi(w[o[2]:o[3]]), atoi(w[o[4]:o[5]])
		blank(o[0], o[1])
	}
	if total < 0 {
		if t := reTotal.FindSubmatchIndex(w); t != nil {
			total = atoi(w[t[2]:t[3]])
			blank(t[0], t[1])
		} else if t := reTotalAfter.FindSubmatchIndex(w); t != nil {
			total = atoi(w[t[2]:t[3]])
			blank(t[0], t[1])
		}
	}
	for _, p := range rePresent.FindAllSubmatchIndex(w, -1) {
		if present >= 0 {
			break
		}
		if p[0] >= 3 && string(w[p[0]-3:p[0]]) == "应" || slashAfter(w, p[1]) {
			continue // 应出席; 出席：7/9 is read below as an a/b
		}
		present = atoi(w[p[2]:p[3]])
		blank(p[0], p[1])
	}
	if present < 0 && total < 0 {
		if p := rePresentAll.FindSubmatchIndex(w); p != nil {
			total, present = atoi(w[p[2]:p[3]]), atoi(w[p[2]:p[3]]) // 全体党员21人参加
			blank(p[0], p[1])
		}
	}
	if present < 0 {
		if p := rePresentAfter.FindSubmatchIndex(w); p != nil && !slashAfter(w, p[1]) {
			present = atoi(w[p[2]:p[3]])
			blank(p[0], p[1])
		}
	}
	if total < 0 && present >= 0 {
		if t := reTotalOf.FindSubmatchIndex(w); t != nil && atoi(w[t[2]:t[3]]) >= present {
			total = atoi(w[t[2]:t[3]]) // 共有党员9名，到会8名
			blank(t[0], t[1])
		} else if reAllThere.MatchString(s) && !strings.Contains(s, "除") {
			total = present // 出勤5人，全部到齐
		}
	}
	if total < 0 && present < 0 && reAllThere.Match(w) && !strings.Contains(s, "除") {
		if c := reCountLeft.FindAllIndex(w, -1); len(c) == 1 {
			total = atoi(bytesDigits(w[c[0][0]:c[0][1]])) // 大家都来了 7人
			present = total
			blank(c[0][0], c[0][1])
		}
	}
	if total < 0 && present < 0 {
		if a := reAllCame.FindSubmatchIndex(w); a != nil {
			total = atoi(w[a[2]:a[3]])
			present = total
			blank(a[0], a[1])
		}
	}
	for _, a := range reAbsent.FindAllSubmatchIndex(w, -1) {
		absent = max(absent, 0) + max(atoi(w[a[2]:a[3]]), 0) // 缺席：无 is none
		blank(a[0], a[1])
	}
	if a := reNoneAbsent.FindIndex(w); a != nil && absent < 0 {
		absent = 0 // 无缺席
		blank(a[0], a[1])
	}
	for _, a := range reAbsentAfter.FindAllSubmatchIndex(w, -1) {
		absent = max(absent, 0) + atoi(w[a[2]:a[3]]) // 9人请假
		blank(a[0], a[1])
	}
	haveAtt := false
	switch {
	case total >= 0 && present >= 0:
		r.Present, r.Total, haveAtt = present, total, true
	case total >= 0 && absent >= 0:
		r.Present, r.Total, haveAtt = total-absent, total, true
	case present >= 0 && absent >= 0:
		r.Present, r.Total, haveAtt = present, present+absent, true
	case total >= 0:
		r.Total = total
		r.unsure(FieldAttendance, "command.ask.attendance_no_present", "total", strconv.Itoa(total))
	case present >= 0:
		r.Present = present
		r.unsure(FieldAttendance, "command.ask.attendance_no_total", "present", strconv.Itoa(present))
	}

	// Dates written in full.
	dr := &dateReader{r: &r, w: w, now: now, loc: loc, blank: blank}
	dr.readAll()
	bareWeek := reWeekBare.FindSubmatchIndex(w)

	// a/b: an attendance or a date.
	if severalAttendances(w, today) {
		// 分别是5/5和8/9: which is this check-in's?
		r.unsure(FieldAttendance, "command.ask.attendance_slashes")
	}
	for _, sl := range reSlash.FindAllSubmatchIndex(w, -1) {
		a, b := atoi(w[sl[2]:sl[3]]), atoi(w[sl[6]:sl[7]])
		tok := string(w[sl[0]:sl[1]])
		withPeople := sl[4] >= 0 || sl[8] >= 0
		canDate := !withPeople && a >= 1 && a <= 12 && b >= 1 && b <= 31
		canAtt := a <= b && b >= 1
		if canDate && canAtt && !recent(a, b, today) {
			canDate = false // 7/9 in late November: July is too long ago for a report
		}
		before := w[:sl[0]]
		asDate := false
		switch {
		case !canDate:
		case !canAtt && !haveAtt && !reDateHint.Match(before) && a <= maxPeople && (len(dr.dates) > 0 || bareWeek != nil):
			// 今天支委会 9/7: the date is written, so 9/7 is a mistyped attendance rather
			// than a second date. Asked.
			r.Present, r.Total, haveAtt = a, b, true
			r.unsure(FieldAttendance, "command.ask.attendance_or_date", attOrDate(tok, a, b)...)
			blank(sl[0], sl[1])
			continue
		case !canAtt:
			asDate = true
		case haveAtt && !recent(a, b, today):
			// 5/5 after the attendance was read: 5月5日 is too long ago to be written
			// bare. Asked.
			r.unsure(FieldDate, "command.ask.date_bare", "written", tok, "month", strconv.Itoa(a), "day", strconv.Itoa(b))
			blank(sl[0], sl[1])
			continue
		case haveAtt:
			asDate = true
		case reAttHint.Match(before):
		case reDateHint.Match(before):
			asDate = true
		case len(dr.dates) > 0 || bareWeek != nil:
		case attOnlyAfter(w, sl[1], today):
			asDate = true // 11/24开的 5/5: the other a/b is the attendance
		default:
			r.Present, r.Total, haveAtt = a, b, true
			r.unsure(FieldAttendance, "command.ask.attendance_or_date", attOrDate(tok, a, b)...)
			blank(sl[0], sl[1])
			continue
		}
		if asDate {
			dr.add(fmt.Sprintf("%d月%d日", a, b), sl[0], sl[1])
			continue
		}
		if !haveAtt && canAtt {
			r.Present, r.Total, haveAtt = a, b, true
		}
		blank(sl[0], sl[1])
	}
	if haveAtt && !r.UnsureOf(FieldAttendance) {
		switch {
		case r.Total < 1 || r.Total > maxPeople || r.Present < 0:
			r.unsure(FieldAttendance, "command.ask.attendance_absurd", "present", strconv.Itoa(r.Present), "total", strconv.Itoa(r.Total))
		case r.Present > r.Total:
			r.unsure(FieldAttendance, "command.ask.attendance_above", "present", strconv.Itoa(r.Present), "total", strconv.Itoa(r.Total))
		}
	}
	// A count next to an attendance word left unread (应到一百零二人), or a head count left
	// unread in a message about attendance (除1人外全部到会，共5名委员), is asked, not dropped.
	if !haveAtt && !r.UnsureOf(FieldAttendance) && (reAttWord.Match(w) || reAttAny.MatchString(s) && reCountLeft.Match(w)) {
		r.unsure(FieldAttendance, "command.ask.attendance_unread")
	}

	notYet := false // the one date written has not come this year: a plan, or a slip
	switch {
	case len(dr.dates) > 0:
		notYet = dr.take()
	case bareWeek != nil:
		r.unsure(FieldDate, "command.ask.weekday", "weekday", string(w[bareWeek[0]:bareWeek[1]]))
	case !r.UnsureOf(FieldDate) && reDateLeft.Match(w):
		r.unsure(FieldDate, "command.ask.date_unread")
	}
	if !r.DateWritten {
		r.Date = today.in(loc)
	}

	// Without a label, the clause that starts with 学习/传达 … is the topic.
	if r.Topic == "" && topicAt < 0 {
		r.Topic = colonTopic(s, w, m)
	}
	if r.Topic == "" && topicAt < 0 {
		for _, clause := range splitClauses(string(w)) {
			if v := reTopicVerb.FindStringIndex(clause); v != nil {
				if strings.TrimFunc(clause[v[1]:], isSpace) == "" && !strings.HasPrefix(clause[v[0]:], "去") && !strings.HasPrefix(clause[v[0]:], "到") {
					continue // 党小组学习: a verb with nothing to learn is no topic (去烈士陵园扫墓 is one)
				}
				if rest := clause[v[1]:]; isActivityOnly(rest, s, m) || reDuration.MatchString(rest) || reVerbOnly.MatchString(rest) {
					continue // 开展了主题党日, 学习了2个小时, 开展的: the activity, a duration or nothing, no topic
				}
				if strings.HasPrefix(clause[v[0]:], "讲") && (strings.TrimLeftFunc(clause, isSpace) != clause[v[0]:] || reLectureHeld.MatchString(clause[v[1]:])) {
					continue // 讲 opens a topic (讲党史) only as the clause's first word, not 讲了、讲党课
				}
				r.Topic, r.TopicToConfirm = trimTopic(clause[v[0]:]), true
				break
			}
		}
	}
	if r.Topic == "" && topicAt < 0 {
		r.Topic = compactTopic(s, w, m)
	}
	r.Topic = cutTopic(r.Topic)

	plan := notYet && !reSlash.MatchString(s) // a bare 12/5 is asked
	passing := len(r.Unsure) == 0 && (!r.DateWritten || reDateOf.MatchString(s))
	if !haveAtt && r.Topic == "" && r.MakeUp == (health.Period{}) &&
		(!reHeld.MatchString(s) && (passing || plan) || plan && !strings.ContainsAny(s, "了已过完")) {
		// An activity named in passing (今天的党课讲得真好), or a plan: 11月27日开党小组会,
		// 12月3日召开党员大会.
		return Reading{}, false
	}
	if r.Topic == "" && topicAt < 0 {
		if t := leftTopic(s, w, m); t != "" {
			r.Topic, r.TopicToConfirm = t, true // 5个人都到了，商量冬季防火: asked
		}
	}
	r.placeActivities(s, m)
	return r, true
}

// dateReader collects the dates a text names (blanking each in w), each day once, in the
// order read; a date that does not exist is asked.
type dateReader struct {
	r     *Reading
	w     []byte
	now   time.Time
	loc   *time.Location
	blank func(i, j int)
	dates []civil
	words []string // as written
}

func (d *dateReader) add(tok string, i, j int) {
	t, st := parseDate(tok, d.now, d.loc)
	d.blank(i, j)
	if st != goodDate {
		d.r.unsure(FieldDate, "command.ask.date_no_such_day", "date", quote(tok))
		return
	}
	c := dayOf(t)
	if !slices.Contains(d.dates, c) {
		d.dates, d.words = append(d.dates, c), append(d.words, strings.TrimFunc(tok, isSpace))
	}
}

// readAll reads the dates written in full, a day of last month, a day of this one, the
// relative days and the days of a named week.
func (d *dateReader) readAll() {
	w, today := d.w, dayOf(d.now.In(d.loc))
	for _, m := range reFullCJK.FindAllSubmatchIndex(w, -1) {
		d.add(string(w[m[2]:m[3]])+"年"+string(w[m[4]:m[5]])+"月"+string(w[m[6]:m[7]])+"日", m[0], m[1])
	}
	for _, m := range reFullNum.FindAllSubmatchIndex(w, -1) {
		if w[m[4]] == w[m[8]] {
			d.add(string(w[m[0]:m[1]]), m[0], m[1])
		}
	}
	for _, m := range reLastMonthDay.FindAllSubmatchIndex(w, -1) {
		last := today.m - 1
		if last < time.January {
			last = time.December
		}
		d.add(fmt.Sprintf("%d月%s日", last, w[m[2]:m[3]]), m[0], m[1])
	}
	for _, m := range reMonthDay.FindAllSubmatchIndex(w, -1) {
		d.add(string(w[m[2]:m[3]])+"月"+string(w[m[4]:m[5]])+"日", m[0], m[1])
	}
	for _, m := range reDotDash.FindAllSubmatchIndex(w, -1) {
		if digitAt(w, m[1]) || m[0] > 0 && (isDigit(w[m[0]-1]) || strings.IndexByte(".-/", w[m[0]-1]) >= 0) || m[1] < len(w) && strings.IndexByte(".-/", w[m[1]]) >= 0 {
			continue
		}
		d.add(string(w[m[0]:m[1]]), m[0], m[1])
	}
	for _, m := range reDayOnly.FindAllSubmatchIndex(w, -1) {
		if m[0] > 0 && isDigit(w[m[0]-1]) {
			continue
		}
		d.add(string(w[m[2]:m[3]])+"号", m[0], m[1])
	}
	for _, m := range reRelDay.FindAllIndex(w, -1) {
		tok := string(w[m[0]:m[1]])
		switch tok {
		case "今晚", "今早", "今儿", "今儿个":
			tok = "今天"
		case "昨晚", "昨儿", "昨儿个":
			tok = "昨天"
		case "前日", "前儿", "前儿个":
			tok = "前天"
		}
		d.add(tok, m[0], m[1])
	}
	for _, m := range reWeekRel.FindAllSubmatchIndex(w, -1) {
		d.add(string(w[m[2]:m[3]])+"周"+string(w[m[4]:m[5]]), m[0], m[1])
	}
}

// take sets the reading's date to the one date read and reports whether it has not come
// (a plan, or a slip); several dates, or one not come, are asked.
func (d *dateReader) take() (notYet bool) {
	r, today := d.r, dayOf(d.now.In(d.loc))
	if len(d.dates) > 1 {
		r.unsure(FieldDate, "command.ask.dates", "n", strconv.Itoa(len(d.dates)), "dates", strings.Join(d.words, "、"))
		return false
	}
	r.Date, r.DateWritten = d.dates[0].in(d.loc), true
	switch {
	case d.dates[0].after(today):
		r.unsure(FieldDate, "command.ask.date_not_come", "day", DayLabel(r.Date, d.now, d.loc))
		return true
	case d.dates[0].y < today.y && !reYear.MatchString(d.words[0]) && today.in(d.loc).Sub(r.Date) > staleDays*24*time.Hour:
		// 12月3日 written on 11月26日: this year's has not come, last year's is long
		// past; asked, not filed a year back.
		r.unsure(FieldDate, "command.ask.date_year", "date", quote(d.words[0]))
		return true
	}
	return false
}

// labelledTopic is the topic after the label w[lb[0]:lb[1]] (主题是…, 议题：…), up to the
// end of its clause or the next field, and where it ends in w.
func labelledTopic(w []byte, lb []int) (string, int) {
	end := len(w)
	if h := reHardStop.FindIndex(w[lb[1]:]); h != nil {
		end = lb[1] + h[0]
	}
	if n := reNextLabel.FindIndex(w[lb[1]:end]); n != nil {
		end = lb[1] + n[0]
	}
	end = lb[1] + fieldClause(string(w[lb[1]:end]))
	if n := reTopicStop.FindIndex(w[lb[1]:end]); n != nil {
		end = lb[1] + n[0]
	}
	return trimTopic(string(w[lb[1]:end])), end
}

// reNoTopic is a clause that says how it went, not what it was about: 大家发言积极,
// 效果很好, 会议由书记主持, 书记讲的, 补录一下.
var reNoTopic = regexp.MustCompile(`书记|讲的|主讲|授课|讲课|来讲|这个月|上个月|本月|补录|一下$|差不多|全到|到齐|都到|主持|记录|发言|效果|气氛|积极|热烈|很好|不错|顺利|圆满|认真|照片|签到|拍照|村部|会议室|活动室|服务中心|地点|在.{0,6}(?:开|召开|举行)|一起(?:开|召开|举行|搞)|开的|开了|结束|完成|参加(?:了|$)|到了|来了|[了吧啊呀哈嘛]$`)

// leftTopic is the one clause of s nothing else was read in (5个人都到了，商量冬季防火):
// a topic written without a label or a verb of the list, to be confirmed; "" when there
// is none or several.
func leftTopic(s string, w []byte, m *Matcher) string {
	topic, at := "", 0
	for _, clause := range splitClauses(s) {
		i := at + strings.Index(s[at:], clause)
		at = i + len(clause)
		c := strings.TrimFunc(clause, isSpace)
		if c == "" || string(w[i:at]) != clause {
			continue // a field was read in it
		}
		n := utf8.RuneCountInString(c)
		if n < 4 || n > MaxTopicRunes || len(m.named(c)) > 0 || reNoTopic.MatchString(c) ||
			strings.ContainsAny(c, "0123456789") || reDateLeft.MatchString(c) || reAttAny.MatchString(c) && !reJoinWhat.MatchString(c) ||
			reHeld.MatchString(c) && !reHeldOf.MatchString(c) {
			continue
		}
		if topic != "" {
			return ""
		}
		topic = trimTopic(reTopicWho.ReplaceAllString(c, ""))
	}
	return topic
}

// reTopicWho opens a clause with who did it, not what: 带着党员去敬老院包饺子,
// 党员们给村小学捐了图书, 党员和群众一起…, 会议对…, 议了一下….
var reTopicWho = regexp.MustCompile(`^\s*(?:(?:(?:带着|带领|组织)(?:全体)?(?:党员|群众)们?|(?:全体)?党员们|党员(?:和|与|及)群众|大家|同志们)(?:一起)?|会议|会上|(?:议|商量|商议|说|聊|碰)了?一下)`)

// reJoinWhat is 参加 with what was joined, not who came: 组织党员参加村里环境整治.
var reJoinWhat = regexp.MustCompile(`^\s*(?:组织|带领)?(?:全体)?党员参加[^了的，,。\s]{3,}$`)

// reHeldOf is a held verb with its object before it, in a clause that says what was
// done: 对预备党员转正进行了表决.
var reHeldOf = regexp.MustCompile(`^\s*(?:会议|会上)?\s*(?:对|就|围绕|把)[^，,。]{2,}进行了`)

// blankMakeUp blanks a make-up w[i:j] read: when the period comes before the 补
// (第三季度党课已于11月23日补讲), only the period and the 补 verb, so that the words
// between them (a date) are still read.
func blankMakeUp(blank func(i, j int), w []byte, i, j int) {
	m := string(w[i:j])
	if strings.HasPrefix(m, "补") {
		blank(i, j)
		return
	}
	end := strings.Index(m, "季度")
	if k := strings.Index(m, "的"); k >= 0 && (end < 0 || k < end) {
		end = k + len("的")
	} else if end >= 0 {
		end += len("季度")
	} else {
		end = len(m)
	}
	blank(i, i+end)
	blank(j-len("补讲"), j) // 补 and its verb: two three-byte runes
}

// colonTopic is what follows an activity's name and a colon, up to the clause's end
// (今天的主题党日：到敬老院开展志愿服务); "" when none, or when it was read as another field.
func colonTopic(s string, w []byte, m *Matcher) string {
	low := strings.ToLower(s)
	for _, n := range m.named(s) {
		rest := strings.TrimPrefix(low[n.end:], "活动")
		at := len(low) - len(rest)
		for _, c := range []string{"：", ":"} {
			if strings.HasPrefix(rest, c) {
				at += len(c)
				end := at
				for end < len(w) && !strings.ContainsRune("，,。；;！!\n", rune(w[end])) && !strings.HasPrefix(string(w[end:]), "，") && !strings.HasPrefix(string(w[end:]), "。") && !strings.HasPrefix(string(w[end:]), "；") {
					end++
				}
				// 谈心谈话：书记和每名党员都谈了 says it was done, it names no topic.
				if t := string(w[at:end]); t == s[at:end] && !reNextLabel.MatchString(s[n.end:end]) && !strings.Contains(t, "了") {
					return trimTopic(t + moreClauses(s[end:], w[end:], m))
				}
				return ""
			}
		}
	}
	return ""
}

// moreClauses is what continues a topic after a comma (主题党日：重温入党誓词，观看红色电影):
// the comma-separated clauses at the start of s that nothing was read in and that name no
// other field or activity.
func moreClauses(s string, w []byte, m *Matcher) string {
	end := 0
	for {
		rest := s[end:]
		sep := ""
		for _, c := range []string{"，", ","} {
			if strings.HasPrefix(rest, c) {
				sep = c
			}
		}
		if sep == "" {
			return s[:end]
		}
		next := len(rest)
		if i := strings.IndexAny(rest[len(sep):], "，,。；;！!\n"); i >= 0 {
			next = len(sep) + i
		}
		clause := rest[len(sep):next]
		if strings.TrimFunc(clause, isSpace) == "" || string(w[end+len(sep):end+next]) != clause ||
			reField.MatchString(clause) || reAttAny.MatchString(clause) || len(m.named(clause)) > 0 || reNoTopic.MatchString(clause) {
			return s[:end]
		}
		end += next
	}
}

// isActivityOnly reports whether rest ends with an activity's name (and 活动) and names
// every activity of the message all: the object of 开展了主题党日 or 开展了党员志愿服务主题党日
// is the activity reported. (选举产生了新一届支委 in a 党员大会's message is its topic.)
func isActivityOnly(rest, all string, m *Matcher) bool {
	ns := m.named(rest)
	if len(ns) == 0 || strings.TrimFunc(strings.TrimPrefix(strings.TrimFunc(rest[ns[len(ns)-1].end:], isSpace), "活动"), isSpace) != "" {
		return false
	}
	in := m.findAll(rest)
	for _, code := range m.findAll(all) {
		if !contains(in, code) {
			return false
		}
	}
	return true
}

// attOrDate are the values of the question whether a/b (written tok) is an attendance or
// a date.
func attOrDate(tok string, a, b int) []string {
	return []string{"written", tok, "present", strconv.Itoa(a), "total", strconv.Itoa(b), "month", strconv.Itoa(a), "day", strconv.Itoa(b)}
}

// reVerbOnly follows a verb that has no object: 11月15日开展的.
var reVerbOnly = regexp.MustCompile(`^\s*(?:的|了|过)+\s*$`)

// reDuration is how long, not what: 学习了2个小时.
var reDuration = regexp.MustCompile(`^了?\s*(?:\d+|半)\s*个?(?:多)?(?:小时|钟头|分钟|天)`)

// attOnlyAfter reports whether an a/b after w[:i] can only be an attendance.
func attOnlyAfter(w []byte, i int, today civil) bool {
	for _, sl := range reSlash.FindAllSubmatchIndex(w[i:], -1) {
		a, b := atoi(w[i+sl[2]:i+sl[3]]), atoi(w[i+sl[6]:i+sl[7]])
		if a <= b && !(a >= 1 && a <= 12 && b >= 1 && b <= 31 && recent(a, b, today)) {
			return true
		}
	}
	return false
}

// severalAttendances reports whether w holds two different a/b that can only be
// attendances (neither a recent date): 分别是5/5和8/9.
func severalAttendances(w []byte, today civil) bool {
	var first string
	for _, sl := range reSlash.FindAllSubmatchIndex(w, -1) {
		a, b := atoi(w[sl[2]:sl[3]]), atoi(w[sl[6]:sl[7]])
		if a > b || a >= 1 && a <= 12 && b >= 1 && b <= 31 && recent(a, b, today) {
			continue
		}
		tok := fmt.Sprintf("%d/%d", a, b)
		if first == "" {
			first = tok
		} else if tok != first {
			return true
		}
	}
	return false
}

// compactTopic is the topic of a message written like the command, words apart and no
// punctuation (11月26日 主题党日 志愿服务 18/20): the one word left whole after the
// activities, date and attendance were read; "" when none or several.
func compactTopic(s string, w []byte, m *Matcher) string {
	if strings.ContainsAny(s, "，,。；;：:！!？?、\n") {
		return ""
	}
	words := strings.FieldsFunc(s, isSpace)
	if len(words) < 3 {
		return ""
	}
	topic, at := "", 0
	for _, word := range words {
		i := at + strings.Index(s[at:], word)
		at = i + len(word)
		if string(w[i:at]) != word || len(m.named(word)) > 0 || reWeekBare.MatchString(word) || strings.ContainsAny(word, "0123456789%") {
			continue // read as another field, an activity, or the weekday of the date
		}
		if topic != "" {
			return ""
		}
		topic = word
	}
	return topic
}

// reLectureHeld follows a 讲 that says the lecture was held, not its subject.
var reLectureHeld = regexp.MustCompile(`^(?:了|的|得|课|党课|完|过|人)`)

// reThing is a thing an activity's name may qualify: 党小组会材料, 支委会的记录.
var reThing = regexp.MustCompile(`^(?:活动)?(?:的(?:议题|议程|时间|地点)|的?(?:材料|记录本|照片|签到表|签到本|方案|通知|表格|课件|讲稿|模板|本子|笔记|票数|资料|会议记录))`)

// aboutThing reports whether every place s names an activity names it as the owner of a
// thing (党小组会材料我放你桌上了): the message is about the thing, not a report.
func aboutThing(s string, m *Matcher) bool {
	ns := m.named(s)
	low := strings.ToLower(s)
	for _, n := range ns {
		if !reThing.MatchString(low[n.end:]) {
			return false
		}
	}
	return len(ns) > 0
}

// reDateOf is a date that qualifies the activity named after it: 今天的党课, 20号的支委会.
var reDateOf = regexp.MustCompile(`(?:今天|今日|今晚|昨天|昨日|昨晚|前天|[日号])的`)

// reYear finds a year written in a date.
var reYear = regexp.MustCompile(`\d{4}`)

// staleDays is how far back a date without a year may resolve into the
// previous year before it is asked: 12月20日 on 1月5日 is last December, 12月3日
// on 11月26日 most likely a slip.
const staleDays = 92

// DayLabel writes a day as people do: 11月20日 this year, 2025年11月20日 another.
func DayLabel(d, now time.Time, loc *time.Location) string {
	loc = orUTC(loc)
	c, t := dayOf(d.In(loc)), dayOf(now.In(loc))
	if c.y != t.y {
		return fmt.Sprintf("%d年%d月%d日", c.y, c.m, c.d)
	}
	return fmt.Sprintf("%d月%d日", c.m, c.d)
}

// CheckinCommand is the check-in command that records r: what the 修改 button offers to
// edit and send, e.g. "打卡 支委会+党课 11月20日 7/9 学习全会精神".
func CheckinCommand(r Reading, now time.Time, loc *time.Location, m *Matcher) string {
	words := make([]string, 0, len(r.Obligations))
	for _, code := range r.Obligations {
		words = append(words, m.WordOf(code))
	}
	parts := []string{"打卡", strings.Join(words, "+")}
	if r.MakeUp.Valid() {
		parts = append(parts, "补开"+r.MakeUp.Label())
	}
	parts = append(parts, DayLabel(r.Date, now, loc))
	if r.Total > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d", r.Present, r.Total))
	}
	if r.Topic != "" {
		parts = append(parts, r.Topic)
	}
	return strings.Join(parts, " ")
}

// topicLabel finds 主题/议题/内容 … (not the 主题 of 主题党日); nil when none.
func topicLabel(w []byte) []int {
	for _, lb := range reTopicLabel.FindAllIndex(w, -1) {
		if !strings.HasPrefix(string(w[lb[0]:]), "主题党日") {
			return lb
		}
	}
	return nil
}

// reField finds a clause that holds another field (attendance, a date, a time).
var reField = regexp.MustCompile(`应到|实到|出席|到会|缺席|请假|(?:来了|到了|参加|到场|参会)\s*\d|\d+\s*(?:个人|个|人|名|位)|\d+\s*(?:人|名)?\s*[/／]\s*\d+|\d+\s*月\s*\d+|\d+\s*[日号]|今天|昨天|前天|上周|本周|\d+\s*点`)

// fieldClause is the length of s up to the first comma-separated clause that holds
// another field: where the topic ends.
func fieldClause(s string) int {
	at := 0
	for {
		i := strings.IndexAny(s[at:], ",，")
		clause := s[at:]
		if i >= 0 {
			clause = s[at : at+i]
		}
		if at > 0 && reField.MatchString(clause) {
			return at
		}
		if i < 0 {
			return len(s)
		}
		_, n := utf8.DecodeRuneInString(s[at+i:])
		at += i + n
	}
}

// recent reports whether month a, day b (this year or last) lies within 45 days before
// today or one day after it: a date a bare a/b could well mean.
func recent(a, b int, today civil) bool {
	c := civil{today.y, time.Month(a), b}
	if c.after(today.addDays(1)) {
		c.y--
	}
	t := time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC)
	n := time.Date(today.y, today.m, today.d, 12, 0, 0, 0, time.UTC)
	return n.Sub(t) <= 45*24*time.Hour
}

func splitClauses(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune("，,。；;！!\n、", r)
	})
}

// trimTopic drops the separators and spaces around a topic and the clauses after it that
// were read as other fields (they are blank by now).
func trimTopic(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '，' || r == ',' })
	var keep []string
	for _, p := range parts {
		if p = strings.TrimFunc(p, isSpace); p == "" {
			break
		}
		keep = append(keep, p)
	}
	out := strings.Join(keep, "，")
	out = strings.TrimFunc(out, func(r rune) bool {
		return isSpace(r) || unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == '\ufe0f' || strings.ContainsRune("，,。、:：;；“”\"'《》【】", r) && r != '《' && r != '》'
	})
	return strings.Join(strings.FieldsFunc(out, isSpace), " ")
}

// slashAfter reports whether a slash follows w[:i], past white space.
// slashAfter reports whether a slash and a number follow w[:i], past white
// space: 出席：7/9 is an a/b, 实到6人/应到7人 two fields.
func slashAfter(w []byte, i int) bool {
	rest := strings.TrimLeft(string(w[i:]), " ")
	rest, ok := strings.CutPrefix(rest, "/")
	if !ok {
		rest, ok = strings.CutPrefix(rest, "／")
	}
	rest = strings.TrimLeft(rest, " ")
	return ok && rest != "" && isDigit(rest[0])
}

// cnDigits are the Chinese numerals of months and days.
var cnDigits = map[rune]int{'一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// cnNumber reads a Chinese numeral from 一 to 三十九 (十一, 二十, 二十六); -1 otherwise.
func cnNumber(s string) int {
	r := []rune(s)
	switch {
	case len(r) == 1 && r[0] == '十':
		return 10
	case len(r) == 1:
		if n, ok := cnDigits[r[0]]; ok {
			return n
		}
	case len(r) == 2 && r[0] == '十':
		if n, ok := cnDigits[r[1]]; ok {
			return 10 + n
		}
	case len(r) == 2 && r[1] == '十':
		if n, ok := cnDigits[r[0]]; ok {
			return 10 * n
		}
	case len(r) == 3 && r[1] == '十':
		a, ok1 := cnDigits[r[0]]
		b, ok2 := cnDigits[r[2]]
		if ok1 && ok2 {
			return 10*a + b
		}
	}
	return -1
}

// cnDates rewrites month-and-day dates in Chinese numerals (十一月二十日) in digits.
func cnDates(s string) string {
	return reCNDate.ReplaceAllStringFunc(s, func(d string) string {
		sm := reCNDate.FindStringSubmatch(d)
		m, day := monthNumber(sm[1]), monthNumber(sm[2]) // 十一月二十日, 11月二十日
		if m < 1 || m > 12 || day < 1 || day > 31 {
			return d
		}
		return fmt.Sprintf("%d月%d日", m, day)
	})
}

// reCNCount is a head count written in Chinese numerals: 五人, 二十八名, 两个.
var reCNCount = regexp.MustCompile(`([一二三四五六七八九十两]{1,3})(个人|人|名|位|个)`)

// cnCounts rewrites head counts in Chinese numerals (应到五人) in digits, so that
// they are read as attendance rather than lost.
func cnCounts(s string) string {
	return reCNCount.ReplaceAllStringFunc(s, func(c string) string {
		sm := reCNCount.FindStringSubmatch(c)
		n := cnNumber(strings.ReplaceAll(sm[1], "两", "二"))
		if n < 0 {
			return c
		}
		return strconv.Itoa(n) + sm[2]
	})
}

// monthNumber reads a month written in digits or Chinese numerals; -1 otherwise.
func monthNumber(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return cnNumber(s)
}

// bytesDigits is the digits of b: 7 of "7人".
func bytesDigits(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if isDigit(c) {
			out = append(out, c)
		}
	}
	return out
}

func digitAt(w []byte, i int) bool { return i < len(w) && isDigit(w[i]) }

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func atoi(b []byte) int {
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return -1
	}
	return n
}

func quarterNumber(s string) int {
	switch s {
	case "一", "1":
		return 1
	case "二", "2":
		return 2
	case "三", "3":
		return 3
	}
	return 4
}

// findAll returns the obligations whose names or aliases occur in s, in order of first
// occurrence; at each place the longest word wins.
func (m *Matcher) findAll(s string) []string {
	var out []string
	for _, n := range m.named(s) {
		if !contains(out, n.code) {
			out = append(out, n.code)
		}
	}
	return out
}

// naming is one place an obligation is named: s[at:end].
type naming struct {
	code    string
	at, end int
}

// named lists every place s names an obligation, in order; at each place the
// longest word wins.
func (m *Matcher) named(s string) []naming {
	s = strings.ToLower(s)
	var out []naming
	for i := 0; i < len(s); {
		hit := ""
		for _, t := range m.terms {
			if strings.HasPrefix(s[i:], t) {
				hit = t
				break
			}
		}
		if hit == "" {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		out = append(out, naming{m.index[hit], i, i + len(hit)})
		i += len(hit)
	}
	return out
}

// reApart says activities were held at different times: 分别开了, 分别于.
var reApart = regexp.MustCompile(`分别(?:开|召开|于|在|举行|举办)`)

// reJoin is what joins activities held in one sitting: 支委会和党课, 党员大会暨党课.
var reJoin = regexp.MustCompile(`^(?:和|与|及|以及|暨|、|\+|，|,|跟|同|加|及其)?$`)

// placeActivities drops the activities named only inside the topic (议题：研究党费收缴工作
// names no 党费收缴) and asks when the activities left are not written as one sitting
// (支委会和党课) but apart (党员大会 … 选举产生了新一届支委).
func (r *Reading) placeActivities(s string, m *Matcher) {
	ns := m.named(s)
	if r.Topic != "" {
		if i := strings.Index(strings.ToLower(s), strings.ToLower(r.Topic)); i >= 0 {
			var out []naming
			for _, n := range ns {
				if n.at < i || n.end > i+len(r.Topic) {
					out = append(out, n)
				}
			}
			if len(out) > 0 {
				ns = out
			}
		}
	}
	var codes []string
	for _, n := range ns {
		if !contains(codes, n.code) {
			codes = append(codes, n.code)
		}
	}
	r.Obligations = codes
	apart := reApart.MatchString(s) // 分别开了支委会和党员大会: joined, but not one sitting
	for k := 1; k < len(ns); k++ {
		prev, n := ns[k-1], ns[k]
		if prev.code == n.code {
			continue
		}
		if gap := strings.TrimFunc(s[prev.end:n.at], isSpace); apart || !reJoin.MatchString(gap) {
			names := make([]string, len(codes))
			for i, c := range codes {
				names[i] = m.WordOf(c)
			}
			r.unsure(FieldActivity, "command.ask.activity", "names", strings.Join(names, "、"), "joined", strings.Join(names, "和"))
			return
		}
	}
}

// WordOf is the word an obligation is offered by ("支委会"); the code when unknown.
func (m *Matcher) WordOf(code string) string {
	if w, ok := m.words[code]; ok {
		return w
	}
	return code
}

// sortTerms orders the matcher's names and aliases longest first.
func sortTerms(terms []string) {
	sort.SliceStable(terms, func(i, j int) bool { return len(terms[i]) > len(terms[j]) })
}
