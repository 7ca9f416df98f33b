package demo

// The demo county's names (SPEC §7.6): Qian'an's ten townships and towns,
// its villages named by characters of the 千字文, and made-up communities,
// compounds, companies and people.

// demoQianzi is the opening of the 千字文, in the order Qian'an named its
// villages (each township takes a run of characters, 遐字村, 迩字村 …).
const demoQianzi = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜" +
	"金生丽水玉出昆冈剑号巨阙珠称夜光果珍李柰菜重芥姜海咸河淡鳞潜羽翔龙师火帝鸟官人皇" +
	"始制文字乃服衣裳推位让国有虞陶唐吊民伐罪周发殷汤坐朝问道垂拱平章爱育黎首臣伏戎羌" +
	"遐迩一体率宾归王鸣凤在竹白驹食场化被草木赖及万方盖此身发四大五常恭惟鞠养岂敢毁伤" +
	"女慕贞洁男效才良知过必改得能莫忘罔谈彼短靡恃己长信使可覆器欲难量墨悲丝染诗赞羔羊" +
	"景行维贤克念作圣德建名立形端表正空谷传声虚堂习听祸因恶积福缘善庆尺璧非宝寸阴是竞" +
	"资父事君曰严与敬孝当竭力忠则尽命临深履薄夙兴温凊似兰斯馨如松之盛川流不息渊澄取映" +
	"容止若思言辞安定笃初诚美慎终宜令荣业所基籍甚无竟学优登仕摄职从政存以甘棠去而益咏"

// demoSkip are characters no village would be named by.
const demoSkip = "吊伐罪毁伤忘罔短靡难悲祸恶贱卑疲亏殷薄竭尽去之而以与则"

// demoTownship is one township or town of the demo county: where its run
// of village characters starts, and how many villages it has.
type demoTownship struct {
	code, name, kind string
	from             string // the 千字文 character its villages start at
	villages         int
}

// demoTownships are Qian'an's 10 townships and towns. The first three
// keep the codes the sandbox has always used (QA-RZ, QA-DB, QA-SZ).
var demoTownships = []demoTownship{
	{"QA-RZ", "让字镇", "township", "让", 24},
	{"QA-DB", "大布苏镇", "township", "日", 22},
	{"QA-SZ", "所字镇", "township", "所", 22},
	{"QA-QA", "乾安镇", "township", "天", 12},
	{"QA-SH", "水字镇", "township", "水", 24},
	{"QA-AZ", "安字镇", "township", "安", 24},
	{"QA-YZ", "余字乡", "township", "余", 24},
	{"QA-DZ", "道字乡", "township", "道", 22},
	{"QA-YA", "严字乡", "township", "严", 20},
	{"QA-ZZ", "赞字乡", "township", "赞", 22},
}

// demoCommunities are the communities of 乾安镇, with how many compound
// (小区功能型) branches each has (122 in all) and property (物业) branches.
var demoCommunities = []struct {
	name                string
	compounds, property int
}{
	{"朝阳社区", 20, 2}, {"东升社区", 21, 1}, {"新华社区", 20, 2},
	{"建设社区", 20, 1}, {"团结社区", 21, 1}, {"和平社区", 20, 1},
}

// demoCompoundPrefix × demoCompoundSuffix name the compounds.
var (
	demoCompoundPrefix = []string{"幸福", "阳光", "锦绣", "金色", "康乐", "和谐", "书香", "世纪", "鑫源", "嘉禾", "碧水",
		"翠苑", "丽景", "富民", "安居", "泰和", "润泽", "春城", "兴隆", "万达", "玉泉"}
	demoCompoundSuffix = []string{"家园", "花园", "小区", "华庭", "名苑", "佳苑"}
)

// demoProperty are the property companies with a branch (物业党支部).
var demoProperty = []string{"乾安县安居物业服务有限公司", "乾安县宜家物业管理有限公司", "乾安县鑫诚物业服务有限公司",
	"乾安县恒信物业管理有限公司", "乾安县诚德物业服务有限公司", "乾安县金盾物业管理有限公司", "乾安县绿洲物业服务有限公司",
	"乾安县佳和物业管理有限公司"}

// demoEnterprises are the enterprise and institution branches of 乾安镇
// (each township also has its government's 机关党支部).
var demoEnterprises = []struct{ name, branchType string }{
	{"乾安县粮食储备库党支部", "enterprise"}, {"乾安县农村信用合作联社党支部", "enterprise"},
	{"乾安县热力有限责任公司党支部", "enterprise"}, {"乾安县第一中学党支部", "institution"},
}

// demoThemeDays are the 主题党日 rules branches use ("" = the default,
// the end of the month), drawn with the weights given.
var demoThemeDays = []struct {
	rule   string
	weight int
}{
	{"", 40}, {"5", 8}, {"10", 8}, {"15", 8}, {"20", 6}, {"25", 6},
	{"第一个周五", 8}, {"第二个周三", 6}, {"最后一个周六", 6}, {"first-mon", 4},
}

// Names of people.
var (
	demoSurnames = []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
	demoGiven    = []rune("国建军华明伟志永海春秀英玉兰桂凤霞红丽淑芳金宝德福贵成立文武刚强平安广庆喜荣树林")
)

// demoTopics are the topics of the seeded check-ins, by obligation.
var demoTopics = map[string][]string{
	"general_meeting":   {"学习贯彻党的二十届三中全会精神", "讨论发展党员工作", "通报支部季度工作"},
	"committee_meeting": {"研究本月重点工作", "研究村级事务“四议两公开”", "研究秋收秋种和防火工作"},
	"group_meeting":     {"学习党章", "交流思想、征集意见", "学习习近平总书记重要讲话精神"},
	"party_lecture":     {"书记讲党课：乡村振兴", "党课：党的光辉历程", "党课：党员的权利和义务"},
	"theme_day":         {"重温入党誓词", "清理村屯环境卫生", "走访慰问困难党员", "观看警示教育片"},
	"life_meeting":      {"年度组织生活会"},
	"member_appraisal":  {"年度民主评议党员"},
	"heart_talk":        {"书记与党员谈心谈话"},
	"dues":              {"收缴本月党费"},
	"secretary_lecture": {"书记讲党课"},
}

// demoClaimItems are the catalogue items the seeded history claims (not
// the ones the sandbox's hints and tests claim today: 巡逻, 志愿, 拾金不昧).
var demoClaimItems = []string{"C01", "C02", "C03", "C04", "B06", "B05", "A04", "D06"}

// demoGoods are what the seeded redemptions took.
var demoGoods = []struct {
	name   string
	points int
}{{"洗衣粉", 20}, {"酱油", 5}, {"毛巾", 8}, {"大米 5 斤", 15}, {"食用油", 30}}
