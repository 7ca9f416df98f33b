package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/zhibu/zhibu/internal/testdb"
	"github.com/zhibu/zhibu/storage"
)

func enqueue(t *testing.T, s *storage.Store, key string, chat int64, prio int, method string, payload any) int64 {
	t.Helper()
	err := s.Enqueue(context.Background(), storage.OutMessage{
		DedupeKey: key, ChatID: chat, Priority: prio, Method: method, Payload: payload,
	})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := s.DB().Get(&id, `SELECT id FROM outbox WHERE dedupe_key = $1`, key); err != nil {
		t.Fatal(err)
	}
	return id
}

func claimKeys(t *testing.T, s *storage.Store, c storage.OutboxClaim) []string {
	t.Helper()
	if c.Channel == "" {
		c.Channel = "telegram"
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	rows, err := s.ClaimOutbox(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.DedupeKey)
	}
	sort.Strings(keys)
	return keys
}

func TestClaimOutboxOrderPerChat(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	text := map[string]string{"text": "x"}
	enqueue(t, s, "a-bulk", 1, storage.PriorityBulk, "", text)
	enqueue(t, s, "a-reply", 1, storage.PriorityReply, "", text)
	enqueue(t, s, "b-green", 2, storage.PriorityGreen, "", text)
	enqueue(t, s, "cb1", 0, storage.PriorityReply, storage.MethodAnswerCallback, map[string]any{"callback_query_id": "1"})
	enqueue(t, s, "cb2", 0, storage.PriorityReply, storage.MethodAnswerCallback, map[string]any{"callback_query_id": "2"})

	// One row per chat, the chat's first by (priority, id); callback answers are outside chats.
	got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10})
	if fmt.Sprint(got) != "[a-reply b-green cb1 cb2]" {
		t.Fatalf("first claim: %v", got)
	}
	// a-reply is in flight: a-bulk waits.
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10}); len(got) != 0 {
		t.Fatalf("claimed while the chat's row is in flight: %v", got)
	}
	r, _ := s.OutboxByKey(ctx, "a-reply")
	if ok, err := s.OutboxSent(ctx, r.ID, r.Attempts+1, []int64{7}, time.Now()); err != nil || ok {
		t.Fatalf("sent with a stale attempt: %v %v", ok, err)
	}
	if ok, err := s.OutboxSent(ctx, r.ID, r.Attempts, []int64{7}, time.Now()); err != nil || !ok {
		t.Fatalf("sent: %v %v", ok, err)
	}
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10}); fmt.Sprint(got) != "[a-bulk]" {
		t.Fatalf("after the reply was sent: %v", got)
	}
	// Several at once; a stale attempt is skipped.
	var recs []storage.OutboxSentRecord
	for _, key := range []string{"a-bulk", "b-green", "cb1"} {
		r := e2row(t, s, key)
		recs = append(recs, storage.OutboxSentRecord{ID: r.ID, Attempt: r.Attempts, MessageIDs: []int64{8, 9}, At: time.Now()})
	}
	recs = append(recs, storage.OutboxSentRecord{ID: e2row(t, s, "cb2").ID, Attempt: 5, At: time.Now()})
	if n, err := s.OutboxSentBatch(ctx, recs); err != nil || n != 3 {
		t.Fatalf("batch: %d %v", n, err)
	}
	if r := e2row(t, s, "b-green"); r.Status != storage.OutboxSent || r.MessageID.Int64 != 9 || len(r.MessageIDs) != 2 {
		t.Fatalf("batch-sent row: %+v", r)
	}
	if r := e2row(t, s, "cb2"); r.Status != storage.OutboxSending {
		t.Fatalf("stale attempt recorded: %+v", r)
	}
	r, _ = s.OutboxByKey(ctx, "a-reply")
	if r.Status != storage.OutboxSent || r.MessageID.Int64 != 7 || !r.SentAt.Valid || r.Attempts != 1 {
		t.Fatalf("sent row: %+v", r)
	}
}

func TestClaimOutboxWaitsAndSkips(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	text := map[string]string{"text": "x"}
	now := time.Now()
	// A row scheduled for later does not hold its chat up ...
	if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: "later", ChatID: 1, Priority: storage.PriorityReply,
		Payload: text, NotBefore: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	enqueue(t, s, "now", 1, storage.PriorityBulk, "", text)
	enqueue(t, s, "other", 2, storage.PriorityBulk, "", text)
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10, SkipChats: []int64{2}}); fmt.Sprint(got) != "[now]" {
		t.Fatalf("claim: %v", got)
	}
	// ... but a row waiting for a retry does.
	r, _ := s.OutboxByKey(ctx, "now")
	if ok, err := s.OutboxRetry(ctx, storage.OutboxRequeue{ID: r.ID, Attempt: r.Attempts, NotBefore: now.Add(time.Minute),
		Error: "500", Failure: true}); err != nil || !ok {
		t.Fatalf("retry: %v %v", ok, err)
	}
	enqueue(t, s, "after", 1, storage.PriorityBulk, "", text)
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10, SkipChats: []int64{2}}); len(got) != 0 {
		t.Fatalf("claimed behind a row waiting for a retry: %v", got)
	}
	got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10, Now: now.Add(2 * time.Minute)})
	if fmt.Sprint(got) != "[now other]" {
		t.Fatalf("after the back-off: %v", got)
	}
	r, _ = s.OutboxByKey(ctx, "now")
	if r.Attempts != 2 || r.Failures != 1 || r.LastError.String != "500" {
		t.Fatalf("counters: %+v", r)
	}
	// An untried put-back gives the attempt back.
	if ok, err := s.OutboxRetry(ctx, storage.OutboxRequeue{ID: r.ID, Attempt: r.Attempts, NotBefore: now, Untried: true}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if r, _ = s.OutboxByKey(ctx, "now"); r.Attempts != 1 || r.Status != storage.OutboxPending {
		t.Fatalf("untried: %+v", r)
	}
}

func TestClaimOutboxOldestShare(t *testing.T) {
	s := testdb.New(t)
	text := map[string]string{"text": "x"}
	enqueue(t, s, "old-bulk", 100, storage.PriorityBulk, "", text)
	for i := range 5 {
		enqueue(t, s, fmt.Sprintf("reply-%d", i), int64(i+1), storage.PriorityReply, "", text)
	}
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 2}); fmt.Sprint(got) != "[reply-0 reply-1]" {
		t.Fatalf("by priority: %v", got)
	}
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 1, ByAge: 1}); fmt.Sprint(got) != "[old-bulk reply-2]" {
		t.Fatalf("with an age share: %v", got)
	}
}

func TestClaimOutboxEditWaitsForOriginal(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	enqueue(t, s, "card", -5, storage.PriorityDefault, "", map[string]string{"text": "card"})
	enqueue(t, s, "card:edit", -5, storage.PriorityReply, "editMessageText", map[string]string{"edit_of": "card", "text": "done"})
	// The edit ranks first but waits for its original, and does not block it.
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10}); fmt.Sprint(got) != "[card]" {
		t.Fatalf("claim: %v", got)
	}
	r, _ := s.OutboxByKey(ctx, "card")
	if _, err := s.OutboxSent(ctx, r.ID, r.Attempts, []int64{41, 42}, time.Now()); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: time.Now(), Lease: time.Minute, ByPriority: 10})
	if err != nil || len(rows) != 1 {
		t.Fatalf("edit claim: %v %v", rows, err)
	}
	e := rows[0]
	if e.EditOf.String != "card" || e.OrigStatus.String != "sent" || e.OrigChatID.Int64 != -5 || e.OrigMessageID.Int64 != 42 {
		t.Fatalf("edit row: %+v", e)
	}
}

func TestClaimOutboxTwoStoresNeverShareARow(t *testing.T) {
	ctx := context.Background()
	url := testdb.URL(t)
	open := func() *storage.Store {
		db, err := sqlx.Open("postgres", url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return storage.New(db)
	}
	a, b := open(), open()
	const n = 400
	for i := range n {
		enqueue(t, a, fmt.Sprintf("m%d", i), int64(i%50+1), i%7, "", map[string]string{"text": "x"})
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for _, s := range []*storage.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 20; {
				rows, err := s.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: time.Now(), Lease: time.Minute, ByPriority: 7, ByAge: 1})
				if err != nil {
					t.Error(err)
					return
				}
				if len(rows) == 0 {
					idle++
					time.Sleep(5 * time.Millisecond)
					continue
				}
				idle = 0
				for _, r := range rows {
					mu.Lock()
					seen[r.ID]++
					mu.Unlock()
					if _, err := s.OutboxSent(ctx, r.ID, r.Attempts, []int64{1}, time.Now()); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct rows of %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("row %d claimed %d times", id, c)
		}
	}
}

func TestOutboxLeaseRecoveryAndFailures(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	text := map[string]string{"text": "x"}
	enqueue(t, s, "stuck", 1, 0, "", text)
	enqueue(t, s, "blocked", 2, 0, "", text)
	enqueue(t, s, "bad", 3, 0, "", text)
	now := time.Now()
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10, Lease: time.Second, Now: now}); len(got) != 3 {
		t.Fatalf("claim: %v", got)
	}
	if n, err := s.RecoverOutboxLeases(ctx, "telegram", now); err != nil || n != (storage.OutboxTakenBack{}) {
		t.Fatalf("recovered before the lease ran out: %d %v", n, err)
	}
	if n, err := s.RecoverOutboxLeases(ctx, "dingtalk", now.Add(2*time.Second)); err != nil || n != (storage.OutboxTakenBack{}) {
		t.Fatalf("another channel's dispatcher recovered telegram leases: %d %v", n, err)
	}
	if n, err := s.RecoverOutboxLeases(ctx, "telegram", now.Add(2*time.Second)); err != nil || n != (storage.OutboxTakenBack{Requeued: 3}) {
		t.Fatalf("recover: %d %v", n, err)
	}
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10, Now: now.Add(2 * time.Second)}); len(got) != 3 {
		t.Fatalf("reclaim: %v", got)
	}
	for key, reason := range map[string]string{"blocked": storage.UnreachablePrefix + "Forbidden: bot was blocked by the user", "bad": "Bad Request: can't parse entities"} {
		r, _ := s.OutboxByKey(ctx, key)
		if ok, err := s.OutboxFail(ctx, r.ID, r.Attempts, reason, nil, now); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	all, err := s.FailedOutbox(ctx, storage.FailedQuery{})
	if err != nil || len(all) != 2 {
		t.Fatalf("failed: %v %v", all, err)
	}
	un, err := s.FailedOutbox(ctx, storage.FailedQuery{UnreachableOnly: true})
	if err != nil || len(un) != 1 || un[0].DedupeKey != "blocked" || !un[0].Unreachable || un[0].Attempts != 2 {
		t.Fatalf("unreachable: %+v %v", un, err)
	}
	st, err := s.OutboxStatsOf(ctx, "telegram", now)
	if err != nil || st.Sending != 1 || st.FailedLast != 2 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	// A row pending long past its due time expires.
	enqueue(t, s, "old", 9, storage.PriorityBulk, "", text)
	if n, err := s.ExpireOutbox(ctx, "telegram", time.Now().Add(time.Hour), time.Now()); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if r, _ := s.OutboxByKey(ctx, "old"); r.Status != storage.OutboxFailed || r.FailedReason.String != "expired: not sent in time" {
		t.Fatalf("expired row: %+v", r)
	}
}

func e2row(t *testing.T, s *storage.Store, key string) storage.OutboxRecord {
	t.Helper()
	r, err := s.OutboxByKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A claim made under a superseded leadership (leader.Fence) is refused by
// the database and takes nothing.
func TestClaimOutboxRefusesAStaleFence(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	enqueue(t, s, "fenced", 1, 0, "", map[string]string{"text": "x"})
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO leader_epoch (key, epoch) VALUES (7, 2)`); err != nil {
		t.Fatal(err)
	}
	for _, stale := range []storage.LeaderFence{{Key: 7, Epoch: 1}, {Key: 8, Epoch: 2}} {
		rows, err := s.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: time.Now(), Lease: time.Minute, ByPriority: 10, Fence: stale})
		if !errors.Is(err, storage.ErrStaleLeader) || len(rows) != 0 {
			t.Fatalf("claim under %+v: %d rows, %v; want ErrStaleLeader", stale, len(rows), err)
		}
	}
	if r, _ := s.OutboxByKey(ctx, "fenced"); r.Status != "pending" || r.Attempts != 0 {
		t.Fatalf("a refused claim touched the row: %+v", r)
	}
	if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10, Fence: storage.LeaderFence{Key: 7, Epoch: 2}}); len(got) != 1 {
		t.Fatalf("claim under the current epoch: %v", got)
	}
}

// A new leader takes back at once the rows in flight under an older epoch
// of its key, not those of its own epoch, of another key or another
// channel; and only while its own epoch is current.
func TestRecoverOutboxFromOldLeaders(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	text := map[string]string{"text": "x"}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO leader_epoch (key, epoch) VALUES (7, 1), (9, 1)`); err != nil {
		t.Fatal(err)
	}
	claim := func(key string, chat int64, f storage.LeaderFence) {
		t.Helper()
		enqueue(t, s, key, chat, 0, "", text)
		if got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 1, Now: time.Now(), Lease: time.Hour, Fence: f, SkipChats: othersThan(chat)}); len(got) != 1 || got[0] != key {
			t.Fatalf("claim %s: %v", key, got)
		}
	}
	claim("old", 1, storage.LeaderFence{Key: 7, Epoch: 1})
	claim("otherkey", 2, storage.LeaderFence{Key: 9, Epoch: 1})
	claim("unfenced", 3, storage.LeaderFence{})
	if _, err := s.DB().ExecContext(ctx, `UPDATE leader_epoch SET epoch = 2 WHERE key = 7`); err != nil {
		t.Fatal(err)
	}
	claim("mine", 4, storage.LeaderFence{Key: 7, Epoch: 2})
	if n, err := s.RecoverOutboxFromOldLeaders(ctx, "telegram", storage.LeaderFence{Key: 7, Epoch: 1}, time.Now()); err != nil || n != (storage.OutboxTakenBack{}) {
		t.Fatalf("a superseded leader recovered %d rows (%v)", n, err)
	}
	if n, err := s.RecoverOutboxFromOldLeaders(ctx, "dingtalk", storage.LeaderFence{Key: 7, Epoch: 2}, time.Now()); err != nil || n != (storage.OutboxTakenBack{}) {
		t.Fatalf("another channel: %d %v", n, err)
	}
	if n, err := s.RecoverOutboxFromOldLeaders(ctx, "telegram", storage.LeaderFence{Key: 7, Epoch: 2}, time.Now()); err != nil || n != (storage.OutboxTakenBack{Requeued: 1}) {
		t.Fatalf("recovered %d rows (%v), want 1", n, err)
	}
	for key, want := range map[string]string{"old": "pending", "otherkey": "sending", "unfenced": "sending", "mine": "sending"} {
		if r, _ := s.OutboxByKey(ctx, key); r.Status != want {
			t.Errorf("%s: %s, want %s", key, r.Status, want)
		}
	}
}

// othersThan lists chats 1..9 but chat, so a claim takes only chat's row.
func othersThan(chat int64) []int64 {
	var out []int64
	for c := int64(1); c <= 9; c++ {
		if c != chat {
			out = append(out, c)
		}
	}
	return out
}

// A row sent at most once (a red health notice) whose call had begun
// (OutboxCalling) is not put back when taken back, by a new leader or after
// its lease, but ends uncertain; rows of every other kind, and a red notice
// whose call had not begun, go back to pending. A superseded leader or a
// row already taken back cannot begin a call.
func TestTakenBackAtMostOnceRowsEndUncertain(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO leader_epoch (key, epoch) VALUES (7, 1)`); err != nil {
		t.Fatal(err)
	}
	old := storage.LeaderFence{Key: 7, Epoch: 1}
	now := time.Now()
	claim := func(key string, chat int64, kind string, prio int, f storage.LeaderFence, lease time.Duration) storage.OutboxRow {
		t.Helper()
		if err := s.Enqueue(ctx, storage.OutMessage{DedupeKey: key, ChatID: chat, Kind: kind, Priority: prio, Payload: map[string]string{"text": key}}); err != nil {
			t.Fatal(err)
		}
		rows, err := s.ClaimOutbox(ctx, storage.OutboxClaim{Channel: "telegram", Now: time.Now(), Lease: lease, ByPriority: 1, Fence: f, SkipChats: othersThan(chat)})
		if err != nil || len(rows) != 1 || rows[0].DedupeKey != key {
			t.Fatalf("claim %s: %+v %v", key, rows, err)
		}
		return rows[0]
	}
	calling := func(r storage.OutboxRow) bool {
		t.Helper()
		ok, err := s.OutboxCalling(ctx, r.ID, r.Attempts, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	red := claim("red", 1, storage.KindHealth, storage.PriorityRed, old, time.Hour)
	robot := claim("robot", 2, storage.KindRobot, storage.PriorityRed, old, time.Hour)
	claim("red-not-called", 3, storage.KindHealth, storage.PriorityRed, old, time.Hour)
	reply := claim("reply", 4, "reply", storage.PriorityRed, old, time.Hour)
	late := claim("red-late", 5, storage.KindHealth, storage.PriorityRed, old, time.Hour)
	if storage.AtMostOnce(reply.Kind, reply.Priority) || storage.AtMostOnce(storage.KindHealth, storage.PriorityYellow) ||
		!storage.AtMostOnce(red.Kind, red.Priority) || !storage.AtMostOnce(robot.Kind, robot.Priority) {
		t.Fatal("AtMostOnce: want the red health notices only")
	}
	// The dispatcher marks the rows sent at most once, and only once their
	// call is about to be made: not unmarked's, not reply's.
	if !calling(red) || !calling(robot) {
		t.Fatal("OutboxCalling refused a row of the current leadership")
	}

	if _, err := s.DB().ExecContext(ctx, `UPDATE leader_epoch SET epoch = 2 WHERE key = 7`); err != nil {
		t.Fatal(err)
	}
	if calling(late) {
		t.Fatal("a superseded leader began a call")
	}
	at := now.Add(time.Second).UTC().Truncate(time.Microsecond)
	n, err := s.RecoverOutboxFromOldLeaders(ctx, "telegram", storage.LeaderFence{Key: 7, Epoch: 2}, at)
	if err != nil || n != (storage.OutboxTakenBack{Requeued: 3, Uncertain: 2}) {
		t.Fatalf("taken back %+v (%v), want 3 requeued and 2 uncertain", n, err)
	}
	for key, want := range map[string]string{"red": storage.OutboxUncertain, "robot": storage.OutboxUncertain,
		"red-not-called": storage.OutboxPending, "reply": storage.OutboxPending, "red-late": storage.OutboxPending} {
		r := e2row(t, s, key)
		if r.Status != want {
			t.Errorf("%s: %s, want %s", key, r.Status, want)
		}
		if want == storage.OutboxUncertain && (r.FailedReason.String != storage.LeaderReplacedReason || r.LastError.String != storage.LeaderReplacedReason) {
			t.Errorf("%s: reason %q / %q", key, r.FailedReason.String, r.LastError.String)
		}
	}
	if calling(red) {
		t.Fatal("a call began on a row that ended uncertain")
	}
	// Uncertain is final: the red row is never claimed again, and the
	// chat's next message is not held up behind it.
	enqueue(t, s, "after-red", 1, storage.PriorityDefault, "", map[string]string{"text": "x"})
	got := claimKeys(t, s, storage.OutboxClaim{ByPriority: 10, Fence: storage.LeaderFence{Key: 7, Epoch: 2}})
	if strings.Join(got, ",") != "after-red,red-late,red-not-called,reply" {
		t.Fatalf("claimed after the take-back: %v", got)
	}

	// After a lease: a marked red row ends uncertain, its reason the lease's.
	leased := claim("red-leased", 6, storage.KindHealth, storage.PriorityRed, storage.LeaderFence{Key: 7, Epoch: 2}, time.Second)
	if !calling(leased) {
		t.Fatal("OutboxCalling refused the current leader's row")
	}
	n, err = s.RecoverOutboxLeases(ctx, "telegram", time.Now().Add(2*time.Second))
	if err != nil || n.Uncertain != 1 {
		t.Fatalf("lease recovery %+v (%v), want 1 uncertain", n, err)
	}
	if r := e2row(t, s, "red-leased"); r.Status != storage.OutboxUncertain || r.FailedReason.String != storage.LeaseExpiredReason {
		t.Fatalf("red-leased: %+v", r)
	}
}

// A claim locks the handful of rows it picked through the primary key,
// not by walking the whole pending index: with a young partition's
// statistics (never analysed here, as after a burst in production) the
// planner took such a walk for free, and it cost 5.8 ms a claim at 41,000
// pending rows (BENCHMARKS.md).
func TestClaimLocksItsRowsByPrimaryKey(t *testing.T) {
	ctx := context.Background()
	s := testdb.New(t)
	dbNow, err := s.DatabaseNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, s, `INSERT INTO outbox (dedupe_key, chat_id, payload) SELECT 'q:' || i, i, '{"text":"x"}' FROM generate_series(1, 3000) i`)
	plan, err := s.ExplainClaim(ctx, "telegram", dbNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var doc []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan: %v\n%s", err, plan)
	}
	var indexes []string
	removed := 0
	var walk func(n map[string]any, inLock bool)
	walk = func(n map[string]any, inLock bool) {
		// The step's own reads: its input, the picked ids, is an InitPlan.
		switch {
		case n["Subplan Name"] == "CTE locked":
			inLock = true
		case n["Parent Relationship"] == "InitPlan" || n["Parent Relationship"] == "SubPlan":
			inLock = false
		}
		if inLock {
			if ix, ok := n["Index Name"].(string); ok {
				indexes = append(indexes, ix)
			}
			r, _ := n["Rows Removed by Filter"].(float64)
			removed += int(r)
		}
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				walk(m, inLock)
			}
		}
	}
	walk(doc[0].Plan, false)
	if len(indexes) == 0 || removed > 20 {
		t.Fatalf("the lock step read %d rows it did not want, through %v:\n%s", removed, indexes, plan)
	}
	// One month's partition holds the rows; the others are empty, and any
	// index of theirs is as good.
	var held time.Time
	if err := s.DB().Get(&held, `SELECT part_month FROM outbox LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	month := "outbox_p" + held.Format("200601") + "_"
	for _, ix := range indexes {
		if strings.HasPrefix(ix, month) && ix != month+"pkey" {
			t.Errorf("the lock step read through %s, want %spkey:\n%s", ix, month, plan)
		}
	}
	if !slices.Contains(indexes, month+"pkey") {
		t.Errorf("the lock step did not read %spkey: %v", month, indexes)
	}
}
