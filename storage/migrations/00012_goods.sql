-- +goose Up

-- The points shop (积分超市, SPEC §7.4): each village's goods, imported with
-- `zhibu import goods FILE`. A code is unique within its village (stored
-- upper-cased, so G01 and g01 are one); price is points per piece; stock
-- NULL means unlimited (the shop does not count it), otherwise the pieces
-- left, taken with a conditional UPDATE ... WHERE stock >= n so that
-- concurrent redemptions never oversell. Inactive goods are kept (ledger
-- entries name them) but neither listed nor redeemable.
CREATE TABLE goods (
    id          bigserial PRIMARY KEY,
    village_id  bigint NOT NULL REFERENCES units(id),
    code        text NOT NULL,
    name        text NOT NULL,
    points      int NOT NULL CHECK (points > 0),
    stock       int CHECK (stock >= 0),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (village_id, code)
);

-- The household head (户主, people import column `head`): households are
-- shown by the head's name (张三户). A head who has since moved to another
-- household no longer names this one (readers join on household_id too).
ALTER TABLE households ADD COLUMN head_id bigint REFERENCES people(id);

-- points_snapshot as in 00006, also returning the head's name.
DROP FUNCTION points_snapshot(bigint, bigint, timestamptz, int);
-- +goose StatementBegin
CREATE FUNCTION points_snapshot(p_household bigint, p_person bigint, p_at timestamptz, p_n int)
RETURNS TABLE (id bigint, village_id bigint, village_code text, village_name text, code text, name text, members text, head text,
               balance int, publicity int, pending_points int, pending_count int,
               entry_id bigint, entry_kind text, entry_points int, entry_claim_id bigint, entry_reverses bigint,
               entry_item_code text, entry_item_name text, entry_goods text, entry_note text,
               entry_recorded_at timestamptz, entry_effective_at timestamptz, entry_actor text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT h.id, h.unit_id, u.code, u.name, h.code, h.name, m.members, COALESCE(hp.name, ''),
        b.balance, b.publicity, c.pending_points, c.pending_count,
        e.id, e.kind, e.points, e.claim_id, e.reverses, e.item_code, e.item_name, e.goods, e.note, e.recorded_at, e.effective_at, e.actor
    FROM households h
    JOIN units u ON u.id = h.unit_id
    LEFT JOIN people hp ON hp.id = h.head_id AND hp.household_id = h.id
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
DROP FUNCTION points_snapshot(bigint, bigint, timestamptz, int);
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
ALTER TABLE households DROP COLUMN head_id;
DROP TABLE goods;
