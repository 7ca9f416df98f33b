package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/bot"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/internal/testdb"
)

// registerWriters adds /keep, which creates a unit and replies, and /oops,
// which creates a unit, replies, audits a refusal and then refuses.
func (e *batchEnv) registerWriters() {
	e.router.Handle(bot.Command{Name: "keep", Handler: func(c *bot.Ctx) error {
		if _, err := c.App.Store.CreateUnit(c, "KEEP-"+c.Cmd.Args[0], "留下", domain.KindBranch, nil, time.Now()); err != nil {
			return err
		}
		return c.Reply("已记下。", nil)
	}})
	e.router.Handle(bot.Command{Name: "oops", Handler: func(c *bot.Ctx) error {
		if _, err := c.App.Store.CreateUnit(c, "GONE-"+c.Cmd.Args[0], "不该留下", domain.KindBranch, nil, time.Now()); err != nil {
			return err
		}
		if err := c.Reply("不该发出。", nil); err != nil {
			return err
		}
		return c.App.Refused(c, c.Actor, "test.oops", "unit:GONE-"+c.Cmd.Args[0], domain.Refuse(domain.ErrForbidden, "不行。"))
	}})
}

func (e *batchEnv) units(prefix string) int {
	e.t.Helper()
	return testdb.Count(e.t, e.store, `SELECT count(*) FROM units WHERE code LIKE $1 || '%'`, prefix)
}

func (e *batchEnv) refusalsAudited() int {
	e.t.Helper()
	return testdb.Count(e.t, e.store, `SELECT count(*) FROM audit_log WHERE action = 'test.oops' AND NOT allowed`)
}

// A handler that writes and then refuses leaves nothing but its audit
// entry and the refusal's reply.
func TestRefusalUndoesTheHandlersWrites(t *testing.T) {
	e := newBatchEnv(t)
	e.registerWriters()
	id := e.say(800, "/oops 1")
	if o, err := e.router.Process(e.ctx, id); err != nil || o != bot.OutcomeRefused {
		t.Fatalf("outcome %q %v, want refused", o, err)
	}
	if n := e.units("GONE-"); n != 0 {
		t.Fatalf("%d units of the refused handler committed", n)
	}
	if rs := e.replies(800); len(rs) != 1 || rs[0] != "不行。" {
		t.Fatalf("replies %q, want the refusal alone", rs)
	}
	if n := e.refusalsAudited(); n != 1 {
		t.Fatalf("refusal audited %d times, want 1", n)
	}
}

// Inside a batch, a refused update's writes are undone and its batch-mates'
// effects (before and after it) stay, in the same transaction.
func TestRefusalInABatchKeepsItsBatchMates(t *testing.T) {
	e := newBatchEnv(t)
	e.registerWriters()
	ids := []int64{e.say(810, "/keep 1"), e.say(811, "/oops 1"), e.say(812, "/help"), e.say(813, "/keep 2"), e.say(811, "/oops 2")}
	outcomes, err := e.router.ProcessBatch(e.ctx, jobs(ids...))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(outcomes, ","); got != "ok,refused,ok,ok,refused" {
		t.Fatalf("outcomes %s", got)
	}
	e.sameTransaction(ids...)
	if n := e.units("KEEP-"); n != 2 {
		t.Fatalf("batch-mates' units: %d, want 2", n)
	}
	if n := e.units("GONE-"); n != 0 {
		t.Fatalf("%d units of refused handlers committed", n)
	}
	for _, chat := range []int64{810, 813} {
		if rs := e.replies(chat); len(rs) != 1 || rs[0] != "已记下。" {
			t.Fatalf("chat %d replies %q", chat, rs)
		}
	}
	if rs := e.replies(812); len(rs) != 1 {
		t.Fatalf("/help replies %q", rs)
	}
	if rs := e.replies(811); len(rs) != 2 || rs[0] != "不行。" || rs[1] != "不行。" {
		t.Fatalf("refused chat's replies %q, want the two refusals alone", rs)
	}
	if n := e.refusalsAudited(); n != 2 {
		t.Fatalf("refusals audited %d times, want 2", n)
	}
	var pending int
	if err := e.store.DB().Get(&pending, `SELECT count(*) FROM outbox WHERE status = 'pending' AND kind = $1`, "reply"); err != nil {
		t.Fatal(err)
	}
	if pending != 5 {
		t.Fatalf("%d replies enqueued, want 5", pending)
	}
}
