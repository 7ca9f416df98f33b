package command

import (
	"regexp"
	"slices"
	"strings"

	"github.com/zhibu/zhibu/domain/points"
)

// ClaimReading is what a villager's free text claims: one item (Item), several that it may
// be (Candidates, best first) — never both.
type ClaimReading struct {
	Item       *points.Item
	Candidates []points.Item
	// Note is the message as written, cleaned: the claim's description.
	Note string
}

// describe maps how villagers describe a deed to the words of the catalogue (names and
// aliases of the default catalogue). A strong rule names the deed by whom it helped (帮五保户
// 扫雪 is 帮扶, whatever the chore): when one matches, the weak rules are not used.
var describe = []struct {
	re     *regexp.Regexp
	word   string
	strong bool
}{
	{regexp.MustCompile(`帮(?:助|忙|着)?.{0,6}(?:五保户|孤寡|困难户|困难群众|低保户|贫困户|留守|残疾|独居|空巢)`), "帮扶", true},
	{regexp.MustCompile(`照顾.{0,4}(?:五保户|孤寡|留守|独居老人|空巢)`), "帮扶", true},
	{regexp.MustCompile(`五保户|困难户|低保户|贫困户`), "帮扶", false}, // 带领贫困户养牛: 帮扶 too, asked
	{regexp.MustCompile(`给.{0,6}(?:五保户|孤寡|留守|独居老人|空巢|困难户).{0,4}(?:送|做|买|修|洗)`), "帮扶", true},
	{regexp.MustCompile(`(?:禁烧|防火).{0,6}值守|值守.{0,6}(?:禁烧|防火)`), "禁烧", true},
	{regexp.MustCompile(`签(?:订|署)?了?.{0,8}承诺`), "安全承诺", true}, // 签了防火安全承诺书: the pledge, not the fire watch
	{regexp.MustCompile(`[扫铲除清].{0,8}雪|雪.{0,3}[扫铲清]`), "清雪", false},
	{regexp.MustCompile(`当兵|参军|入伍|应征`), "参军", false},
	{regexp.MustCompile(`考上|考取|录取`), "考上大学", false},
	{regexp.MustCompile(`巡夜|站岗|守夜|夜巡|站了?.{0,4}岗`), "巡逻", false},
	{regexp.MustCompile(`劝和|劝架|劝开|劝解|调解|矛盾|吵架`), "调解", false},
	{regexp.MustCompile(`捡到|拾到|归还失主|还给失主`), "捡到", false},
	{regexp.MustCompile(`献了?.{0,8}血`), "献血", false},
	{regexp.MustCompile(`院子.{0,4}(?:打扫|收拾|干净)|(?:打扫|收拾).{0,4}院子`), "庭院", false},
	{regexp.MustCompile(`厕所.{0,4}改|改.{0,4}厕|旱厕.{0,2}改`), "改厕", false},
	{regexp.MustCompile(`发现.{0,10}(?:裂缝|隐患|险情|漏电|塌方|危房)|发现[^。！!]{0,16}报告`), "隐患", false},
	{regexp.MustCompile(`[种栽]了?.{0,4}树`), "植树", false},
	{regexp.MustCompile(`认养`), "绿化", false},
	{regexp.MustCompile(`(?:被评为|荣获|获得|评上).{0,4}(?:县|市|省|国家)级?|(?:县|市|省|国家)(?:里|级)?.{0,2}评为|(?:被|受到|受).{0,6}表彰|表彰为`), "表彰", false},
	{regexp.MustCompile(`带动.{0,16}就业`), "带动就业", false},
	{regexp.MustCompile(`带(?:领|动|着).{0,10}(?:致富|增收|收入|养殖|种植|养|种)|带(?:领|动|着)了?.{0,4}(?:村民|户|群众|乡亲|全村|大家)`), "带头致富", false},
	{regexp.MustCompile(`(?:房前屋后|屋前屋后).{0,6}(?:打扫|清扫|收拾|干净|整洁)`), "门前", false},
	{regexp.MustCompile(`(?:房前屋后|屋前屋后).{0,6}(?:打扫|清扫|收拾|干净|整洁)`), "庭院", false},
	{regexp.MustCompile(`(?:没|不|未|拒绝)有?(?:大操大办|收彩礼|要彩礼|高价彩礼)|一切从简|从简(?:办|操办)|(?:没|不|未)(?:摆|办)酒席`), "简办", false},
	{regexp.MustCompile(`垃圾.{0,6}分类|分类投放`), "垃圾分类", false},
	{regexp.MustCompile(`修.{0,6}(?:路|渠|桥|沟)|出了?.{0,4}(?:义务)?工|铺路|清理路面|打扫村道|义务劳动|出义务工|(?:清理|清扫|清运|疏通)了?.{0,6}(?:村口|村道|街道|垃圾|沟|渠|河道)`), "义务劳动", false},
	{regexp.MustCompile(`(?:门口|门前).{0,6}(?:打扫|清扫|扫)|(?:打扫|清扫).{0,4}(?:门口|门前)`), "门前三包", false},
	{regexp.MustCompile(`捐`), "捐款", true},
	{regexp.MustCompile(`志愿者|做志愿|当志愿`), "志愿", false},
	{regexp.MustCompile(`救了|救起|救人|救出|救上|救回|救下|勇救`), "见义勇为", false},
	{regexp.MustCompile(`(?:安装|装了|下载|下了).{0,8}反诈.{0,4}[Aa][Pp][Pp]`), "反诈软件", false},
	{regexp.MustCompile(`(?:照顾|伺候|照料).{0,6}(?:婆婆|公公|父母|父亲|母亲|老人|奶奶|爷爷|老伴|丈夫|妻子|公婆|岳父|岳母)|(?:婆婆|公公|父母|父亲|母亲|老人|奶奶|爷爷|老伴|丈夫|妻子|公婆|岳父|岳母).{0,10}(?:照顾|伺候|照料)|给.{0,8}(?:婆婆|公公|父母|父亲|母亲|奶奶|爷爷|老伴|公婆).{0,4}(?:喂|送|做|洗|擦|端)|孝敬|孝顺`), "孝老", false},
}

// reNotDeed marks chatter about a deed rather than a claim: plans, questions, thanks.
var reNotDeed = regexp.MustCompile(`明天|明日|后天|下周|下星期|将于|准备|打算|要去|记得|别忘|通知|请大家|请各位|吗|呢|谁|几点|几时|哪里|在哪|要评|评比|结果出来|集合|报名|大家(?:收拾|注意|准备|抓紧|积极|踊跃)|[?？]|辛苦|谢谢|感谢|恭喜|祝贺|加油|注意|禁止|不要|不准|严禁|没人|没有人|不管|什么|怎么|怎样|商量|再说|推迟|改期|延期|取消|(?:^|[^投])放(?:在|到)|搁在|定在|改在|在(?:周|星期|礼拜)[一二三四五六日天]|各户|各家|每户|(?:要|得|应该|必须)(?:把|照顾|注意|做好|管好|看好|搞好|及时)`)

// reDeed says the sender did something; reWeakDeed only that the message is about
// the sender (我, 今年, 义务): an item matched on such a message alone is offered as a
// candidate to confirm, not taken (义务劳动的工具在村部 is no deed).
var (
	reDeed     = regexp.MustCompile(`今天|今日|今早|今晚|昨天|昨日|昨晚|前天|刚才|刚刚|上午|下午|晚上|了|帮|参加|参与|去|捐|照顾|伺候|照料|被评为|被.{0,4}评为|被.{0,6}表彰|受到.{0,4}表彰|值班|当了?志愿|做志愿|勇救|每天|天天|一直|经常|搞得|做得|做到|按要求|按规定|一切从简|从简办|没(?:摆|办)酒席|获得|荣获|发现|救|简办|打扫|收拾|带动|带领|完成|落实|到位|达标|申请|拾到|捡到|归还|考上|应征|参军|入伍|当兵|认养`)
	reWeakDeed = regexp.MustCompile(`义务|我|今年`)
	// reDeedTime is a time of a deed: 昨晚, 今天.
	reDeedTime = regexp.MustCompile(`今天|今日|今早|今晚|昨天|昨日|昨晚|前天|刚才|刚刚|上午|下午|晚上|每天|天天`)
	// reOrg follows an item's word that names a team or place: 志愿服务队, 献血站.
	reOrg = regexp.MustCompile(`^(?:者|员)?(?:服务)?(?:队|站|车)`)
	// reThirdParty opens a message about another household (老李家的孩子考上大学了):
	// the item is asked, not claimed for the sender.
	reThirdParty = regexp.MustCompile(`^(?:老.|小.|.{1,2}大爷|.{1,2}大娘|.{1,2}婶|邻居|隔壁|他|她|别人|人家)家`)
	// reDeedVerb is a verb of doing among the deed words.
	reDeedVerb = regexp.MustCompile(`帮|参加|参与|去|捐|照顾|伺候|照料|被评为|被.{0,4}评为|被.{0,6}表彰|受到.{0,4}表彰|值班|当了?志愿|做志愿|获得|荣获|发现|救|简办|打扫|清扫|清理|收拾|带动|带领|完成|落实|申请|拾到|捡到|归还|考上|应征|认养`)
)

// ReadClaim reads a villager's free text for a claim over the claimable items. ok is false
// when the text names no item or is not a claim (a plan, a question, thanks).
func ReadClaim(items []points.Item, text string) (ClaimReading, bool) {
	s := strings.Join(strings.FieldsFunc(fold(clean(text)), isSpace), " ")
	if s == "" || reNotDeed.MatchString(s) {
		return ClaimReading{}, false
	}
	deed := reDeed.MatchString(s) && !reThirdParty.MatchString(s)
	var strong, weak []string
	for _, d := range describe {
		if d.re.MatchString(s) {
			if d.strong {
				deed = true // 给独居老人送饭 describes a deed by itself
				strong = append(strong, d.word)
			} else {
				weak = append(weak, d.word)
			}
		}
	}
	if !deed && !reWeakDeed.MatchString(s) {
		return ClaimReading{}, false
	}
	query := s
	switch {
	case len(strong) > 0:
		query = strings.Join(strong, " ")
	case len(weak) > 0:
		query = s + " " + strings.Join(weak, " ")
	}
	res := points.Match(points.Claimable(items), query)
	if len(strong) == 0 {
		// Description words pointing at different items (评为优秀志愿者: 表彰 and 志愿)
		// are offered, not settled by scores.
		var pointed []points.Item
		for _, w := range weak {
			if r := points.Match(points.Claimable(items), w); r.Exact != nil && !slices.ContainsFunc(pointed, func(it points.Item) bool { return it.Code == r.Exact.Code }) {
				pointed = append(pointed, *r.Exact)
			}
		}
		if len(pointed) > 1 {
			return ClaimReading{Candidates: pointed, Note: s}, true
		}
	}
	if len(strong) == 0 && len(weak) > 0 && res.Exact != nil {
		// A description's word must not overrule an item the text names itself
		// (志愿服务队清理垃圾 names 志愿服务): both are offered, unless the description
		// refines the word named (反诈 in 装了反诈APP, read as 反诈软件).
		if own := points.Match(points.Claimable(items), s); own.Exact != nil && own.Exact.Code != res.Exact.Code && !refines(weak, *own.Exact) {
			return ClaimReading{Candidates: []points.Item{*own.Exact, *res.Exact}, Note: s}, true
		}
	}
	if res.Exact != nil && !reDeedVerb.MatchString(s) && !reDeedTime.MatchString(s) && names(s, *res.Exact, reOrg) {
		return ClaimReading{}, false // 志愿服务队招新了: about the team, not a deed
	}
	if res.Exact != nil && qualifies(s, *res.Exact, append(weak, strong...)) {
		// 志愿者服务队的衣服到了: the item's word names a thing. No claim without a
		// verb of doing; with one, asked.
		if !reDeedVerb.MatchString(s) {
			return ClaimReading{}, false
		}
		deed = false
	}
	switch {
	case res.Exact != nil && !deed:
		return ClaimReading{Candidates: []points.Item{*res.Exact}, Note: s}, true
	case res.Exact != nil:
		return ClaimReading{Item: res.Exact, Note: s}, true
	case len(res.Candidates) > 0:
		return ClaimReading{Candidates: res.Candidates, Note: s}, true
	}
	return ClaimReading{}, false
}

// refines reports whether one of the description words holds a name or alias of it:
// 反诈软件 refines 反诈.
func refines(words []string, it points.Item) bool {
	for _, w := range words {
		for _, t := range append([]string{it.Name}, it.Aliases...) {
			if t != "" && t != w && strings.Contains(w, t) {
				return true
			}
		}
	}
	return false
}

// reOwnerOf follows a word used to qualify a thing: 志愿者服务队的…, 献血车.
var reOwnerOf = regexp.MustCompile(`^者?(?:服务)?(?:队|站|车|点|活动)?(?:的[^\d，,。！!？?\s了]|名单|通知|时间|方案|材料|照片|表格|证|箱)`)

// qualifies reports whether the text uses a name or alias of it, or a description word,
// only to qualify something (志愿者服务队的衣服).
func qualifies(s string, it points.Item, words []string) bool {
	found := false
	for _, t := range append(append([]string{it.Name}, it.Aliases...), words...) {
		if reDeedVerb.FindString(t) == t {
			continue // 捡到的钱包交到了村委会: a deed's verb before 的 describes the deed
		}
		for at := 0; t != ""; {
			i := strings.Index(s[at:], t)
			if i < 0 {
				break
			}
			at += i + len(t)
			if !reOwnerOf.MatchString(s[at:]) {
				return false
			}
			found = true
		}
	}
	return found
}

// names reports whether s names one of it's words followed by what re matches.
func names(s string, it points.Item, re *regexp.Regexp) bool {
	for _, t := range append([]string{it.Name}, it.Aliases...) {
		if i := strings.Index(s, t); t != "" && i >= 0 && re.MatchString(s[i+len(t):]) {
			return true
		}
	}
	return false
}
