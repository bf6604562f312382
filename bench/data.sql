-- Benchmark data, generated in SQL. psql variables:
--   scale   number of accounts (ids 1..scale: run on a freshly migrated database)
--   owners  number of owner users (members)
-- Accounts are spread over the owners and the seeded sources (every fifth
-- has no source); about half have an external id, a third have notes.
\set ON_ERROR_STOP on

INSERT INTO users (name, email, role)
SELECT format('Bench owner %s', g), format('owner%s@bench.example', g), 'member'
  FROM generate_series(1, :owners) g;

INSERT INTO accounts (name, source_id, owner_id, website, phone, notes, external_id, created_at, updated_at)
SELECT format('Account %s %s', g, left(md5(g::text), 8)),
       CASE WHEN g % 5 = 0 THEN NULL ELSE src.ids[1 + g % cardinality(src.ids)] END,
       own.ids[1 + g % cardinality(own.ids)],
       format('https://www.account-%s.example.com', g),
       format('+1 555 %s', lpad((g % 10000000)::text, 7, '0')),
       CASE WHEN g % 3 = 0 THEN repeat('Notes about this account. ', 1 + g % 8) END,
       CASE WHEN g % 2 = 0 THEN format('ext-%s', g) END,
       now() - (g % 10000) * interval '1 hour',
       now() - (g % 1000) * interval '1 minute'
  FROM generate_series(1, :scale) g,
       (SELECT array_agg(id ORDER BY id) AS ids FROM lookup_items WHERE kind = 'source') src,
       (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE email LIKE '%@bench.example') own;

VACUUM ANALYZE;
CHECKPOINT;

-- Checked by bench/run.sh: the ids the wrk scripts draw from.
SELECT format('accounts=%s min_id=%s max_id=%s', count(*), min(id), max(id)) FROM accounts;
