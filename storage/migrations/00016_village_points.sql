-- +goose Up

-- Points as villages run them (SPEC §7.4).

-- The villagers' group of a village (/bind 公示): the daily 公示 list,
-- settlements and rankings go here; claim cards stay in the reviewers'
-- group (group_chats, /bind 评议). A chat is bound for one purpose: binding
-- it here removes its group_chats binding and the other way round.
CREATE TABLE public_groups (
    unit_id        bigint PRIMARY KEY REFERENCES units(id),
    chat_id        bigint NOT NULL UNIQUE,
    title          text NOT NULL DEFAULT '',
    bound_by       bigint REFERENCES people(id),
    bound_at       timestamptz NOT NULL DEFAULT now(),
    unreachable_at timestamptz
);

-- Approvals toward points.review_quorum, per review round (the claim's
-- card_version): one per reviewer (approver is "p:<person id>" or the API
-- token's label). The decision itself stays the conditional UPDATE of claims.
CREATE TABLE claim_approvals (
    claim_id    bigint NOT NULL REFERENCES claims(id),
    round       int NOT NULL,
    approver    text NOT NULL,
    name        text NOT NULL,
    at          timestamptz NOT NULL,
    seq         bigserial NOT NULL, -- the order the approvals came in
    PRIMARY KEY (claim_id, round, approver)
);

-- A villager's objection (异议) to an approved claim during 公示. While one
-- is open the claim's points are held back (a reversing entry cancels its
-- award); reviewers uphold it (the claim is rejected) or dismiss it (the
-- award is booked again). At most one open objection per claim.
CREATE TABLE claim_objections (
    id          bigserial PRIMARY KEY,
    claim_id    bigint NOT NULL REFERENCES claims(id),
    person_id   bigint REFERENCES people(id),
    reason      text NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open','upheld','dismissed')),
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz,
    decider     text NOT NULL DEFAULT '',
    card_keys   text[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX claim_objections_open_idx ON claim_objections (claim_id) WHERE status = 'open';

-- A veto's act date (/deduct … 日期) and the window it excludes the
-- household for, [veto_from, veto_until) (points.veto_scope at the time it
-- was recorded: by default the settlement year of the act's date). Older
-- vetoes (no window) keep excluding the settlement period they were recorded in.
ALTER TABLE claims ADD COLUMN act_date date;
ALTER TABLE claims ADD COLUMN veto_from timestamptz;
ALTER TABLE claims ADD COLUMN veto_until timestamptz;
CREATE INDEX claims_veto_window_idx ON claims (household_id, veto_from, veto_until) WHERE veto AND status = 'approved';

-- A settlement to announce (its village had points or a veto in the
-- period): posted_at is set when the ranking is enqueued, by the first
-- settlement run outside quiet hours and days off.
CREATE TABLE settlement_posts (
    settlement_id bigint PRIMARY KEY REFERENCES settlements(id),
    posted_at     timestamptz
);
CREATE INDEX settlement_posts_pending_idx ON settlement_posts (settlement_id) WHERE posted_at IS NULL;

-- +goose Down
DROP INDEX claims_veto_window_idx;
ALTER TABLE claims DROP COLUMN act_date, DROP COLUMN veto_from, DROP COLUMN veto_until;
DROP TABLE settlement_posts, claim_objections, claim_approvals, public_groups;
