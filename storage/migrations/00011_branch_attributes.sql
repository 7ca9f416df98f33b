-- +goose Up

-- What each branch owes depends on what it is (SPEC §7.1). Every column is
-- NULL until an import sets it; NULL means "derive": branch_type from the
-- parent's kind (village, community, else other), committee from members
-- (a 支委会 when members >= 7 or members is unknown). The 主题党日 is either a
-- day of the month (theme_day) or a weekday rule (theme_weekday, e.g.
-- 'first-fri', 'last-sat'); an import sets one and clears the other.
ALTER TABLE units
    ADD COLUMN branch_type   text CHECK (branch_type IN ('village','community','compound','property','enterprise','institution','other')),
    ADD COLUMN members       integer CHECK (members >= 0),
    ADD COLUMN committee     boolean,
    ADD COLUMN theme_weekday text CHECK (theme_weekday ~ '^(first|second|third|fourth|last)-(mon|tue|wed|thu|fri|sat|sun)$'),
    ADD COLUMN term_end      date,
    ADD CONSTRAINT units_theme_one CHECK (theme_day IS NULL OR theme_weekday IS NULL);

-- +goose Down
ALTER TABLE units
    DROP CONSTRAINT units_theme_one,
    DROP COLUMN term_end,
    DROP COLUMN theme_weekday,
    DROP COLUMN committee,
    DROP COLUMN members,
    DROP COLUMN branch_type;
