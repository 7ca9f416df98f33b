-- +goose Up

-- Years of the official 放假调休 calendar imported by operators
-- (`zhibu import holidays`). An imported year replaces the shipped data for
-- that year entirely, so a correction can also remove a day; the shipped
-- years live in the code (domain/health OfficialDays).
CREATE TABLE calendar_days (
    day         date PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name        text NOT NULL DEFAULT '',
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE calendar_days;
