-- wrk: the change feed's first page of 500 events (GET /changes?limit=500).
dofile((os.getenv("BENCH_DIR") or "bench") .. "/common.lua")

function init(args)
  bench.seed()
end

function request()
  return wrk.format("GET", "/changes?limit=500")
end
