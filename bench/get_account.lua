-- wrk: GET /accounts/{id} with a random id in 1..BENCH_SCALE.
-- The Authorization header comes from wrk's -H (bench/run.sh).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common.lua")

function init(args)
  bench.seed()
end

function request()
  return wrk.format("GET", "/accounts/" .. bench.random_id())
end
