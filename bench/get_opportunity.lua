-- wrk: GET /opportunities/{id} (the deal with its lines), random ids of
-- the generated opportunities.
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")

function init(args)
  bench.seed()
end

function request()
  return wrk.format("GET", "/opportunities/" .. bench.random_opportunity())
end
