package app

import (
	"context"
	"errors"

	"github.com/zhibu/zhibu/domain"
)

// What the bot needs to know of the chat an update came from, and what
// Telegram tells about chats as updates arrive. Look-ups and bookkeeping,
// not use cases: they take no actor, and what the bot then shows goes
// through use cases that authorise.

// GroupUnit returns the unit a group chat is bound to (/bind); ok is false
// when the chat is bound to none.
func (a *App) GroupUnit(ctx context.Context, chatID int64) (u domain.Unit, ok bool, err error) {
	g, err := a.Store.GroupByChat(ctx, chatID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Unit{}, false, nil
	}
	if err != nil {
		return domain.Unit{}, false, err
	}
	if u, err = a.Store.UnitByID(ctx, g.UnitID); err != nil {
		return domain.Unit{}, false, err
	}
	return u, true, nil
}

// MigrateChat moves a group's bindings (branch, reviewers', 公示) and the
// messages queued for it to the supergroup it became, as Telegram reports
// in either chat; a second report finds nothing to move.
func (a *App) MigrateChat(ctx context.Context, from, to int64) error {
	_, err := a.Store.MigrateGroup(ctx, from, to)
	return err
}

// MarkChatReachable clears the unreachable mark of a private chat whose
// user writes again.
func (a *App) MarkChatReachable(ctx context.Context, chatID int64) error {
	return a.Store.MarkChatReachable(ctx, chatID)
}
