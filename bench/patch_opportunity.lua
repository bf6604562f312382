-- wrk: PATCH /opportunities/{id} of two fields on random generated deals
-- (all created 100+ days ago, so every change writes history), without
-- If-Match; the probability stays strictly between 0 and 100 (open deals
-- stay open, won and lost ones move to open).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")


function init(args)
  bench.seed()
  -- Added to the headers of -H (a headers argument to wrk.format would replace them).
  wrk.headers["Content-Type"] = "application/merge-patch+json"
end

function request()
  local n = math.random(11, 89)
  local body = string.format('{"next_step":"Bench step %d","probability":%d}', n, n)
  return wrk.format("PATCH", "/opportunities/" .. bench.random_opportunity(), nil, body)
end
