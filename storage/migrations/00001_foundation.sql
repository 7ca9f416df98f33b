-- +goose Up

-- The unit tree: county -> township/street -> village/community -> branch -> group.
-- path holds the ids from the root down to the unit itself, so a subtree is
-- "path @> ARRAY[id]" on a GIN index, without recursive queries.
CREATE TABLE units (
    id          bigserial PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('county','township','street','village','community','branch','group')),
    parent_id   bigint REFERENCES units(id),
    path        bigint[] NOT NULL DEFAULT '{}',
    theme_day   smallint CHECK (theme_day BETWEEN 1 AND 31),
    started_on  date NOT NULL DEFAULT CURRENT_DATE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX units_parent_idx ON units (parent_id);
CREATE INDEX units_path_idx ON units USING gin (path);

CREATE TABLE households (
    id          bigserial PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units(id),
    code        text NOT NULL,
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_id, code)
);

CREATE TABLE people (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    phone        text UNIQUE,
    household_id bigint REFERENCES households(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX people_household_idx ON people (household_id);

CREATE TABLE roles (
    person_id  bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('secretary','organiser','reviewer','villager','shopkeeper','admin')),
    unit_id    bigint NOT NULL REFERENCES units(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, role, unit_id)
);
CREATE INDEX roles_unit_idx ON roles (unit_id, role);

-- A person's Telegram account. The private chat id equals the user id.
CREATE TABLE chat_links (
    person_id          bigint PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    tg_user_id         bigint NOT NULL UNIQUE,
    chat_id            bigint NOT NULL,
    username           text NOT NULL DEFAULT '',
    linked_at          timestamptz NOT NULL DEFAULT now(),
    unreachable_at     timestamptz,
    unreachable_reason text
);

-- One-time bind codes; only a SHA-256 of the code is stored.
CREATE TABLE bind_codes (
    id         bigserial PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX bind_codes_person_idx ON bind_codes (person_id);

-- Group chats bound to a unit (branch group, village group).
CREATE TABLE group_chats (
    chat_id            bigint PRIMARY KEY,
    unit_id            bigint NOT NULL UNIQUE REFERENCES units(id),
    title              text NOT NULL DEFAULT '',
    bound_by           bigint REFERENCES people(id),
    bound_at           timestamptz NOT NULL DEFAULT now(),
    migrated_from      bigint,
    unreachable_at     timestamptz,
    unreachable_reason text
);

-- Every inbound Telegram update, stored before it is acknowledged.
CREATE TABLE updates (
    update_id     bigint PRIMARY KEY,
    raw           jsonb NOT NULL,
    chat_id       bigint,
    user_id       bigint,
    kind          text NOT NULL DEFAULT '',
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    outcome       text,
    error         text,
    attempts      int NOT NULL DEFAULT 0
);
CREATE INDEX updates_pending_idx ON updates (update_id) WHERE processed_at IS NULL;

-- Outbound messages: written in the transaction of the change that causes
-- them, sent by the dispatcher. dedupe_key makes enqueueing idempotent.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    dedupe_key      text NOT NULL UNIQUE,
    channel         text NOT NULL DEFAULT 'telegram',
    chat_id         bigint NOT NULL,
    person_id       bigint REFERENCES people(id),
    priority        smallint NOT NULL DEFAULT 5,
    kind            text NOT NULL DEFAULT 'reply',
    method          text NOT NULL DEFAULT 'sendMessage',
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','sent','failed')),
    attempts        int NOT NULL DEFAULT 0,
    not_before      timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    tg_message_id   bigint,
    last_error      text,
    failed_reason   text
);
CREATE INDEX outbox_pending_idx ON outbox (priority, id) WHERE status = 'pending';

-- Who did what, when; refusals too.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   bigint REFERENCES people(id),
    actor      text NOT NULL,
    action     text NOT NULL,
    subject    text NOT NULL DEFAULT '',
    allowed    boolean NOT NULL DEFAULT true,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Domain events, the source of outbound webhooks.
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    type       text NOT NULL,
    unit_id    bigint REFERENCES units(id),
    payload    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_type_idx ON events (type, id);

-- API tokens, stored as SHA-256 hashes, scoped to a unit subtree and a role.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    unit_id      bigint NOT NULL REFERENCES units(id),
    role         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- +goose Down
DROP TABLE api_tokens, events, audit_log, outbox, updates, group_chats, bind_codes, chat_links, roles, people, households, units;
