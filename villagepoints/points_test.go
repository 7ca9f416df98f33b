package villagepoints_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zhibu/zhibu/accounts"
	"github.com/zhibu/zhibu/app"
	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/tabular"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
	"github.com/zhibu/zhibu/villagepoints"
)

const pointsUnits = `code,name,kind,parent_code
QA,乾安县,county,
QA-RZ,让字镇,township,QA
QA-RZ-XZ,幸福村,village,QA-RZ
QA-RZ-HX,和兴村,village,QA-RZ
`

const pointsPeople = `name,phone,role,unit_code,household
孙评议,13800000005,reviewer,QA-RZ-XZ,
钱评议,13800000015,reviewer,QA-RZ-XZ,
周村民,13800000006,villager,QA-RZ-XZ,H001
周家人,13800000016,villager,QA-RZ-XZ,H001
吴村民,13800000007,villager,QA-RZ-XZ,H002
郑店主,13800000008,shopkeeper,QA-RZ-XZ,
和村民,13800000009,villager,QA-RZ-HX,H001
和评议,13800000019,reviewer,QA-RZ-HX,
`

// pointsFixture is an App over a fresh database with the test villages and
// a settable clock (safe for concurrent readers).
type pointsFixture struct {
	t   *testing.T
	ctx context.Context
	a   *app.App
	now atomic.Pointer[time.Time]
}

func newPointsFixture(t *testing.T, cfg func(*config.Config)) *pointsFixture {
	t.Helper()
	f := &pointsFixture{t: t, ctx: context.Background()}
	f.set(time.Date(2026, 11, 20, 10, 0, 0, 0, testdb.Loc))
	c := config.Default()
	if cfg != nil {
		cfg(&c)
	}
	f.a = app.New(testdb.New(t), c, func() time.Time { return *f.now.Load() }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, file := range []struct {
		name, csv string
		imp       func(context.Context, domain.Actor, *tabular.Table) (app.ImportResult, error)
	}{{"units.csv", pointsUnits, accounts.Of(f.a).ImportUnits}, {"people.csv", pointsPeople, accounts.Of(f.a).ImportPeople}} {
		tab, err := tabular.ReadCSV(strings.NewReader(file.csv), file.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := file.imp(f.ctx, domain.Operator, tab); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *pointsFixture) set(t time.Time) { f.now.Store(&t) }

func (f *pointsFixture) at() time.Time { return *f.now.Load() }

// actor is the person with phone as a chat actor.
func (f *pointsFixture) actor(phone string) domain.Actor {
	f.t.Helper()
	p, err := f.a.Store.PersonByPhone(f.ctx, phone)
	if err != nil {
		f.t.Fatalf("person %s: %v", phone, err)
	}
	roles, err := f.a.Store.RolesOf(f.ctx, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return domain.Actor{PersonID: p.ID, Label: "tg:" + phone, Roles: roles}
}

// claim files a claim in its own transaction, as the chat router would.
func (f *pointsFixture) claim(phone, text, photo string) (villagepoints.ClaimResult, error) {
	var res villagepoints.ClaimResult
	actor := f.actor(phone) // outside the transaction: it reads on the pool
	err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		res, err = villagepoints.Of(a).SubmitClaim(f.ctx, actor, villagepoints.ClaimRequest{Words: strings.Fields(text), Photo: photo, ChatID: 1})
		return err
	})
	return res, err
}

func (f *pointsFixture) mustClaim(phone, text, photo string) storage.Claim {
	f.t.Helper()
	res, err := f.claim(phone, text, photo)
	if err != nil || res.Claim == nil {
		f.t.Fatalf("claim %q: %+v %v", text, res, err)
	}
	return *res.Claim
}

func (f *pointsFixture) decide(phone string, id int64, approve bool) (villagepoints.DecisionResult, error) {
	var res villagepoints.DecisionResult
	actor := f.actor(phone) // outside the transaction: it reads on the pool
	err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		res, err = villagepoints.Of(a).DecideClaim(f.ctx, actor, id, approve, "")
		return err
	})
	return res, err
}

func (f *pointsFixture) mustDecide(phone string, id int64, approve bool) villagepoints.DecisionResult {
	f.t.Helper()
	res, err := f.decide(phone, id, approve)
	if err != nil {
		f.t.Fatalf("decide %d: %v", id, err)
	}
	return res
}

func (f *pointsFixture) household(village, code string) storage.Household {
	f.t.Helper()
	v, err := f.a.Store.UnitByCode(f.ctx, village)
	if err != nil {
		f.t.Fatal(err)
	}
	hs, err := f.a.Store.HouseholdsByCode(f.ctx, []int64{v.ID}, code)
	if err != nil || len(hs) != 1 {
		f.t.Fatalf("household %s %s: %v %v", village, code, hs, err)
	}
	return hs[0]
}

func (f *pointsFixture) balance(hh storage.Household) (balance, publicity int) {
	f.t.Helper()
	b, p, err := f.a.Store.PointBalance(f.ctx, hh.ID, f.at())
	if err != nil {
		f.t.Fatal(err)
	}
	return b, p
}

// refused asserts a *domain.UserError whose message contains want.
func refused(t *testing.T, err error, want string) {
	t.Helper()
	var ue *domain.UserError
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, want) {
		t.Fatalf("want a refusal containing %q, got %v", want, err)
	}
}

// offered is the index of item code among the choice's items, failing
// the test when the choice does not offer it.
func offered(t *testing.T, c *villagepoints.ClaimChoice, code string) int {
	t.Helper()
	idx := -1
	for i, it := range c.Items {
		if it.Code == code {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("%s not offered: %+v", code, c.Items)
	}
	return idx
}

func (f *pointsFixture) count(q string, args ...any) int {
	f.t.Helper()
	return testdb.Count(f.t, f.a.Store, q, args...)
}

func TestClaimRefusals(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.ClaimsPerHour = 4 })
	// Not a villager: the reviewer and the shopkeeper cannot claim.
	_, err := f.claim("13800000005", "A02", "")
	refused(t, err, "只有已登记并绑定账号的村民")
	_, err = f.claim("13800000008", "A02", "")
	refused(t, err, "只有已登记并绑定账号的村民")
	// A photo item without a photo.
	_, err = f.claim("13800000006", "巡逻 今晚", "")
	refused(t, err, "需要附现场照片")
	// A certificate item needs a photo of the document.
	_, err = f.claim("13800000006", "D06", "")
	refused(t, err, "证书或证明材料的照片")
	// Deductions and vetoes are the reviewers'.
	_, err = f.claim("13800000006", "A07", "")
	refused(t, err, "由评议人员登记")
	_, err = f.claim("13800000006", "打架", "")
	refused(t, err, "由评议人员登记")

	c := f.mustClaim("13800000006", "巡逻 今晚和邻居一起", "photo-1")
	if c.ItemCode != "A01" || c.Points != 2 || c.Status != storage.ClaimPending || c.Note != "今晚和邻居一起" || !c.HasPhoto() {
		t.Fatalf("claim %+v", c)
	}
	// Same item, same household (another member), same day.
	_, err = f.claim("13800000016", "A01", "photo-2")
	refused(t, err, "今天已为该项申报过")
	// Ambiguous words keep a draft with the candidates.
	res, err := f.claim("13800000006", "老人", "")
	if err != nil || res.Choice == nil || len(res.Choice.Items) < 2 {
		t.Fatalf("ambiguous: %+v %v", res, err)
	}
	// Nothing matches: the categories are listed by the caller.
	if res, err := f.claim("13800000006", "种花种草养鱼", ""); err != nil || !res.NoMatch {
		t.Fatalf("no match: %+v %v", res, err)
	}
	// The hourly rate is a count in the database: 4 per hour.
	f.mustClaim("13800000006", "B04", "")
	f.mustClaim("13800000006", "A02", "")
	f.mustClaim("13800000006", "B01", "")
	_, err = f.claim("13800000006", "B03", "")
	refused(t, err, "一小时内已申报 4 次")
	// Another member of the household has their own hourly allowance.
	f.mustClaim("13800000016", "B03", "")
	f.set(f.at().Add(time.Hour))
	f.mustClaim("13800000006", "B06", "photo-3")

	// Refusals are audited.
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'claim.submit' AND NOT allowed`); n != 8 {
		t.Fatalf("%d refusals audited, want 8", n)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'claim.submitted'`); n != 6 {
		t.Fatalf("%d claim.submitted events, want 6", n)
	}
}

func TestPickClaimItemOnce(t *testing.T) {
	f := newPointsFixture(t, nil)
	res, err := f.claim("13800000006", "老人 帮邻居照看", "")
	if err != nil || res.Choice == nil {
		t.Fatalf("%+v %v", res, err)
	}
	idx := offered(t, res.Choice, "B01")
	// Only the villager who claimed may pick.
	err = f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, _, err := villagepoints.Of(a).PickClaimItem(f.ctx, f.actor("13800000007"), res.Choice.DraftID, idx)
		return err
	})
	refused(t, err, "已失效")
	var c storage.Claim
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		c, _, err = villagepoints.Of(a).PickClaimItem(f.ctx, f.actor("13800000006"), res.Choice.DraftID, idx)
		return err
	}); err != nil || c.ItemCode != "B01" || c.Note != "帮邻居照看" {
		t.Fatalf("pick: %+v %v", c, err)
	}
	err = f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, _, err := villagepoints.Of(a).PickClaimItem(f.ctx, f.actor("13800000006"), res.Choice.DraftID, idx)
		return err
	})
	refused(t, err, "已失效")
}

func TestCapsAtWindowEdges(t *testing.T) {
	f := newPointsFixture(t, nil)
	// B04 拾金不昧: 3/month, witness (no photo needed).
	for _, d := range []int{3, 10, 17} {
		f.set(time.Date(2026, 11, d, 9, 0, 0, 0, testdb.Loc))
		f.mustClaim("13800000006", "B04", "")
	}
	f.set(time.Date(2026, 11, 30, 23, 59, 59, 999e6, testdb.Loc))
	_, err := f.claim("13800000006", "B04", "")
	refused(t, err, "每月最多 3 次，本月已申报 3 次")
	// The first instant of December is a new window.
	f.set(time.Date(2026, 12, 1, 0, 0, 0, 0, testdb.Loc))
	f.mustClaim("13800000006", "B04", "")

	// A rejected claim frees its place; pending and approved ones count.
	// A01: 1/day; 8/month, photo.
	f.set(time.Date(2026, 12, 2, 23, 59, 59, 0, testdb.Loc))
	c := f.mustClaim("13800000006", "A01", "p1")
	f.mustDecide("13800000005", c.ID, false)
	f.mustClaim("13800000006", "A01", "p2")
	f.set(time.Date(2026, 12, 3, 0, 0, 0, 0, testdb.Loc)) // next day: the day cap resets
	f.mustClaim("13800000006", "A01", "p3")

	// C05 改厕: 1/ever.
	c = f.mustClaim("13800000006", "C05", "p4")
	f.mustDecide("13800000005", c.ID, true)
	f.set(time.Date(2029, 6, 1, 12, 0, 0, 0, testdb.Loc))
	_, err = f.claim("13800000006", "C05", "p5")
	refused(t, err, "每户累计最多 1 次")

	// B01 孝老爱亲: 1/quarter — the quarter's last instant and the next one.
	f.set(time.Date(2029, 6, 29, 23, 0, 0, 0, testdb.Loc))
	f.mustClaim("13800000006", "B01", "")
	f.set(time.Date(2029, 6, 30, 23, 59, 59, 0, testdb.Loc))
	_, err = f.claim("13800000016", "B01", "")
	refused(t, err, "每季度最多 1 次")
	f.set(time.Date(2029, 7, 1, 0, 0, 0, 0, testdb.Loc))
	f.mustClaim("13800000016", "B01", "")
}

func TestDecisionIsTakenExactlyOnce(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.PublicityDays = 0 })
	c := f.mustClaim("13800000006", "B04 捡到钱包交给村委", "")
	reviewers := []string{"13800000005", "13800000015"}
	var wg sync.WaitGroup
	var won, lost atomic.Int32
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, err := f.decide(reviewers[i%2], c.ID, i%3 != 0)
			var ue *domain.UserError
			switch {
			case err == nil:
				won.Add(1)
			case errors.As(err, &ue) && errors.Is(err, domain.ErrConflict):
				lost.Add(1)
			default:
				t.Errorf("tap %d: %v", i, err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if won.Load() != 1 || lost.Load() != 19 {
		t.Fatalf("%d decisions taken, %d refused; want 1 and 19", won.Load(), lost.Load())
	}
	got, _ := f.a.Store.ClaimByID(f.ctx, c.ID)
	entries := f.count(`SELECT count(*) FROM point_ledger WHERE claim_id = $1`, c.ID)
	switch got.Status {
	case storage.ClaimApproved:
		if entries != 1 {
			t.Fatalf("approved with %d ledger entries", entries)
		}
	case storage.ClaimRejected:
		if entries != 0 {
			t.Fatalf("rejected with %d ledger entries", entries)
		}
	default:
		t.Fatalf("status %s", got.Status)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'claim.decided'`); n != 1 {
		t.Fatalf("%d claim.decided events", n)
	}
	// Anyone but a reviewer of the village is refused and changes nothing.
	c2 := f.mustClaim("13800000006", "A02", "")
	for _, phone := range []string{"13800000006", "13800000008", "13800000019"} {
		_, err := f.decide(phone, c2.ID, true)
		refused(t, err, "只有幸福村的积分评议员")
	}
	if got, _ := f.a.Store.ClaimByID(f.ctx, c2.ID); got.Status != storage.ClaimPending {
		t.Fatalf("a refused tap changed the claim: %s", got.Status)
	}
}

func TestConcurrentRedemptionsNeverOverdraw(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.PublicityDays = 0 })
	c := f.mustClaim("13800000006", "B01 照顾瘫痪的母亲", "") // 5 points, witness
	f.mustDecide("13800000005", c.ID, true)
	hh := f.household("QA-RZ-XZ", "H001")
	if b, _ := f.balance(hh); b != 5 {
		t.Fatalf("balance %d", b)
	}
	shop := f.actor("13800000008")
	var wg sync.WaitGroup
	var ok, short atomic.Int32
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			target := "H001"
			if i%2 == 1 {
				target = "13800000016" // the same household by a member's phone
			}
			err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
				_, err := villagepoints.Of(a).Redeem(f.ctx, shop, villagepoints.RedeemRequest{Target: target, Points: 1, Goods: "肥皂"})
				return err
			})
			switch {
			case err == nil:
				ok.Add(1)
			case strings.Contains(err.Error(), "积分余额不足"):
				short.Add(1)
			default:
				t.Errorf("redeem %d: %v", i, err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if ok.Load() != 5 || short.Load() != 15 {
		t.Fatalf("%d redemptions succeeded, %d refused; want 5 and 15", ok.Load(), short.Load())
	}
	if b, _ := f.balance(hh); b != 0 {
		t.Fatalf("balance after %d", b)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'points.redeemed'`); n != 5 {
		t.Fatalf("%d points.redeemed events", n)
	}
	// Receipts go to every linked member; none is linked here.
	err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).Redeem(f.ctx, shop, villagepoints.RedeemRequest{Target: "H001", Points: 0})
		return err
	})
	refused(t, err, "须为正整数")
	// Only a shopkeeper of the village redeems.
	err = f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).Redeem(f.ctx, f.actor("13800000005"), villagepoints.RedeemRequest{Target: "H001", Points: 1})
		return err
	})
	refused(t, err, "只有积分超市管理员")
}

func TestPublicityAndObjection(t *testing.T) {
	f := newPointsFixture(t, nil) // publicity 3 days
	hh := f.household("QA-RZ-XZ", "H001")
	c := f.mustClaim("13800000006", "B01", "")
	res := f.mustDecide("13800000005", c.ID, true)
	want := time.Date(2026, 11, 23, 10, 0, 0, 0, testdb.Loc)
	if res.Entry == nil || !res.Entry.EffectiveAt.Equal(want) {
		t.Fatalf("entry %+v, want effective %s", res.Entry, want)
	}
	if b, p := f.balance(hh); b != 0 || p != 5 {
		t.Fatalf("during publicity: balance %d publicity %d", b, p)
	}
	// The claimant's household cannot object to its own claim; a reviewer needs a reason.
	object := func(phone, reason string) (storage.Claim, error) {
		var cl storage.Claim
		err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
			cl, err = villagepoints.Of(a).ObjectClaim(f.ctx, f.actor(phone), c.ID, reason)
			return err
		})
		return cl, err
	}
	_, err := object("13800000006", "不对")
	refused(t, err, "本户的申报")
	_, err = object("13800000015", " ")
	refused(t, err, "请写明异议理由")
	f.set(time.Date(2026, 11, 22, 9, 0, 0, 0, testdb.Loc))
	cl, err := object("13800000015", "邻居反映并非本人照顾")
	if err != nil || cl.Status != storage.ClaimPending || cl.Objections != 1 || cl.CardVersion != 1 {
		t.Fatalf("objection: %+v %v", cl, err)
	}
	if b, p := f.balance(hh); b != 0 || p != 0 {
		t.Fatalf("after objection: balance %d publicity %d", b, p)
	}
	// Subscribers see the claim submitted again, with the objection and
	// the entry that reverses its points.
	var ev struct {
		Status    string `json:"status"`
		Reopened  bool   `json:"reopened"`
		Objection string `json:"objection"`
		Reversal  int64  `json:"reversal_entry"`
	}
	var payload []byte
	if err := f.a.Store.DB().GetContext(f.ctx, &payload, `SELECT payload FROM events WHERE type = 'claim.submitted' ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(payload, &ev)
	reversal := f.count(`SELECT id FROM point_ledger WHERE claim_id = $1 AND kind = 'reversal'`, c.ID)
	if ev.Status != storage.ClaimPending || !ev.Reopened || ev.Objection != "邻居反映并非本人照顾" || ev.Reversal == 0 || int(ev.Reversal) != reversal {
		t.Fatalf("reopen event %s, want pending, reopened, the objection and reversal entry %d", payload, reversal)
	}
	// The reversal takes effect with the entry it cancels: the balance never dips.
	f.set(want.Add(time.Hour))
	if b, p := f.balance(hh); b != 0 || p != 0 {
		t.Fatalf("after the original publicity: balance %d publicity %d", b, p)
	}
	// Objecting again while it is pending is refused.
	_, err = object("13800000015", "再次")
	refused(t, err, "待审核")
	// Approved again: a new entry with a new publicity period.
	res = f.mustDecide("13800000005", c.ID, true)
	if !res.Entry.EffectiveAt.Equal(f.at().AddDate(0, 0, 3)) {
		t.Fatalf("second entry effective %s", res.Entry.EffectiveAt)
	}
	f.set(res.Entry.EffectiveAt)
	if b, p := f.balance(hh); b != 5 || p != 0 {
		t.Fatalf("after the second publicity: balance %d publicity %d", b, p)
	}
	// After publicity an objection is refused: corrections are deductions.
	_, err = object("13800000015", "太晚了")
	refused(t, err, "公示期已于")
	// The ledger holds award, reversal, award: nothing was changed in place.
	if n := f.count(`SELECT count(*) FROM point_ledger WHERE claim_id = $1`, c.ID); n != 3 {
		t.Fatalf("%d ledger entries", n)
	}
}

func TestVetoExcludesFromRankingAndFreezes(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.PublicityDays = 0 })
	h1 := f.mustClaim("13800000006", "B01", "")
	f.mustDecide("13800000005", h1.ID, true)
	h2 := f.mustClaim("13800000007", "B04", "")
	f.mustDecide("13800000005", h2.ID, true)
	pending := f.mustClaim("13800000007", "A02", "")
	deduct := func(target, item string) (villagepoints.DecisionResult, error) {
		var res villagepoints.DecisionResult
		err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
			res, err = villagepoints.Of(a).RecordDeduction(f.ctx, f.actor("13800000005"), villagepoints.DeductRequest{Target: target, Item: item, Note: "派出所通报"})
			return err
		})
		return res, err
	}
	// /deduct refuses items villagers claim themselves.
	_, err := deduct("H002", "B04")
	refused(t, err, "是加分项目")
	// A deduction by phone, then a veto by household code.
	res, err := deduct("13800000006", "A08")
	if err != nil || res.Entry == nil || res.Entry.Points != -5 || res.Claim.Kind != storage.ClaimKindDeduction {
		t.Fatalf("deduction %+v %v", res, err)
	}
	res, err = deduct("H002", "E02")
	if err != nil || !res.Claim.Veto || res.Entry.Points != 0 {
		t.Fatalf("veto %+v %v", res, err)
	}
	if got, _ := f.a.Store.ClaimByID(f.ctx, pending.ID); got.Status != storage.ClaimFrozen {
		t.Fatalf("pending claim of the vetoed household is %s", got.Status)
	}
	_, err = f.claim("13800000007", "C04", "p")
	refused(t, err, "一票否决项目暂停积分申报")
	rk, err := villagepoints.Of(f.a).VillageRanking(f.ctx, f.actor("13800000006"), villagepoints.RankingRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rk.Rows) != 2 || rk.Rows[0].Code != "H001" || rk.Rows[0].Rank != 1 || rk.Rows[0].Points != 0 ||
		rk.Rows[1].Code != "H002" || !rk.Rows[1].Vetoed || rk.Rows[1].Rank != 0 || rk.Rows[1].Points != 3 {
		t.Fatalf("ranking %+v", rk.Rows)
	}
	// The veto lasts the settlement year of the act (points.veto_scope:
	// year): next month still, next year no longer.
	f.set(time.Date(2026, 12, 1, 0, 0, 0, 0, testdb.Loc))
	_, err = f.claim("13800000007", "C04", "p")
	refused(t, err, "一票否决项目暂停积分申报")
	f.set(time.Date(2027, 1, 1, 0, 0, 0, 0, testdb.Loc))
	f.mustClaim("13800000007", "C04", "p")
}

func TestSettlementRunTwiceChangesNothing(t *testing.T) {
	f := newPointsFixture(t, func(c *config.Config) { c.Points.PublicityDays = 0 })
	c := f.mustClaim("13800000006", "B01", "")
	f.mustDecide("13800000005", c.ID, true)
	// A redemption does not lower a rank.
	f.set(time.Date(2026, 11, 30, 12, 0, 0, 0, testdb.Loc))
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).Redeem(f.ctx, f.actor("13800000008"), villagepoints.RedeemRequest{Target: "H001", Points: 5})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Points effective in December do not count for November.
	f.set(time.Date(2026, 12, 1, 0, 2, 0, 0, testdb.Loc))
	c = f.mustClaim("13800000007", "B04", "")
	f.mustDecide("13800000005", c.ID, true)
	at := time.Date(2026, 12, 1, 0, 5, 0, 0, testdb.Loc)
	res, err := villagepoints.Of(f.a).Settle(f.ctx, domain.System, at)
	if err != nil || res.Period != "2026-11" || res.Settled != 2 {
		t.Fatalf("first run: %+v %v", res, err)
	}
	snapshot := func() string {
		var s string
		if err := f.a.Store.DB().GetContext(f.ctx, &s, `SELECT COALESCE(string_agg(id || ':' || period || ':' || ranking::text, '|' ORDER BY id), '') FROM settlements`); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	events := f.count(`SELECT count(*) FROM events WHERE type = 'settlement.closed'`)
	res, err = villagepoints.Of(f.a).Settle(f.ctx, domain.System, at.Add(time.Hour))
	if err != nil || res.Settled != 0 {
		t.Fatalf("second run: %+v %v", res, err)
	}
	if after := snapshot(); after != before {
		t.Fatalf("second run changed settlements:\n%s\n%s", before, after)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'settlement.closed'`); n != events || n != 2 {
		t.Fatalf("settlement.closed events %d then %d", events, n)
	}
	ss, err := villagepoints.Of(f.a).Settlements(f.ctx, domain.Operator, "QA-RZ-XZ", "2026-11")
	if err != nil || len(ss) != 1 {
		t.Fatalf("settlements %v %v", ss, err)
	}
	rows, _ := ss[0].Ranking()
	if len(rows) != 2 || rows[0].Household != "H001" || rows[0].Points != 5 || rows[0].Rank != 1 || rows[1].Points != 0 || rows[1].Rank != 2 {
		t.Fatalf("ranking %+v", rows)
	}
}

func TestObjectionToVetoUnfreezes(t *testing.T) {
	f := newPointsFixture(t, nil) // publicity 3 days
	pending := f.mustClaim("13800000007", "A02", "")
	var veto villagepoints.DecisionResult
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) (err error) {
		veto, err = villagepoints.Of(a).RecordDeduction(f.ctx, f.actor("13800000005"), villagepoints.DeductRequest{Target: "H002", Item: "E03"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.a.Store.ClaimByID(f.ctx, pending.ID); got.Status != storage.ClaimFrozen || got.FrozenBy == nil || *got.FrozenBy != veto.Claim.ID {
		t.Fatalf("frozen: %+v", got)
	}
	f.set(f.at().Add(time.Hour))
	if err := f.a.InTxRefusable(f.ctx, func(a *app.App) error {
		_, err := villagepoints.Of(a).ObjectClaim(f.ctx, f.actor("13800000015"), veto.Claim.ID, "上访已依法处理，不属非正常上访")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.a.Store.ClaimByID(f.ctx, pending.ID); got.Status != storage.ClaimPending || got.FrozenBy != nil || got.CardVersion != 1 {
		t.Fatalf("unfrozen: %+v", got)
	}
	// While the veto is reviewed again it does not apply.
	f.mustClaim("13800000007", "B04", "")
	f.mustDecide("13800000005", veto.Claim.ID, false)
	f.mustDecide("13800000005", pending.ID, true)
	rk, err := villagepoints.Of(f.a).VillageRanking(f.ctx, f.actor("13800000007"), villagepoints.RankingRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rk.Rows {
		if r.Vetoed {
			t.Fatalf("vetoed after the veto was rejected: %+v", rk.Rows)
		}
	}
	if n := f.count(`SELECT count(*) FROM point_ledger WHERE claim_id = $1`, veto.Claim.ID); n != 2 {
		t.Fatalf("veto entries %d, want the veto and its reversal", n)
	}
}
