package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// ChatLink is a person's linked Telegram account.
type ChatLink struct {
	PersonID      int64   `db:"person_id"`
	TGUserID      int64   `db:"tg_user_id"`
	ChatID        int64   `db:"chat_id"`
	Username      string  `db:"username"`
	Unreachable   bool    `db:"unreachable"`
	UnreachableBy *string `db:"unreachable_reason"`
}

// LinkChat links a Telegram user to a person. A Telegram account belongs to
// one person: an earlier link of the same account is replaced.
func (s *Store) LinkChat(ctx context.Context, personID, tgUserID, chatID int64, username string) error {
	s.accountsChanged()
	if err := exec(ctx, s, "link chat", `DELETE FROM chat_links WHERE tg_user_id = $1 AND person_id <> $2`, tgUserID, personID); err != nil {
		return err
	}
	return exec(ctx, s, "link chat", `
		INSERT INTO chat_links (person_id, tg_user_id, chat_id, username) VALUES ($1, $2, $3, $4)
		ON CONFLICT (person_id) DO UPDATE SET tg_user_id = EXCLUDED.tg_user_id, chat_id = EXCLUDED.chat_id,
			username = EXCLUDED.username, linked_at = now(), unreachable_at = NULL, unreachable_reason = NULL`,
		personID, tgUserID, chatID, username)
}

// PersonByTelegram returns the person linked to a Telegram user.
func (s *Store) PersonByTelegram(ctx context.Context, tgUserID int64) (int64, error) {
	if id, ok := s.cachedPerson(tgUserID); ok {
		if id == 0 {
			return 0, notFound(sql.ErrNoRows, "chat link")
		}
		return id, nil
	}
	return getOne[int64](ctx, s, "chat link", `SELECT person_id FROM chat_links WHERE tg_user_id = $1`, tgUserID)
}

// ChatOf returns a person's chat link.
func (s *Store) ChatOf(ctx context.Context, personID int64) (ChatLink, error) {
	return getOne[ChatLink](ctx, s, fmt.Sprintf("chat of person %d", personID), `SELECT person_id, tg_user_id, chat_id, username, unreachable_at IS NOT NULL AS unreachable, unreachable_reason
		FROM chat_links WHERE person_id = $1`, personID)
}

// GroupChat is a group chat bound to a unit.
type GroupChat struct {
	ChatID      int64  `db:"chat_id"`
	UnitID      int64  `db:"unit_id"`
	Title       string `db:"title"`
	Unreachable bool   `db:"unreachable"`
}

// groupChatCols selects a GroupChat from group_chats or public_groups.
const groupChatCols = `chat_id, unit_id, title, unreachable_at IS NOT NULL AS unreachable`

// BindGroup binds a group chat to a unit. A unit has one group and a group
// one unit: earlier bindings of either are replaced.
func (s *Store) BindGroup(ctx context.Context, chatID, unitID int64, title string, by int64) error {
	if err := exec(ctx, s, "bind group", `DELETE FROM group_chats WHERE (unit_id = $1 OR chat_id = $2)`, unitID, chatID); err != nil {
		return err
	}
	return exec(ctx, s, "bind group", `INSERT INTO group_chats (chat_id, unit_id, title, bound_by) VALUES ($1, $2, $3, NULLIF($4::bigint, 0))`, chatID, unitID, title, by)
}

// GroupByChat returns the binding of a group chat.
func (s *Store) GroupByChat(ctx context.Context, chatID int64) (GroupChat, error) {
	return getOne[GroupChat](ctx, s, fmt.Sprintf("group chat %d", chatID), `SELECT `+groupChatCols+` FROM group_chats WHERE chat_id = $1`, chatID)
}

// GroupOfUnit returns the group chat bound to a unit.
func (s *Store) GroupOfUnit(ctx context.Context, unitID int64) (GroupChat, error) {
	return getOne[GroupChat](ctx, s, fmt.Sprintf("group of unit %d", unitID), `SELECT `+groupChatCols+` FROM group_chats WHERE unit_id = $1`, unitID)
}

// MigrateGroup moves a binding to the supergroup a group became. It is
// idempotent: a second call finds nothing to move.
func (s *Store) MigrateGroup(ctx context.Context, oldID, newID int64) (bool, error) {
	n, err := execCount(ctx, s, fmt.Sprintf("migrate group %d", oldID), `
		UPDATE group_chats SET chat_id = $2, migrated_from = $1
		WHERE chat_id = $1 AND NOT EXISTS (SELECT 1 FROM group_chats WHERE chat_id = $2)`, oldID, newID)
	if err != nil {
		return false, err
	}
	m, err := execCount(ctx, s, fmt.Sprintf("migrate public group %d", oldID), `
		UPDATE public_groups SET chat_id = $2
		WHERE chat_id = $1 AND NOT EXISTS (SELECT 1 FROM public_groups WHERE chat_id = $2)`, oldID, newID)
	if err != nil {
		return false, err
	}
	n += m
	if n > 0 {
		// Messages queued for the old id follow the group.
		if err := s.flushOutbox(ctx); err != nil {
			return false, err
		}
		if err := exec(ctx, s, "migrate group outbox", `UPDATE outbox SET chat_id = $2 WHERE chat_id = $1 AND status = 'pending'`, oldID, newID); err != nil {
			return false, err
		}
	}
	return n > 0, nil
}

// MarkChatUnreachable records that a chat (private or group) refused the bot.
func (s *Store) MarkChatUnreachable(ctx context.Context, chatID int64, reason string) error {
	if err := exec(ctx, s, "mark unreachable", `UPDATE chat_links SET unreachable_at = now(), unreachable_reason = $2 WHERE chat_id = $1 AND unreachable_at IS NULL`, chatID, reason); err != nil {
		return err
	}
	if err := exec(ctx, s, "mark unreachable", `UPDATE group_chats SET unreachable_at = now(), unreachable_reason = $2 WHERE chat_id = $1 AND unreachable_at IS NULL`, chatID, reason); err != nil {
		return err
	}
	return exec(ctx, s, "mark unreachable", `UPDATE public_groups SET unreachable_at = now() WHERE chat_id = $1 AND unreachable_at IS NULL`, chatID)
}

// MarkChatReachable clears the unreachable mark when a user writes again.
func (s *Store) MarkChatReachable(ctx context.Context, chatID int64) error {
	return exec(ctx, s, "mark reachable", `UPDATE chat_links SET unreachable_at = NULL, unreachable_reason = NULL WHERE chat_id = $1 AND unreachable_at IS NOT NULL`, chatID)
}
