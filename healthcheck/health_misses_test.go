package healthcheck_test

import (
	"testing"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/healthcheck"
	"github.com/zhibu/zhibu/storage"
)

// A red notice whose send may or may not have arrived, and that is not
// sent again (an at-most-once row taken back in flight ends uncertain), is
// listed among the misses so that the township can check by phone.
func TestUncertainRedNoticeIsAMiss(t *testing.T) {
	f := hcNotifyCounty(t, hcAt(2026, 11, 9, 9, 0))
	_, digests := f.run(f.now)
	d, ok := digests["王书记"]
	if !ok {
		t.Fatalf("no digest for the secretary: %v", digests)
	}
	_, before, err := healthcheck.Of(f.app).Misses(f.ctx, domain.Operator, "QA", f.now.AddDate(0, 0, -1), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range before {
		if m.Person == "王书记" {
			t.Fatalf("the secretary's notice is a miss before anything went wrong: %+v", m)
		}
	}
	res, err := f.st.DB().ExecContext(f.ctx, `UPDATE outbox SET status = $2, failed_reason = 'leader_changed'
		WHERE channel = 'telegram' AND chat_id = $1 AND priority = $3`, d.ChatID, storage.OutboxUncertain, storage.PriorityRed)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("no red outbox row for the secretary's chat %d", d.ChatID)
	}
	_, after, err := healthcheck.Of(f.app).Misses(f.ctx, domain.Operator, "QA", f.now.AddDate(0, 0, -1), 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range after {
		if m.Person == "王书记" {
			found = m.Uncertain && m.Failed == "" && m.Level == "red"
			if !found {
				t.Errorf("the uncertain notice's miss: %+v", m)
			}
		}
	}
	if !found {
		t.Errorf("the uncertain red notice is not listed among the misses: %+v", after)
	}
}
