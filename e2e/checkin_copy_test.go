package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/zhibu/zhibu/config"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/internal/tgfake"
)

// ccStart is ciStart with checkins.organiser_copies set to copies and
// only B1's group bound.
func ccStart(t *testing.T, copies bool) *ciH {
	t.Helper()
	return ciStartB1(t, withConfig(func(c *config.Config) { c.Checkins.OrganiserCopies = copies }))
}

// ccAnswer waits for the answer to a callback query of user containing want.
func ccAnswer(t *testing.T, h *H, from models.User, want string) tgfake.CallbackAnswer {
	t.Helper()
	return waitAnswer(h, from.ID, want)
}

func (c *ciH) copies() int {
	c.t.Helper()
	return testdb.Count(c.t, c.Srv.Store, `SELECT count(*) FROM outbox WHERE kind = 'checkin_copy'`)
}

func TestCheckinOrganiserCopyAndRejectButton(t *testing.T) {
	h := ccStart(t, true)
	h.reply(h.b1, wang, "/checkin 支委会 11-25 7/9 学习<党章>", "打卡成功")
	ci := h.last()
	id := fmt.Sprint(ci.ID)

	// The township organiser (the nearest level with organisers) gets the copy.
	cp := h.waitMsg(ciZhao.ID, "#"+id)
	mustContain(t, cp.Text, "幸福村第一党支部", "支部委员会 · 2026年11月", "2026-11-25", "7/9",
		"学习&lt;党章&gt;", "佐证照片：无", "记录人：王书记")
	if strings.Contains(cp.Text, "QA-RZ-XZ-B1") {
		t.Fatalf("the copy shows the unit code: %q", cp.Text)
	}
	mustContain(t, cp.Plain, "学习<党章>")
	btn, ok := cp.Button("驳回")
	if !ok || btn.CallbackData != "cir:"+id || len(btn.CallbackData) > 64 {
		t.Fatalf("copy keyboard %+v", cp.Keyboard)
	}
	// Not the county organiser, nor the recorder.
	h.noMsg(ciQian.ID, "#"+id)
	h.noMsg(wang.ID, "驳回")
	if n := h.copies(); n != 1 {
		t.Fatalf("%d copies, want 1", n)
	}

	// Anyone who is not an organiser above the branch gets an alert and no prompt.
	for _, o := range []struct {
		u    models.User
		want string
	}{{zhou, "只有上级党组织的组织委员"}, {wang, "只有上级党组织的组织委员"}, {user(5999, "陌生人"), "还没有绑定账号"}} {
		u := o.u
		h.send(h.Fake.CallbackQuery(u, cp, btn.CallbackData))
		if a := ccAnswer(t, h.H, u, o.want); !a.ShowAlert {
			t.Fatalf("answer to %s is not an alert: %+v", u.FirstName, a)
		}
	}
	h.noMsg(ciZhao.ID, "请回复")

	// The organiser's tap asks for the reason.
	h.send(h.Fake.CallbackQuery(ciZhao, cp, btn.CallbackData))
	ccAnswer(t, h.H, ciZhao, "驳回理由")
	h.waitMsg(ciZhao.ID, "请回复：/reject "+id+" 理由")
	if c := h.last(); !c.Active() {
		t.Fatal("the tap changed the check-in")
	}

	// /reject then works; the secretary's group is told.
	h.reply(h.Fake.PrivateChat(ciZhao), ciZhao, "/reject "+id+" 缺少签到表照片", "已驳回")
	h.waitMsg(ciGroupB1, "缺少签到表照片")
	if c := h.last(); c.RejectedAt == nil {
		t.Fatal("not rejected")
	}

	// A second tap: already rejected.
	h.send(h.Fake.CallbackQuery(ciZhao, cp, btn.CallbackData))
	if a := ccAnswer(t, h.H, ciZhao, "已于"); !a.ShowAlert {
		t.Fatalf("not an alert: %+v", a)
	}

	// An extra record is copied too; a withdrawn one is refused at the tap.
	h.reply(h.b1, wang, "/checkin 支委会 11-25", "打卡成功")
	h.reply(h.b1, wang, "/checkin 支委会 11-26", "补充记录")
	extra := h.last()
	cp2 := h.waitMsg(ciZhao.ID, fmt.Sprintf("#%d", extra.ID))
	mustContain(t, cp2.Text, "补充记录")
	h.reply(h.b1, wang, "/undo", "已撤回")
	h.send(h.Fake.CallbackQuery(ciZhao, cp2, fmt.Sprintf("cir:%d", extra.ID)))
	if a := ccAnswer(t, h.H, ciZhao, "已被书记撤回"); !a.ShowAlert {
		t.Fatalf("not an alert: %+v", a)
	}

	// A branch whose township has no organiser: the county's get the copy,
	// and the other township's organiser may not reject it.
	h.reply(h.Fake.PrivateChat(ciFeng), ciFeng, "/checkin 支委会 11-25", "打卡成功")
	other := h.last()
	cp3 := h.waitMsg(ciQian.ID, fmt.Sprintf("#%d", other.ID))
	mustContain(t, cp3.Text, "和兴村党支部", "记录人：冯书记")
	h.noMsg(ciZhao.ID, "和兴村党支部")
	h.send(h.Fake.CallbackQuery(ciZhao, cp3, fmt.Sprintf("cir:%d", other.ID)))
	if a := ccAnswer(t, h.H, ciZhao, "上级党组织的组织委员或管理员才能驳回该支部"); !a.ShowAlert {
		t.Fatalf("not an alert: %+v", a)
	}
}

func TestCheckinOrganiserCopyOffByDefault(t *testing.T) {
	h := ccStart(t, config.Default().Checkins.OrganiserCopies)
	h.reply(h.b1, wang, "/checkin 支委会 11-25 7/9 学习", "打卡成功")
	h.drainOutbox()
	if n := h.copies(); n != 0 {
		t.Fatalf("%d copies with the key off", n)
	}
	h.noMsg(ciZhao.ID, "支部打卡")
	h.noMsg(ciQian.ID, "支部打卡")
}
