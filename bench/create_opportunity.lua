-- wrk: POST /opportunities with two lines, a random account and random
-- products (the first line at the product's price, the second priced).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common_opportunities.lua")


function init(args)
  bench.seed()
  -- Added to the headers of -H (a headers argument to wrk.format would replace them).
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = string.format(
    '{"account_id":%d,"name":"Bench deal","lines":[{"product_id":%d,"quantity":2},' ..
    '{"product_id":%d,"quantity":1,"unit_price":"99.50"}]}',
    bench.random_id(), bench.random_product(), bench.random_product())
  return wrk.format("POST", "/opportunities", nil, body)
end
