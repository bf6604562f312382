-- pgbench baseline for PATCH /opportunities/{id} with next_step and
-- probability on random generated deals (created 100+ days ago, so the
-- history trigger writes two entries in the same statement): as_caller
-- (see opportunity_create.sql) and the patch statement in one pipeline.
-- No If-Match: the server passes NULL (written NULL here: pgbench cannot
-- bind a NULL). :body comes from a pool made by bench/run.sh (see
-- opportunity_create.sql).
\set id random(1, :opps)
\startpipeline
-- @statement api/store/db.c as_caller :user_id :caller_role
-- @statement api/store/opportunities.c opportunity_patch :id :body NULL
\endpipeline
