-- One single-row INSERT per transaction, the same shape as storing an update.
\set id random(1, 1000000000)
INSERT INTO bench_insert (id, raw) VALUES (:id, '{"update_id":1,"message":{"text":"/help"}}') ON CONFLICT DO NOTHING;
