-- pgbench baseline for GET /opportunities/{id}: the data statement the
-- server runs (the deal with its lines as one JSON text), random ids.
\set id random(1, :opps)
-- @statement api/store/opportunities.c opportunity_get :id
