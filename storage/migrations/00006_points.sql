-- +goose Up

-- Village points (积分制, SPEC §4).
--
-- Catalogues are versioned: every import adds a version for its scope and
-- the newest version of the most specific scope wins. unit_id NULL is the
-- deployment-wide catalogue (`zhibu import catalog FILE`, the county's in a
-- one-county deployment); a unit's own version (`zhibu points catalog --unit
-- CODE FILE`) overrides it for that unit's subtree. A version with cleared =
-- true drops a unit's override again. With no version at all the configured
-- points.catalog file or the built-in 39-item catalogue applies.
CREATE TABLE point_catalogs (
    id          bigserial PRIMARY KEY,
    unit_id     bigint REFERENCES units(id),
    file        text NOT NULL DEFAULT '',
    cleared     boolean NOT NULL DEFAULT false,
    imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX point_catalogs_unit_idx ON point_catalogs (unit_id, id);

CREATE TABLE point_items (
    catalog_id  bigint NOT NULL REFERENCES point_catalogs(id),
    position    int NOT NULL,
    code        text NOT NULL,
    category    text NOT NULL,
    name        text NOT NULL,
    name_en     text NOT NULL DEFAULT '',
    points      int NOT NULL,
    veto        boolean NOT NULL DEFAULT false,
    evidence    text NOT NULL,
    caps        text NOT NULL DEFAULT '',
    claimable   boolean NOT NULL DEFAULT false,
    aliases     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (catalog_id, code)
);

-- A claim for a household: a villager's claim (kind 'claim', reviewed with
-- one tap) or a deduction or veto recorded by a reviewer (kind 'deduction',
-- approved by its recorder). The item is copied at claim time so that a
-- later catalogue import never rewrites history. The decision is taken with
-- a conditional UPDATE ... WHERE status = 'pending': exactly once.
--   frozen      a veto of the household froze it (frozen_by names the veto)
--   card_*      the review card(s) of the current review round: version is
--               bumped when an objection re-posts the card; keys are the
--               outbox dedupe keys of the cards, edited on decision
CREATE TABLE claims (
    id            bigserial PRIMARY KEY,
    village_id    bigint NOT NULL REFERENCES units(id),
    household_id  bigint NOT NULL REFERENCES households(id),
    person_id     bigint REFERENCES people(id),
    recorded_by   bigint REFERENCES people(id),
    kind          text NOT NULL DEFAULT 'claim' CHECK (kind IN ('claim','deduction')),
    item_code     text NOT NULL,
    item_name     text NOT NULL,
    category      text NOT NULL,
    points        int NOT NULL,
    veto          boolean NOT NULL DEFAULT false,
    evidence      text NOT NULL DEFAULT 'none',
    note          text NOT NULL DEFAULT '',
    photo         text,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected','frozen')),
    claimed_at    timestamptz NOT NULL,
    decided_at    timestamptz,
    decided_by    bigint REFERENCES people(id),
    decider       text NOT NULL DEFAULT '',
    reason        text NOT NULL DEFAULT '',
    frozen_by     bigint REFERENCES claims(id),
    objections    int NOT NULL DEFAULT 0,
    card_version  int NOT NULL DEFAULT 0,
    card_keys     text[] NOT NULL DEFAULT '{}',
    source        text NOT NULL DEFAULT 'telegram'
);
-- Caps and duplicates: the household's live claims of an item.
CREATE INDEX claims_household_item_idx ON claims (household_id, item_code, claimed_at)
    WHERE status IN ('pending','approved');
-- The per-person hourly rate limit.
CREATE INDEX claims_recorder_idx ON claims (recorded_by, claimed_at);
CREATE INDEX claims_village_status_idx ON claims (village_id, status, id);
CREATE INDEX claims_household_idx ON claims (household_id, id);
CREATE INDEX claims_veto_idx ON claims (household_id, claimed_at) WHERE veto AND status = 'approved';
CREATE INDEX claims_frozen_by_idx ON claims (frozen_by) WHERE frozen_by IS NOT NULL;

-- An ambiguous /claim waiting for the villager to pick an item: the text
-- stays here and the buttons carry only the draft id and an index.
CREATE TABLE claim_drafts (
    id          bigserial PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES people(id),
    chat_id     bigint NOT NULL,
    query       text NOT NULL,
    note        text NOT NULL DEFAULT '',
    photo       text,
    candidates  text[] NOT NULL,
    created_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- The points ledger. APPEND-ONLY: the trigger below refuses every UPDATE,
-- DELETE and TRUNCATE; a correction is a reversing entry (reverses, at most
-- one per entry). A household's balance at t is the sum of its entries with
-- effective_at <= t; approved points take effect after the publicity period
-- (公示), a reversal when the entry it cancels would have.
CREATE TABLE point_ledger (
    id            bigserial PRIMARY KEY,
    household_id  bigint NOT NULL REFERENCES households(id),
    village_id    bigint NOT NULL REFERENCES units(id),
    kind          text NOT NULL CHECK (kind IN ('award','deduction','veto','redemption','reversal')),
    points        int NOT NULL,
    claim_id      bigint REFERENCES claims(id),
    reverses      bigint UNIQUE REFERENCES point_ledger(id),
    item_code     text NOT NULL DEFAULT '',
    item_name     text NOT NULL DEFAULT '',
    goods         text NOT NULL DEFAULT '',
    note          text NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL,
    effective_at  timestamptz NOT NULL,
    recorded_by   bigint REFERENCES people(id),
    actor         text NOT NULL DEFAULT '',
    CHECK (kind <> 'redemption' OR points < 0),
    CHECK (kind <> 'veto' OR points = 0),
    CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
);
-- /points: balance and pending as one index-only range over the household.
CREATE INDEX point_ledger_household_idx ON point_ledger (household_id, effective_at) INCLUDE (points);
-- /points: the last entries.
CREATE INDEX point_ledger_household_recent_idx ON point_ledger (household_id, id);
-- /rank and settlement: a village's entries effective in a period.
CREATE INDEX point_ledger_village_period_idx ON point_ledger (village_id, effective_at) INCLUDE (household_id, points, kind);
CREATE INDEX point_ledger_claim_idx ON point_ledger (claim_id) WHERE claim_id IS NOT NULL;

-- A settled period (定期结算): one frozen ranking per village and period.
-- Settling twice changes nothing (UNIQUE + ON CONFLICT DO NOTHING); rows are
-- records and, like the ledger, never change.
CREATE TABLE settlements (
    id            bigserial PRIMARY KEY,
    village_id    bigint NOT NULL REFERENCES units(id),
    period        text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('monthly','quarterly','yearly')),
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    closed_at     timestamptz NOT NULL,
    households    int NOT NULL,
    ranking       jsonb NOT NULL,
    UNIQUE (village_id, period)
);
CREATE INDEX settlements_period_idx ON settlements (period, village_id);

-- +goose StatementBegin
CREATE FUNCTION points_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused; record a reversing entry instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER point_ledger_append_only BEFORE UPDATE OR DELETE ON point_ledger
    FOR EACH ROW EXECUTE FUNCTION points_append_only();
CREATE TRIGGER point_ledger_no_truncate BEFORE TRUNCATE ON point_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION points_append_only();
CREATE TRIGGER settlements_append_only BEFORE UPDATE OR DELETE ON settlements
    FOR EACH ROW EXECUTE FUNCTION points_append_only();
CREATE TRIGGER settlements_no_truncate BEFORE TRUNCATE ON settlements
    FOR EACH STATEMENT EXECUTE FUNCTION points_append_only();

-- points_snapshot is what /points shows of a household, the command
-- villagers send most: its balance at p_at (entries effective by then),
-- the points still in publicity and its pending claims, repeated on one row
-- per entry for its p_n newest entries (newest first; one row with NULL
-- entry columns when it has none). The household is p_household, or when
-- that is 0 the household of p_person. It is a PL/pgSQL function only so
-- that its plan is cached per connection: planning the statement cost more
-- than running it (index-only ranges over the household's entries).
-- +goose StatementBegin
CREATE FUNCTION points_snapshot(p_household bigint, p_person bigint, p_at timestamptz, p_n int)
RETURNS TABLE (id bigint, village_id bigint, village_code text, village_name text, code text, name text, members text,
               balance int, publicity int, pending_points int, pending_count int,
               entry_id bigint, entry_kind text, entry_points int, entry_claim_id bigint, entry_reverses bigint,
               entry_item_code text, entry_item_name text, entry_goods text, entry_note text,
               entry_recorded_at timestamptz, entry_effective_at timestamptz, entry_actor text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT h.id, h.unit_id, u.code, u.name, h.code, h.name, m.members,
        b.balance, b.publicity, c.pending_points, c.pending_count,
        e.id, e.kind, e.points, e.claim_id, e.reverses, e.item_code, e.item_name, e.goods, e.note, e.recorded_at, e.effective_at, e.actor
    FROM households h
    JOIN units u ON u.id = h.unit_id
    -- Laterals run once per household, not once per entry row.
    CROSS JOIN LATERAL (SELECT COALESCE(string_agg(p.name, '、' ORDER BY p.id), '') AS members
        FROM people p WHERE p.household_id = h.id) m
    CROSS JOIN LATERAL (SELECT COALESCE(sum(l.points) FILTER (WHERE l.effective_at <= p_at), 0)::int AS balance,
            COALESCE(sum(l.points) FILTER (WHERE l.effective_at > p_at), 0)::int AS publicity
        FROM point_ledger l WHERE l.household_id = h.id) b
    CROSS JOIN LATERAL (SELECT COALESCE(sum(cl.points), 0)::int AS pending_points, count(*)::int AS pending_count
        FROM claims cl WHERE cl.household_id = h.id AND cl.status = 'pending') c
    LEFT JOIN LATERAL (SELECT l.id, l.kind, l.points, l.claim_id, l.reverses, l.item_code, l.item_name, l.goods, l.note,
                              l.recorded_at, l.effective_at, l.actor
                       FROM point_ledger l WHERE l.household_id = h.id ORDER BY l.id DESC LIMIT p_n) e ON true
    WHERE h.id = CASE WHEN p_household <> 0 THEN p_household
                      ELSE (SELECT pp.household_id FROM people pp WHERE pp.id = p_person) END
    ORDER BY e.id DESC;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE settlements, point_ledger, claim_drafts, claims, point_items, point_catalogs;
DROP FUNCTION points_append_only();
DROP FUNCTION points_snapshot(bigint, bigint, timestamptz, int);
