-- pgbench baseline for GET /opportunities?owner_id=N&sort=close_date&limit=50:
-- what the server pipelines after the token check, in one pipeline (one
-- implicit transaction): custom_plans (plans made for this call's values),
-- then the list statement. Its 15 parameters are the server's: include
-- deleted false, owner_id, limit 50; the filters the request leaves out are
-- NULL, written as NULL here (pgbench cannot bind a NULL parameter; the
-- custom plan folds them the same way).
\set owner random(:owner_min, :owner_max)
\set deleted false
\set lim 50
\startpipeline
-- @statement api/store/opportunities.c custom_plans
-- @statement api/store/opportunities.c opportunity_list_close_date :deleted NULL :owner NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL :lim
\endpipeline
