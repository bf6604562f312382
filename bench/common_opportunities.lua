-- Shared by the opportunity and report wrk scripts (after common.lua):
-- the generated opportunities, owners and products (bench/run.sh exports
-- their id ranges, read from the database after generating the data).
--
-- Env: BENCH_OPPS (opportunity ids 1..BENCH_OPPS), BENCH_OWNER_MIN and
--   BENCH_OWNER_MAX (the bench owners' user ids), BENCH_PRODUCT_MIN and
--   BENCH_PRODUCT_MAX (the bench products' lookup ids)
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common.lua")

local function env_int(name)
  local v = tonumber(os.getenv(name) or "")
  if v == nil or v < 1 then
    error(name .. " must be set to a positive whole number")
  end
  return v
end

bench.opps = env_int("BENCH_OPPS")
bench.owner_min = env_int("BENCH_OWNER_MIN")
bench.owner_max = env_int("BENCH_OWNER_MAX")
bench.product_min = env_int("BENCH_PRODUCT_MIN")
bench.product_max = env_int("BENCH_PRODUCT_MAX")

function bench.random_opportunity()
  return math.random(1, bench.opps)
end

function bench.random_owner()
  return math.random(bench.owner_min, bench.owner_max)
end

function bench.random_product()
  return math.random(bench.product_min, bench.product_max)
end
