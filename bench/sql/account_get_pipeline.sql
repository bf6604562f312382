-- pgbench of everything the server sends to PostgreSQL for
-- GET /accounts/{id} once the caller's token is in its token cache (the
-- steady state under wrk): the caller's settings and the data statement in
-- one pipeline with one sync, as api/store/db.c does. Not the baseline (that
-- is account_get.sql): it shows what the extra statement costs PostgreSQL.
-- :user_id and :caller_role come from bench/run.sh (-D).
\set id random(1, :scale)
\startpipeline
-- @statement api/store/db.c as_caller :user_id :caller_role
-- @statement api/store/accounts.c account_get :id
\endpipeline
