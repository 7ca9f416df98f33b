package villagepoints_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

const (
	reviewGroup = int64(-100100)
	publicGroup = int64(-100200)
)

// bindVillageGroups binds 幸福村's reviewers' and villagers' groups as
// 孙评议 would with /bind 评议 and /bind 公示.
func (f *pointsFixture) bindVillageGroups() {
	f.t.Helper()
	for _, g := range []struct {
		chat    int64
		purpose accounts.GroupPurpose
	}{{reviewGroup, accounts.GroupReview}, {publicGroup, accounts.GroupPublic}} {
		actor := f.actor("13800000005")
		if err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
			_, _, err := accounts.Of(a).BindGroupAs(f.ctx, actor, g.chat, "群", "", g.purpose)
			return err
		}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// texts are the texts (or captions) enqueued to a chat, oldest first.
func (f *pointsFixture) texts(chat int64) []string {
	f.t.Helper()
	var ts []string
	if err := f.a.Store.DB().SelectContext(f.ctx, &ts, `SELECT COALESCE(payload->>'text', payload->>'caption', '') FROM outbox
		WHERE chat_id = $1 ORDER BY id`, chat); err != nil {
		f.t.Fatal(err)
	}
	return ts
}

func (f *pointsFixture) object(phone string, id int64, reason string) (storage.Claim, error) {
	var cl storage.Claim
	actor := f.actor(phone)
	err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		cl, err = villagepoints.Of(a).ObjectClaim(f.ctx, actor, id, reason)
		return err
	})
	return cl, err
}

func (f *pointsFixture) decideObjection(phone string, id int64, uphold bool) (villagepoints.ObjectionResult, error) {
	var res villagepoints.ObjectionResult
	actor := f.actor(phone)
	err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		res, err = villagepoints.Of(a).DecideObjection(f.ctx, actor, id, uphold)
		return err
	})
	return res, err
}

func lastContaining(ts []string, sub string) string {
	for i := len(ts) - 1; i >= 0; i-- {
		if strings.Contains(ts[i], sub) {
			return ts[i]
		}
	}
	return ""
}

func TestBindReviewAndPublicGroups(t *testing.T) {
	f := newPointsFixture(t, nil)
	v, _ := f.a.Store.UnitByCode(f.ctx, "QA-RZ-XZ")
	// A villager binds neither.
	villager := f.actor("13800000006")
	err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, _, err := accounts.Of(a).BindGroupAs(f.ctx, villager, publicGroup, "群", "", accounts.GroupPublic)
		return err
	})
	refused(t, err, "积分评议员")
	f.bindVillageGroups()
	g, err := f.a.Store.GroupOfUnit(f.ctx, v.ID)
	if err != nil || g.ChatID != reviewGroup {
		t.Fatalf("reviewers' group %+v %v", g, err)
	}
	g, err = f.a.Store.PublicGroupOfUnit(f.ctx, v.ID)
	if err != nil || g.ChatID != publicGroup {
		t.Fatalf("villagers' group %+v %v", g, err)
	}
	// A claim's card goes to the reviewers' group only.
	f.mustClaim("13800000006", "B01", "")
	if lastContaining(f.texts(reviewGroup), "积分申报 #1") == "" || lastContaining(f.texts(publicGroup), "积分申报") != "" {
		t.Fatalf("cards: review %q public %q", f.texts(reviewGroup), f.texts(publicGroup))
	}
	// Plain /bind of the villagers' group makes it the reviewers' group: a
	// chat has one binding, the village then posts publicly there too.
	reviewer := f.actor("13800000005")
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, _, err := accounts.Of(a).BindGroup(f.ctx, reviewer, publicGroup, "群", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Store.PublicGroupByChat(f.ctx, publicGroup); err == nil {
		t.Fatal("the chat kept its 公示 binding")
	}
	if g, err := f.a.Store.PublicGroupOfUnit(f.ctx, v.ID); err != nil || g.ChatID != publicGroup {
		t.Fatalf("public posts fall back to the bound group: %+v %v", g, err)
	}
}

func TestReviewQuorum(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.ReviewQuorum = 2; c.Points.PublicityDays = 0 })
	f.bindVillageGroups()
	c := f.mustClaim("13800000006", "B01", "")
	res := f.mustDecide("13800000005", c.ID, true)
	if res.Awaiting != 1 || res.Entry != nil || len(res.Approvals) != 1 || res.Approvals[0] != "孙评议" {
		t.Fatalf("first approval %+v", res)
	}
	if got, _ := f.a.Store.ClaimByID(f.ctx, c.ID); got.Status != storage.ClaimPending {
		t.Fatalf("after one of two approvals: %s", got.Status)
	}
	if card := lastContaining(f.texts(reviewGroup), "已同意"); !strings.Contains(card, "已同意：孙评议（1/2），还需 1 位") {
		t.Fatalf("card edit %q", card)
	}
	var kb int
	if err := f.a.Store.DB().GetContext(f.ctx, &kb, `SELECT count(*) FROM outbox WHERE chat_id = $1 AND payload->>'text' LIKE '%已同意%'
		AND payload->'reply_markup' IS NOT NULL`, reviewGroup); err != nil || kb != 1 {
		t.Fatalf("the edit keeps the buttons: %d %v", kb, err)
	}
	_, err := f.decide("13800000005", c.ID, true)
	refused(t, err, "您已同意申报 #1，还需 1 位")
	res = f.mustDecide("13800000015", c.ID, true)
	if res.Awaiting != 0 || res.Entry == nil || res.Claim.Status != storage.ClaimApproved || res.Claim.Decider != "孙评议、钱评议" {
		t.Fatalf("second approval %+v", res)
	}
	// One 驳回 rejects.
	c2 := f.mustClaim("13800000007", "B04", "")
	res = f.mustDecide("13800000015", c2.ID, false)
	if res.Claim.Status != storage.ClaimRejected {
		t.Fatalf("rejection %+v", res)
	}
}

// Both reviewers tapping 通过 over and over at the same moment: the claim is
// decided exactly once, with one ledger entry.
func TestReviewQuorumConcurrentTaps(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.ReviewQuorum = 2; c.Points.PublicityDays = 0 })
	c := f.mustClaim("13800000006", "B01", "")
	actors := map[string]domain.Actor{"13800000005": f.actor("13800000005"), "13800000015": f.actor("13800000015")}
	var wg sync.WaitGroup
	var mu sync.Mutex
	decided, awaiting := 0, 0
	start := make(chan struct{})
	for i := 0; i < 16; i++ {
		phone := "13800000005"
		if i%2 == 1 {
			phone = "13800000015"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var res villagepoints.DecisionResult
			err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
				res, err = villagepoints.Of(a).DecideClaim(f.ctx, actors[phone], c.ID, true, "")
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && res.Entry != nil:
				decided++
			case err == nil && res.Awaiting > 0:
				awaiting++
			case err != nil:
				var ue *domain.UserError
				if !asUserError(err, &ue) {
					t.Errorf("tap: %v", err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if decided != 1 || awaiting != 1 {
		t.Fatalf("decided %d times, %d approvals short of the quorum", decided, awaiting)
	}
	if n := f.count(`SELECT count(*) FROM point_ledger WHERE claim_id = $1`, c.ID); n != 1 {
		t.Fatalf("%d ledger entries", n)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'claim.decided'`); n != 1 {
		t.Fatalf("%d claim.decided events", n)
	}
	if n := f.count(`SELECT count(*) FROM claim_approvals WHERE claim_id = $1`, c.ID); n != 2 {
		t.Fatalf("%d approvals", n)
	}
}

func TestVillagerObjection(t *testing.T) {
	f := newPointsFixture(t, nil) // publicity 3 days
	f.bindVillageGroups()
	hh := f.household("QA-RZ-XZ", "H001")
	c := f.mustClaim("13800000006", "B01", "")
	res := f.mustDecide("13800000005", c.ID, true)
	effective := res.Entry.EffectiveAt
	// Outside the village, or the claimant's own household: refused.
	_, err := f.object("13800000009", c.ID, "不对")
	refused(t, err, "村民和积分评议员才能提出异议")
	_, err = f.object("13800000016", c.ID, "不对")
	refused(t, err, "本户的申报")
	_, err = f.object("13800000007", c.ID, " ")
	refused(t, err, "请写明异议理由")
	// 吴村民 (H002) objects: the claim waits for the reviewers.
	cl, err := f.object("13800000007", c.ID, "那天老人在医院，不是他照顾的")
	if err != nil || cl.Status != storage.ClaimApproved {
		t.Fatalf("objection %+v %v", cl, err)
	}
	if b, p := f.balance(hh); b != 0 || p != 0 {
		t.Fatalf("held back: balance %d publicity %d", b, p)
	}
	card := lastContaining(f.texts(reviewGroup), "公示异议")
	if !strings.Contains(card, "吴村民") || !strings.Contains(card, "不是他照顾的") {
		t.Fatalf("objection card %q", card)
	}
	if lastContaining(f.texts(publicGroup), "公示异议") != "" {
		t.Fatal("the objection card went to the villagers' group")
	}
	_, err = f.object("13800000007", c.ID, "再说一次")
	refused(t, err, "已有村民提出异议")
	_, err = f.object("13800000015", c.ID, "评议员也有异议")
	refused(t, err, "维持异议")
	// Its 公示 ends: the points still wait.
	f.set(effective.Add(time.Hour))
	if b, p := f.balance(hh); b != 0 || p != 0 {
		t.Fatalf("after 公示, objection open: balance %d publicity %d", b, p)
	}
	var oid int64
	if err := f.a.Store.DB().GetContext(f.ctx, &oid, `SELECT id FROM claim_objections WHERE claim_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.decideObjection("13800000006", oid, false)
	refused(t, err, "积分评议员才能处理异议")
	// Two reviewers tap at once: one decision.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, phone := range []string{"13800000005", "13800000015"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.decideObjection(phone, oid, false)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent decisions: %v / %v", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil {
			refused(t, err, "无需重复处理")
		}
	}
	// Dismissed after 公示 ended: the points count from now.
	if b, p := f.balance(hh); b != 5 || p != 0 {
		t.Fatalf("dismissed: balance %d publicity %d", b, p)
	}
	// Upheld: the claim is rejected and its points never count.
	f.set(time.Date(2026, 11, 25, 10, 0, 0, 0, testdb.Loc))
	c2 := f.mustClaim("13800000006", "B04", "")
	f.mustDecide("13800000005", c2.ID, true)
	if _, err := f.object("13800000007", c2.ID, "没有这回事"); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Store.DB().GetContext(f.ctx, &oid, `SELECT id FROM claim_objections WHERE claim_id = $1`, c2.ID); err != nil {
		t.Fatal(err)
	}
	up, err := f.decideObjection("13800000015", oid, true)
	if err != nil || up.Claim.Status != storage.ClaimRejected || up.Entry != nil {
		t.Fatalf("uphold %+v %v", up, err)
	}
	f.set(time.Date(2026, 12, 5, 10, 0, 0, 0, testdb.Loc))
	if b, _ := f.balance(hh); b != 5 {
		t.Fatalf("upheld objection: balance %d, want 5", b)
	}
}

func TestVetoLastsTheActsYear(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.PublicityDays = 0 })
	f.bindVillageGroups()
	deduct := func(req villagepoints.DeductRequest) (villagepoints.DecisionResult, error) {
		var res villagepoints.DecisionResult
		actor := f.actor("13800000005")
		err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
			res, err = villagepoints.Of(a).RecordDeduction(f.ctx, actor, req)
			return err
		})
		return res, err
	}
	_, err := deduct(villagepoints.DeductRequest{Target: "H002", Item: "E02", ActDate: time.Date(2026, 11, 21, 0, 0, 0, 0, testdb.Loc)})
	refused(t, err, "还没到")
	// Recorded in December 2026 for an act of 20 November.
	f.set(time.Date(2026, 12, 3, 10, 0, 0, 0, testdb.Loc))
	res, err := deduct(villagepoints.DeductRequest{Target: "H002", Item: "E02", ActDate: time.Date(2026, 11, 20, 0, 0, 0, 0, testdb.Loc)})
	if err != nil || res.Claim.ActDate == nil || res.Claim.VetoFrom == nil ||
		!res.Claim.VetoFrom.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, testdb.Loc)) || !res.Claim.VetoUntil.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, testdb.Loc)) {
		t.Fatalf("veto %+v %v", res.Claim, err)
	}
	// November (before it was recorded) and December are both excluded.
	hh := f.household("QA-RZ-XZ", "H002")
	for _, m := range []time.Month{time.November, time.December} {
		from := time.Date(2026, m, 1, 0, 0, 0, 0, testdb.Loc)
		ok, err := f.a.Store.VetoedIn(f.ctx, hh.ID, from, from.AddDate(0, 1, 0))
		if err != nil || !ok {
			t.Fatalf("%s: vetoed %v %v", m, ok, err)
		}
	}
	if ok, _ := f.a.Store.VetoedIn(f.ctx, hh.ID, time.Date(2027, 1, 1, 0, 0, 0, 0, testdb.Loc), time.Date(2027, 2, 1, 0, 0, 0, 0, testdb.Loc)); ok {
		t.Fatal("vetoed in 2027")
	}
	// Told privately: nothing about it in the villagers' group.
	for _, s := range f.texts(publicGroup) {
		if strings.Contains(s, "否决") || strings.Contains(s, "E02") {
			t.Fatalf("public text names the veto: %q", s)
		}
	}
	// A public ranking leaves the household out without saying why.
	rk, err := villagepoints.Of(f.a).VillageRanking(f.ctx, f.actor("13800000006"), villagepoints.RankingRequest{})
	if err != nil {
		t.Fatal(err)
	}
	text := villagepoints.RankingText("排名", rk.Rows, 30)
	if strings.Contains(text, "H002") || strings.Contains(text, "吴村民") || strings.Contains(text, "否决") {
		t.Fatalf("ranking text %q", text)
	}
}

func TestVetoScopeMonth(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.PublicityDays = 0; c.Points.VetoScope = "month" })
	var res villagepoints.DecisionResult
	actor := f.actor("13800000005")
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		res, err = villagepoints.Of(a).RecordDeduction(f.ctx, actor, villagepoints.DeductRequest{Target: "H002", Item: "E02"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !res.Claim.VetoUntil.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, testdb.Loc)) {
		t.Fatalf("month veto until %s", res.Claim.VetoUntil)
	}
	f.set(time.Date(2026, 12, 1, 0, 0, 0, 0, testdb.Loc))
	f.mustClaim("13800000007", "C04", "p")
}

// A deduction is the household's matter: RecordDeduction refuses it in the
// villagers' 公示 group, whoever asks and whichever door it came by, before
// anything is stored or audited; in the reviewers' group it is recorded.
func TestDeductionNeverInThePublicGroup(t *testing.T) {
	f := newPointsFixture(t, nil)
	f.bindVillageGroups()
	vp := villagepoints.Of(f.a) // on the pool: RecordDeduction's own transaction
	stored := func() int {
		return f.count(`SELECT count(*) FROM claims`) + f.count(`SELECT count(*) FROM point_ledger`) +
			f.count(`SELECT count(*) FROM audit_log WHERE action = 'claim.deduct'`) + f.count(`SELECT count(*) FROM outbox`)
	}
	before := stored()
	for _, phone := range []string{"13800000005", "13800000006"} { // a reviewer, a villager
		_, err := vp.RecordDeduction(f.ctx, f.actor(phone), villagepoints.DeductRequest{Target: "H002", Item: "E01", ChatID: publicGroup})
		refused(t, err, "扣分请在积分评议群或私聊中登记，不在公示群里登记。")
		if !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("%s in the 公示 group: %v, want domain.ErrForbidden", phone, err)
		}
	}
	if n := stored(); n != before {
		t.Fatalf("refused deductions stored %d rows", n-before)
	}
	for _, chat := range []int64{reviewGroup, 0} {
		res, err := vp.RecordDeduction(f.ctx, f.actor("13800000005"), villagepoints.DeductRequest{Target: "H002", Item: "E01", ChatID: chat})
		if err != nil || res.Claim.ID == 0 {
			t.Fatalf("deduction from chat %d: %+v %v", chat, res.Claim, err)
		}
	}
}

// A veto is the household's matter: VillageRanking names the asker's own
// place in any chat, but its veto only when asked in private (ChatID 0), so
// that no door tells it in a group.
func TestRankingOwnVetoOnlyInPrivate(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.PublicityDays = 0 })
	f.bindVillageGroups()
	f.mustDecide("13800000005", f.mustClaim("13800000006", "B01", "").ID, true) // H001
	f.mustDecide("13800000005", f.mustClaim("13800000007", "B04", "").ID, true) // H002
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).RecordDeduction(f.ctx, f.actor("13800000005"), villagepoints.DeductRequest{Target: "H002", Item: "E02"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	own := func(phone string, chat int64) *villagepoints.RankedHousehold {
		t.Helper()
		rk, err := villagepoints.Of(f.a).VillageRanking(f.ctx, f.actor(phone), villagepoints.RankingRequest{ChatID: chat})
		if err != nil {
			t.Fatal(err)
		}
		if len(rk.Rows) != 2 {
			t.Fatalf("%s in chat %d: ranking %+v", phone, chat, rk.Rows)
		}
		return rk.Own
	}
	for _, chat := range []int64{0, reviewGroup, publicGroup} {
		if o := own("13800000006", chat); o == nil || o.Code != "H001" || o.Rank != 1 || o.Vetoed {
			t.Errorf("H001's own place in chat %d: %+v", chat, o)
		}
		if o := own("13800000005", chat); o != nil {
			t.Errorf("a reviewer of no household in chat %d: own %+v", chat, o)
		}
	}
	if o := own("13800000007", 0); o == nil || o.Code != "H002" || !o.Vetoed {
		t.Errorf("H002's own veto in private: %+v", o)
	}
	for _, chat := range []int64{reviewGroup, publicGroup} {
		if o := own("13800000007", chat); o != nil {
			t.Errorf("H002's veto told in group %d: %+v", chat, o)
		}
	}
}

func TestSettleMonthAndYearWithStars(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) {
		c.Points.PublicityDays = 0
		c.Points.Stars = []int{1, 3, 5, 7, 9}
		// 1 January is a day off in any official calendar that knows
		// 2027: every day a working day, so only quiet hours hold the post.
		c.Healthcheck.Calendar = "none"
	})
	f.bindVillageGroups()
	f.set(time.Date(2026, 12, 10, 10, 0, 0, 0, testdb.Loc))
	c := f.mustClaim("13800000006", "B01", "") // +5: 3 stars
	f.mustDecide("13800000005", c.ID, true)
	c = f.mustClaim("13800000007", "B04", "")
	f.mustDecide("13800000005", c.ID, true)
	actor := f.actor("13800000005")
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).RecordDeduction(f.ctx, actor, villagepoints.DeductRequest{Target: "H002", Item: "E02"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 1, 1, 0, 5, 0, 0, testdb.Loc)
	res, err := villagepoints.Of(f.a).Settle(f.ctx, domain.System, at)
	if err != nil || len(res.Runs) != 2 || res.Runs[0].Period != "2026-12" || res.Runs[1].Period != "2026" || res.Runs[1].Settled != 2 {
		t.Fatalf("settle %+v %v", res, err)
	}
	ss, err := villagepoints.Of(f.a).Settlements(f.ctx, domain.Operator, "QA-RZ-XZ", "2026")
	if err != nil || len(ss) != 1 || ss[0].Kind != "yearly" {
		t.Fatalf("yearly %+v %v", ss, err)
	}
	rows, _ := ss[0].Ranking()
	if len(rows) != 2 || rows[0].Household != "H001" || rows[0].Stars != 3 || rows[1].Household != "H002" || !rows[1].Vetoed || rows[1].Stars != 0 {
		t.Fatalf("yearly ranking %+v", rows)
	}
	monthly, _ := villagepoints.Of(f.a).Settlements(f.ctx, domain.Operator, "QA-RZ-XZ", "2026-12")
	if mr, _ := monthly[0].Ranking(); len(mr) != 2 || mr[0].Stars != 0 {
		t.Fatalf("monthly ranking %+v", mr)
	}
	// Not posted at 00:05 (quiet hours) nor by the runs before 08:00; the
	// first run after posts both, to the villagers' group, the vetoed
	// household left out.
	if res.Posted != 0 || lastContaining(f.texts(publicGroup), "积分排名") != "" {
		t.Fatalf("posted in quiet hours: %+v", res)
	}
	if res, err = villagepoints.Of(f.a).Settle(f.ctx, domain.System, at.Add(7*time.Hour)); err != nil || res.Posted != 0 {
		t.Fatalf("07:05: %+v %v", res, err)
	}
	if res, err = villagepoints.Of(f.a).Settle(f.ctx, domain.System, at.Add(8*time.Hour)); err != nil || res.Posted != 2 || res.Settled != 0 {
		t.Fatalf("08:05: %+v %v", res, err)
	}
	if res, err = villagepoints.Of(f.a).Settle(f.ctx, domain.System, at.Add(9*time.Hour)); err != nil || res.Posted != 0 {
		t.Fatalf("09:05: %+v %v", res, err)
	}
	post := lastContaining(f.texts(publicGroup), "2026年度 积分排名")
	if !strings.Contains(post, "星级文明户") || !strings.Contains(post, "3星：周村民家") || strings.Contains(post, "H00") || strings.Contains(post, "吴村民") || strings.Contains(post, "否决") {
		t.Fatalf("yearly post %q", post)
	}
	if lastContaining(f.texts(reviewGroup), "积分排名") != "" {
		t.Fatal("a ranking went to the reviewers' group")
	}
	// Years before the first point are never settled.
	if n := f.count(`SELECT count(*) FROM settlements WHERE period = '2025'`); n != 0 {
		t.Fatalf("%d settlements of 2025", n)
	}
	// The ledger export carries the year's stars.
	tab, err := villagepoints.Of(f.a).ExportLedger(f.ctx, domain.Operator, "QA-RZ-XZ")
	if err != nil {
		t.Fatal(err)
	}
	col, name := slices.Index(tab.Keys, "stars"), slices.Index(tab.Keys, "household_name")
	if col < 0 || tab.Rows[0][col] != 3 || name < 0 || tab.Rows[0][name] != "周村民家" {
		t.Fatalf("ledger stars %v %v", tab.Keys, tab.Rows[0])
	}
}

func TestDailyPublicityList(t *testing.T) {
	f := newPointsFixture(t, nil) // publicity 3 days; 20 November 2026 is a Friday
	f.bindVillageGroups()
	c := f.mustClaim("13800000006", "B01", "")
	f.mustDecide("13800000005", c.ID, true)
	actor := f.actor("13800000005")
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).RecordDeduction(f.ctx, actor, villagepoints.DeductRequest{Target: "H002", Item: "A08"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Quiet hours, then Saturday (a day off): nothing posted.
	if res, err := villagepoints.Of(f.a).PostPublicity(f.ctx, domain.System, time.Date(2026, 11, 20, 22, 0, 0, 0, testdb.Loc)); err != nil || res.Posted != 0 || res.Held == "" {
		t.Fatalf("quiet hours %+v %v", res, err)
	}
	res, err := villagepoints.Of(f.a).PostPublicity(f.ctx, domain.System, time.Date(2026, 11, 21, 9, 0, 0, 0, testdb.Loc))
	if err != nil || res.Posted != 0 || res.Held == "" {
		t.Fatalf("day off %+v %v", res, err)
	}
	if lastContaining(f.texts(publicGroup), "积分公示") != "" {
		t.Fatal("posted on a day off")
	}
	// Monday 23 November 09:00 the claim (公示 until 10:00) is listed.
	res, err = villagepoints.Of(f.a).PostPublicity(f.ctx, domain.System, time.Date(2026, 11, 23, 9, 0, 0, 0, testdb.Loc))
	if err != nil || res.Posted != 1 {
		t.Fatalf("workday %+v %v", res, err)
	}
	list := lastContaining(f.texts(publicGroup), "积分公示")
	if !strings.Contains(list, "#1") || !strings.Contains(list, "B01") || !strings.Contains(list, "异议 申报号 理由") || strings.Contains(list, "A08") {
		t.Fatalf("list %q", list)
	}
	// Once a day.
	if _, err := villagepoints.Of(f.a).PostPublicity(f.ctx, domain.System, time.Date(2026, 11, 23, 9, 30, 0, 0, testdb.Loc)); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM outbox WHERE kind = 'publicity'`); n != 1 {
		t.Fatalf("%d lists", n)
	}
}

func asUserError(err error, ue **domain.UserError) bool { return errors.As(err, ue) }
