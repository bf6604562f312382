-- pgbench baseline for GET /accounts/{id}: the data statement the server
-- runs (without the api_authenticate call it pipelines before it).
-- bench/run.sh replaces the @statement line with the SQL of that statement,
-- read from the C source, $1..$n becoming the arguments after its name.
\set id random(1, :scale)
-- @statement api/store/accounts.c account_get :id
