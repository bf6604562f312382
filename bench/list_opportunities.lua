-- wrk: the first page of 50 of one random owner's deals by close date.
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")

function init(args)
  bench.seed()
end

function request()
  return wrk.format("GET", "/opportunities?owner_id=" .. bench.random_owner() .. "&sort=close_date&limit=50")
end
