package bot

import (
	"github.com/zhibu/zhibu/checkin"
	"github.com/zhibu/zhibu/domain/callback"
)

// The 驳回 button on an organiser's copy of a check-in (config
// checkins.organiser_copies, app/checkin_copy.go) carries "cir:<check-in id>".
// A tap by an organiser or admin above the branch is answered and asks, in
// the same chat, for /reject <id> <理由>; anyone else, or a check-in already
// withdrawn or rejected, gets an alert and nothing changes.

func rejectButtonCallback(c *Ctx) error {
	id, ok := callback.ParseReject(c.Data)
	if !ok {
		return c.Answer(bt.T("button.stale"), false)
	}
	ci, err := checkin.Of(c.App).RejectPrompt(c, c.Actor, id)
	if err != nil {
		return err // a refusal becomes an alert (Router.dispatch)
	}
	if err := c.Answer(ck.T("reject.tap"), false); err != nil {
		return err
	}
	return c.Reply(checkin.Of(c.App).RejectPromptText(ci), nil)
}
