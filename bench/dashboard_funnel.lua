-- wrk: GET /dashboard/funnel (every owner, every open deal).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")

function request()
  return wrk.format("GET", "/dashboard/funnel")
end
