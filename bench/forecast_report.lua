-- wrk: GET /reports/forecast, the next 12 months by month, split by owner,
-- over every generated deal (the same request each time).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")

function request()
  return wrk.format("GET", "/reports/forecast?period=next_12_months&group_by=month&split_by=owner")
end
