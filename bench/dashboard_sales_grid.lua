-- wrk: GET /dashboard/sales-grid?period=month (the current fiscal year by
-- month, every active owner).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")

function request()
  return wrk.format("GET", "/dashboard/sales-grid?period=month")
end
