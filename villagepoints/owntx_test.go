package villagepoints_test

import (
	"testing"

	"github.com/zhibu/zhibu/domain"
	"github.com/zhibu/zhibu/villagepoints"
)

// The use cases open their own transaction: called outside any, as the API
// or the CLI would, a refusal after a write leaves nothing of it but its
// audit entry, and a success commits.
func TestClaimUseCasesOpenTheirOwnTransaction(t *testing.T) {
	f := newPointsFixture(t, nil)
	vp := villagepoints.Of(f.a) // on the pool: no caller's transaction
	villager := f.actor("13800000006")
	res, err := vp.SubmitClaim(f.ctx, villager, villagepoints.ClaimRequest{Words: []string{"老人", "帮邻居照看"}, ChatID: 1})
	if err != nil || res.Choice == nil {
		t.Fatalf("ambiguous claim: %+v %v", res, err)
	}
	draft := res.Choice.DraftID
	if n := f.count(`SELECT count(*) FROM claim_drafts WHERE id = $1 AND used_at IS NULL`, draft); n != 1 {
		t.Fatalf("draft %d not committed", draft)
	}
	idx := offered(t, res.Choice, "B01")

	// The villager lost the role since: PickClaimItem takes the draft, then
	// refuses. Taking it is undone, the refusal stays audited.
	lapsed := villager
	lapsed.Roles = nil
	for _, r := range villager.Roles {
		if r.Role != domain.RoleVillager {
			lapsed.Roles = append(lapsed.Roles, r)
		}
	}
	_, _, err = vp.PickClaimItem(f.ctx, lapsed, draft, idx)
	refused(t, err, "只有已登记并绑定账号的村民")
	if n := f.count(`SELECT count(*) FROM claim_drafts WHERE id = $1 AND used_at IS NULL`, draft); n != 1 {
		t.Fatal("the refused pick used up the draft")
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'claim.submit' AND NOT allowed AND actor_id = $1`, villager.PersonID); n != 1 {
		t.Fatalf("%d refusals audited, want 1", n)
	}

	// The same draft picked by the villager: the claim, its event and the
	// used draft commit together.
	c, _, err := vp.PickClaimItem(f.ctx, villager, draft, idx)
	if err != nil || c.ItemCode != "B01" {
		t.Fatalf("pick: %+v %v", c, err)
	}
	if n := f.count(`SELECT count(*) FROM claims WHERE id = $1 AND item_code = 'B01'`, c.ID); n != 1 {
		t.Fatal("the claim did not commit")
	}
	if n := f.count(`SELECT count(*) FROM claim_drafts WHERE id = $1 AND used_at IS NOT NULL`, draft); n != 1 {
		t.Fatal("the draft was not used")
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'claim.submitted'`); n != 1 {
		t.Fatalf("%d claim.submitted events, want 1", n)
	}
}
