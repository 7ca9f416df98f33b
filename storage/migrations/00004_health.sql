-- +goose Up

-- The branch health check (智能体检): what organisers decided about items
-- (exemptions, silences), what secretaries promised (acks), and the memory
-- that makes every notice go out at most once (notification_*).
--
-- An item is (unit, obligation, period): the unit is the branch, or the party
-- group for a per-group obligation; the period is its key ("2026-11",
-- "2026-Q4", "2026").

-- An organiser or admin above the branch excuses one item, with a reason.
-- Revoking marks the row; it is never deleted, so the 台账 shows it.
CREATE TABLE health_exemptions (
    id            bigserial PRIMARY KEY,
    unit_id       bigint NOT NULL REFERENCES units(id),
    obligation    text NOT NULL,
    period        text NOT NULL,
    reason        text NOT NULL CHECK (reason <> ''),
    created_by    bigint REFERENCES people(id),
    actor         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    revoked_by    bigint REFERENCES people(id),
    revoke_reason text
);
-- At most one standing exemption per item.
CREATE UNIQUE INDEX health_exemptions_item_idx ON health_exemptions (unit_id, obligation, period) WHERE revoked_at IS NULL;

-- A silence mutes notices about a unit's subtree (one obligation, or all when
-- obligation is NULL) for [starts_at, ends_at): the items are shown, not sent.
CREATE TABLE health_silences (
    id          bigserial PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units(id),
    obligation  text,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL CHECK (reason <> ''),
    created_by  bigint REFERENCES people(id),
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    revoked_by  bigint REFERENCES people(id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX health_silences_active_idx ON health_silences (ends_at) WHERE revoked_at IS NULL;

-- A secretary acknowledged (收到) a red item and promised a date: repeats of
-- its red notice pause until "until". The latest ack of an item counts.
CREATE TABLE health_acks (
    id          bigserial PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units(id),
    obligation  text NOT NULL,
    period      text NOT NULL,
    person_id   bigint NOT NULL REFERENCES people(id),
    acked_at    timestamptz NOT NULL,
    planned_on  date,
    until       timestamptz NOT NULL
);
CREATE INDEX health_acks_item_idx ON health_acks (unit_id, obligation, period, acked_at DESC, id DESC);

-- One digest: everything one person got from one evaluation, as one message
-- (several parts only past Telegram's length limit). dedupe_key is the
-- outbox key of its first part ("hc:<hash of its notice keys>"; parts
-- :1, :2, ...). A digest sent to the person's unit group (via_fallback) or
-- to nobody (undeliverable: no chat, no group) is a miss.
CREATE TABLE notification_digests (
    id            bigserial PRIMARY KEY,
    dedupe_key    text NOT NULL UNIQUE,
    person_id     bigint NOT NULL REFERENCES people(id),
    person_name   text NOT NULL,
    chat_id       bigint NOT NULL DEFAULT 0,
    via_fallback  boolean NOT NULL DEFAULT false,
    undeliverable boolean NOT NULL DEFAULT false,
    level         text NOT NULL,
    items         int NOT NULL,
    texts         text[] NOT NULL,
    at            timestamptz NOT NULL,          -- the evaluation instant
    sent_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_digests_misses_idx ON notification_digests (at DESC) WHERE via_fallback OR undeliverable;

-- The notification log: one row per notice line. Its key is the notice key
-- (recipient, unit, obligation, period, level, repeat slot): a line is
-- logged, and so sent, at most once whatever restarts, retries or replicas.
-- Rows are written in the transaction that enqueues their digest.
CREATE TABLE notification_log (
    person_id   bigint NOT NULL,
    unit_id     bigint NOT NULL,
    obligation  text NOT NULL,
    period      text NOT NULL,
    level       text NOT NULL CHECK (level IN ('green','yellow','red','resolved')),
    slot        bigint NOT NULL,
    role        text NOT NULL,
    org_level   smallint NOT NULL DEFAULT 0,
    digest_id   bigint NOT NULL REFERENCES notification_digests(id),
    at          timestamptz NOT NULL,
    PRIMARY KEY (person_id, unit_id, obligation, period, level, slot)
);
CREATE INDEX notification_log_item_idx ON notification_log (unit_id, obligation, period);
CREATE INDEX notification_log_digest_idx ON notification_log (digest_id);

-- The latest slot logged per (recipient, item, level): what an evaluation
-- reads instead of the whole log (a red item repeated daily has one row
-- here, not one per day). org is set once an organiser got a red line.
CREATE TABLE notification_state (
    person_id   bigint NOT NULL,
    unit_id     bigint NOT NULL,
    obligation  text NOT NULL,
    period      text NOT NULL,
    level       text NOT NULL,
    last_slot   bigint NOT NULL,
    org         boolean NOT NULL DEFAULT false,
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (unit_id, obligation, period, level, person_id)
);
CREATE INDEX notification_state_period_idx ON notification_state (period);

-- The last light of every item that is yellow or red (absent = green), so
-- that an evaluation sees which lights changed and appends light.changed.
CREATE TABLE health_lights (
    unit_id     bigint NOT NULL,
    obligation  text NOT NULL,
    period      text NOT NULL,
    light       text NOT NULL CHECK (light IN ('yellow','red')),
    since       timestamptz NOT NULL,
    PRIMARY KEY (unit_id, obligation, period)
);

-- Evaluations that change state run one at a time (an advisory lock), and
-- this row says when the last one ran.
CREATE TABLE health_runs (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    root_id     bigint,
    started_at  timestamptz NOT NULL DEFAULT now(),
    took_ms     int NOT NULL,
    items       int NOT NULL,
    digests     int NOT NULL,
    lines       int NOT NULL,
    changes     int NOT NULL,
    deferred    boolean NOT NULL DEFAULT false
);

-- +goose Down
DROP TABLE health_runs, health_lights, notification_state, notification_log, notification_digests,
    health_acks, health_silences, health_exemptions;
