-- pgbench baseline for POST /opportunities (two lines): what the server
-- sends once the caller's token is in its token cache, in one pipeline:
-- as_caller (the caller's settings, transaction-local; :user_id and
-- :caller_role from bench/run.sh) and the create statement.
-- :body is one of a pool of bodies (random account and products, as the
-- server passes them after validation) made by bench/run.sh: this script is
-- run as one copy per body, chosen at random per transaction.
\startpipeline
-- @statement api/store/db.c as_caller :user_id :caller_role
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
