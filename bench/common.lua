-- Shared by bench/*.lua (loaded with dofile): numbers the wrk threads so
-- each seeds its own random sequence, and prints one JSON line when the run
-- is done, which bench/run.sh parses.
--
-- Env: BENCH_SCALE  ids are drawn from 1..BENCH_SCALE (the generated data)

bench = {}
bench.scale = tonumber(os.getenv("BENCH_SCALE") or "")
if bench.scale == nil or bench.scale < 1 then
  error("BENCH_SCALE must be set to the number of generated rows")
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function bench.seed()
  -- thread_no is set by setup() before init() runs in the thread.
  math.randomseed(os.time() * 131 + (thread_no or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

function bench.random_id()
  return math.random(1, bench.scale)
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"rps":%.2f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
