-- pgbench baseline for POST /batch of 50 opportunity creates (two lines
-- each): what the server sends once the caller's token is in its token
-- cache. The batch's transaction opens with the caller's settings
-- (as_caller: :user_id and :caller_role from bench/run.sh); then each
-- operation is one pipeline, the reset that makes it a change of its own
-- and the create statement; then COMMIT.
-- :body is one of a pool of bodies made by bench/run.sh (pgbench cannot
-- build strings): one copy of this script per body, so the 50 creates of
-- one transaction share it, where the server's have 50 random ones.
\startpipeline
BEGIN;
-- @statement api/store/db.c as_caller :user_id :caller_role
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
\startpipeline
-- @statement api/store/db.c new_change
-- @statement api/store/opportunities.c opportunity_create :body
\endpipeline
COMMIT;
