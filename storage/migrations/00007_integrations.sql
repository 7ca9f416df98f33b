-- +goose Up

-- Integrations (SPEC §5 "Integrations"): outbound webhooks, inbound signed
-- check-ins from other platforms, and group robots (WeCom, DingTalk, Feishu).

-- Events are read for outbound webhooks in (xid, id) order, never in id order
-- alone: a bigserial id is taken at INSERT and becomes visible at COMMIT, so
-- a reader that advanced a cursor by id could pass an id whose transaction
-- commits later and lose that event. xid is the writing transaction's id;
-- xids are handed out in increasing order, so every event whose xid is below
-- webhook_event_horizon() is committed or rolled back for good, and a cursor
-- over (xid, id) below it never skips an event.
ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_xid_idx ON events (xid, id);

-- webhook_event_horizon is the oldest transaction still running that may
-- write to this database (else the next xid to be assigned). Transactions
-- that pg_stat_activity shows in another database of the cluster are left
-- out, so a long transaction elsewhere does not hold webhooks up; a
-- transaction that cannot be placed (it ended meanwhile, or a background
-- process) counts, which only errs on the side of waiting.
-- +goose StatementBegin
CREATE FUNCTION webhook_event_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $$
    SELECT COALESCE(min(x), pg_snapshot_xmax(pg_current_snapshot()))
    FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE (x::text::bigint % 4294967296) NOT IN (
        SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
        WHERE a.backend_xid IS NOT NULL AND a.datname IS NOT NULL AND a.datname <> current_database())
$$;
-- +goose StatementEnd

-- Outbound webhook subscriptions. secret ("whsec_" + base64) is kept in
-- clear because it is the HMAC key that signs every request; it is shown once
-- at creation and never logged. event_types '{}' means every type. unit_id
-- scopes the subscription to that unit's subtree (units.path @> ARRAY[unit]).
-- failure_count counts consecutive failed deliveries (reset by a success);
-- at webhooks.max_attempts the subscription is disabled (active = false).
-- (cursor_xid, cursor_id) is the last event fanned out to the subscription;
-- a new subscription starts at the current horizon: events from then on.
CREATE TABLE webhook_subscriptions (
    id              bigserial PRIMARY KEY,
    url             text NOT NULL,
    secret          text NOT NULL,
    event_types     text[] NOT NULL DEFAULT '{}',
    unit_id         bigint NOT NULL REFERENCES units(id),
    active          boolean NOT NULL DEFAULT true,
    failure_count   int NOT NULL DEFAULT 0,
    disabled_at     timestamptz,
    disabled_reason text,
    deleted_at      timestamptz,
    cursor_xid      xid8 NOT NULL DEFAULT webhook_event_horizon(),
    cursor_id       bigint NOT NULL DEFAULT 0,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_unit_idx ON webhook_subscriptions (unit_id) WHERE deleted_at IS NULL;

-- One row per (event, subscription): the unit of retry. webhook-id is
-- derived from it, so every retry of a delivery carries the same id.
--   attempts         counted when a row is claimed (a crash in flight counts)
--   lease_until      a 'sending' row whose lease ran out goes back to pending
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES webhook_subscriptions(id),
    event_id        bigint NOT NULL REFERENCES events(id),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','delivered','failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_status     int,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    failed_at       timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (subscription_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_sending_idx ON webhook_deliveries (subscription_id) WHERE status = 'sending';
CREATE INDEX webhook_deliveries_lease_idx ON webhook_deliveries (lease_until) WHERE status = 'sending';

-- Every HTTP attempt of a delivery, successful or not. status_code is NULL
-- when no answer came (timeout, refused connection).
CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries(id),
    attempt     int NOT NULL,
    at          timestamptz NOT NULL,
    status_code int,
    error       text,
    duration_ms int NOT NULL,
    UNIQUE (delivery_id, attempt)
);

-- Inbound integrations: other platforms that post check-ins, signed per
-- Standard Webhooks with secret (kept in clear: it is the HMAC key). They act
-- as role (admin of the unit's subtree, or secretary of a branch).
CREATE TABLE integrations (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    secret       text NOT NULL,
    unit_id      bigint NOT NULL REFERENCES units(id),
    role         text NOT NULL CHECK (role IN ('admin','secretary')),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);

-- Replay protection: the webhook-ids seen per integration. A request is only
-- accepted within webhooks.tolerance of its signed timestamp, so an id need
-- only be remembered for twice that long after it was received.
CREATE TABLE integration_messages (
    integration_id bigint NOT NULL REFERENCES integrations(id),
    msg_id         text NOT NULL,
    received_at    timestamptz NOT NULL,
    checkin_id     bigint REFERENCES checkins(id),
    PRIMARY KEY (integration_id, msg_id)
);
CREATE INDEX integration_messages_received_idx ON integration_messages (received_at);

-- Idempotency beyond the replay window: an integration's external_id maps to
-- the check-in it created, for good.
CREATE TABLE integration_checkins (
    integration_id bigint NOT NULL REFERENCES integrations(id),
    external_id    text NOT NULL,
    checkin_id     bigint REFERENCES checkins(id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, external_id)
);

-- Group robots of a unit: outbox channels "wecom", "dingtalk", "feishu"; an
-- outbox row's chat_id is the robot's id. secret signs DingTalk and Feishu
-- requests (empty: the robot does not check signatures).
CREATE TABLE robots (
    id         bigserial PRIMARY KEY,
    unit_id    bigint NOT NULL REFERENCES units(id),
    kind       text NOT NULL CHECK (kind IN ('wecom','dingtalk','feishu')),
    url        text NOT NULL,
    secret     text NOT NULL DEFAULT '',
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, url)
);
CREATE INDEX robots_unit_idx ON robots (unit_id) WHERE active;

-- +goose Down
DROP TABLE robots, integration_checkins, integration_messages, integrations,
    webhook_attempts, webhook_deliveries, webhook_subscriptions;
DROP FUNCTION webhook_event_horizon();
DROP INDEX events_xid_idx;
ALTER TABLE events DROP COLUMN xid;
