-- wrk: POST /batch of 50 opportunity creates, each with two lines (the
-- body of bench/create_opportunity.lua), random accounts and products.
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")

local OPERATIONS = 50

function init(args)
  bench.seed()
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local ops = {}
  for i = 1, OPERATIONS do
    ops[i] = string.format(
      '{"method":"POST","path":"/opportunities","body":{"account_id":%d,"name":"Bench deal","lines":[' ..
      '{"product_id":%d,"quantity":2},{"product_id":%d,"quantity":1,"unit_price":"99.50"}]}}',
      bench.random_id(), bench.random_product(), bench.random_product())
  end
  return wrk.format("POST", "/batch", nil, '{"operations":[' .. table.concat(ops, ",") .. ']}')
end
