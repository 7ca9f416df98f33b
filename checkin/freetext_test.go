package checkin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/domain/callback"
	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

// A reply to a free-text check-in's card corrects the reading (SPEC §7.3):
// only its sender's, only while it waits, and it is recorded on 确认.
func TestCorrectCheckinText(t *testing.T) {
	f := newCIFixture(t)
	const chat = 7001 // the secretary's private chat
	read := func(msgID int64) int64 {
		t.Helper()
		v, ok, err := checkin.Of(f.app).ReadCheckinText(f.ctx, f.sec, checkin.TextMessage{ChatID: chat, MessageID: msgID, Text: "昨天开了支委会，5个人都到了，商量冬季防火"})
		if err != nil || !ok || v.PendingID == 0 || !v.Reading.TopicToConfirm {
			t.Fatalf("read: %+v %v %v", v, ok, err)
		}
		return v.PendingID
	}
	id := read(1)
	correct := func(actor domain.Actor, chatID int64, card checkin.TextCard, text string) (checkin.ReadingView, bool, error) {
		return checkin.Of(f.app).CorrectCheckinText(f.ctx, actor, checkin.TextMessage{ChatID: chatID, MessageID: 9, Text: text}, card)
	}
	card := checkin.TextCard{MessageID: 2, PendingID: id}

	refusals := []struct {
		name  string
		actor domain.Actor
		text  string
		want  string
	}{
		{"another's correction", f.org, "主题是学习党章", "只有发送人才能修改"},
		{"not understood", f.sec, "不对", "没有看懂要改什么"},
		{"an impossible attendance", f.sec, "实到6人", "没有改成，请核对后再回复：\n❓ 实到6人多于应到5人，请核对。"},
	}
	for _, tt := range refusals {
		_, ok, err := correct(tt.actor, chat, card, tt.text)
		var ue *domain.UserError
		if ok || !errors.As(err, &ue) || !strings.Contains(ue.Msg, tt.want) {
			t.Fatalf("%s: %v %v, want a refusal %q", tt.name, ok, err, tt.want)
		}
	}
	for _, tt := range []struct {
		name  string
		actor domain.Actor
		chat  int64
		card  checkin.TextCard
		text  string
	}{
		{"another's remark", f.org, chat, card, "辛苦了"},
		{"a card of another chat", f.sec, 7002, card, "实到4人"},
		{"a message that is no card", f.sec, chat, checkin.TextCard{MessageID: 99}, "实到4人"},
	} {
		if v, ok, err := correct(tt.actor, tt.chat, tt.card, tt.text); ok || err != nil {
			t.Fatalf("%s: %+v %v %v, want it left alone", tt.name, v, ok, err)
		}
	}

	// The sender's corrections, the second through the card's message id
	// alone (its buttons gone from the reply).
	v, ok, err := correct(f.sec, chat, card, "主题是学习党章")
	if err != nil || !ok || v.PendingID != id || v.Reading.Topic != "学习党章" || v.Reading.TopicToConfirm || v.Command != "打卡 支委会 11月25日 5/5 学习党章" {
		t.Fatalf("topic: %+v %v %v", v, ok, err)
	}
	if err := f.st.Enqueue(f.ctx, storage.OutMessage{DedupeKey: storage.PendingTextKey(id), ChatID: chat, Priority: storage.PriorityReply,
		Kind: "reply", Payload: map[string]any{"text": "card"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.DB().ExecContext(f.ctx, `UPDATE outbox SET status = 'sent', tg_message_id = 2 WHERE dedupe_key = $1`, storage.PendingTextKey(id)); err != nil {
		t.Fatal(err)
	}
	v, ok, err = correct(f.sec, chat, checkin.TextCard{MessageID: 2}, "实到4人")
	if err != nil || !ok || v.Reading.Present != 4 || v.Reading.Total != 5 || v.Reading.Topic != "学习党章" || len(v.Activities) != 1 {
		t.Fatalf("attendance: %+v %v %v", v, ok, err)
	}
	if n := countCheckins(t, f); n != 0 {
		t.Fatalf("%d check-ins before 确认", n)
	}
	// 确认 goes on with the corrected request (to the period keyboard: October's
	// meeting is missing).
	out, err := checkin.Of(f.app).ActOnText(f.ctx, f.sec, id, callback.TextConfirm)
	if q := out.Request; err != nil || out.ChoosePeriod == nil || q.Present != 4 || q.Total != 5 || q.Topic != "学习党章" || !q.Date.Equal(time.Date(2026, 11, 25, 0, 0, 0, 0, ciLoc)) {
		t.Fatalf("confirm: %+v %v", out, err)
	}

	// A card no longer waiting says why.
	cancelled := read(3)
	if _, err := checkin.Of(f.app).ActOnText(f.ctx, f.sec, cancelled, callback.TextCancel); err != nil {
		t.Fatal(err)
	}
	edited := read(4)
	if _, err := checkin.Of(f.app).ActOnText(f.ctx, f.sec, edited, callback.TextEdit); err != nil {
		t.Fatal(err)
	}
	expired := read(5)
	f.now = f.now.Add(25 * time.Hour)
	for _, tt := range []struct {
		id   int64
		want string
	}{
		{id, "已经确认记录了"}, {cancelled, "已经取消"}, {edited, "已点过“✏️ 修改”"}, {expired, "已超过 24 小时未确认"},
	} {
		_, ok, err := correct(f.sec, chat, checkin.TextCard{MessageID: 2, PendingID: tt.id}, "实到3人")
		var ue *domain.UserError
		if ok || !errors.As(err, &ue) || !strings.Contains(ue.Msg, tt.want) {
			t.Fatalf("card %d: %v %v, want %q", tt.id, ok, err, tt.want)
		}
	}
	if n := countCheckins(t, f); n != 0 {
		t.Fatalf("%d check-ins", n)
	}
}

func countCheckins(t *testing.T, f *ciFixture) int {
	t.Helper()
	return testdb.Count(t, f.st, `SELECT count(*) FROM checkins`)
}

// In a group only a secretary of the branch the group is bound to is read.
func TestReadCheckinTextInGroup(t *testing.T) {
	f := newCIFixture(t)
	const branchChat, townChat, unbound = -7101, -7102, -7103
	for chat, unit := range map[int64]int64{branchChat: f.branch.ID, townChat: f.town.ID} {
		if err := f.st.BindGroup(f.ctx, chat, unit, "群", 0); err != nil {
			t.Fatal(err)
		}
	}
	for i, tt := range []struct {
		actor domain.Actor
		chat  int64
		want  bool
	}{{f.sec, branchChat, true}, {f.org, branchChat, false}, {f.sec, townChat, false}, {f.sec, unbound, false}} {
		msg := checkin.TextMessage{ChatID: tt.chat, MessageID: int64(i + 1), InGroup: true, Text: "昨天开了支委会，5个人都到了，商量冬季防火"}
		if _, ok, err := checkin.Of(f.app).ReadCheckinText(f.ctx, tt.actor, msg); err != nil || ok != tt.want {
			t.Errorf("%s in chat %d: read %v %v, want %v", tt.actor.Label, tt.chat, ok, err, tt.want)
		}
	}
}
