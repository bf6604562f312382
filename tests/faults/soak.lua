-- The soak's mixed load for wrk (run by tests/faults/test_soak.py).
-- One connection per wrk thread (-t N -c N), so each response answers the
-- request this thread made last and can be counted under its kind.
-- Each thread stops after its share of SOAK_REQUESTS and prints
-- SOAK_THREAD_DONE (wrk itself waits for -d; the test interrupts it then);
-- done() prints one SOAK_JSON line: wrk's figures and the count of every
-- "kind status" pair.
--
-- Env: SOAK_TOKEN, SOAK_REQUESTS, SOAK_THREADS (= -t), SOAK_TAG (prefix of
-- created names), SOAK_ACCOUNTS, SOAK_OPPORTUNITIES, SOAK_OWNERS (ids, comma
-- separated)

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then error(name .. " is not set") end
  return v
end

local function ids(name)
  local out = {}
  for id in string.gmatch(env(name), "%d+") do out[#out + 1] = id end
  return out
end

local token = env("SOAK_TOKEN")
local total = tonumber(env("SOAK_REQUESTS"))
local nthreads = tonumber(env("SOAK_THREADS"))
local tag = env("SOAK_TAG")
local accounts = ids("SOAK_ACCOUNTS")
local opportunities = ids("SOAK_OPPORTUNITIES")
local owners = ids("SOAK_OWNERS")

local auth = { ["Authorization"] = "Bearer " .. token }
local auth_json = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local bad_auth = { ["Authorization"] = "Bearer crm_notatoken0000000000000000000000" }

local function pick(list) return list[math.random(#list)] end

local serial = 0
local function next_serial()
  serial = serial + 1
  return serial
end

-- name, weight (per mille), build() -> wrk request; the statuses each kind
-- should get are the test's business (test_soak.py EXPECTED). A page of
-- GET /accounts costs far more than the rest (its time grows with the
-- table), hence its small share.
local kinds = {
  { "get_account", 290, function() return wrk.format("GET", "/accounts/" .. pick(accounts), auth) end },
  { "list_accounts", 5, function() return wrk.format("GET", "/accounts?limit=50", auth) end },
  { "get_opportunity", 200, function() return wrk.format("GET", "/opportunities/" .. pick(opportunities), auth) end },
  { "list_opportunities", 50, function()
      return wrk.format("GET", "/opportunities?limit=20&sort=-close_date&owner_id=" .. pick(owners), auth) end },
  { "lookups", 40, function() return wrk.format("GET", "/lookups/opportunity-status", auth) end },
  { "create_account", 20, function()
      return wrk.format("POST", "/accounts", auth_json,
        string.format('{"name":"%s-%d-%d"}', tag, thread_no, next_serial())) end },
  { "patch_account", 30, function()
      return wrk.format("PATCH", "/accounts/" .. pick(accounts), auth_json,
        string.format('{"phone":"+44 %d"}', next_serial())) end },
  { "patch_opportunity", 20, function()
      return wrk.format("PATCH", "/opportunities/" .. pick(opportunities), auth_json,
        string.format('{"next_step":"call %d"}', next_serial())) end },
  { "forecast", 20, function()
      return wrk.format("GET", "/reports/forecast?period=next_12_months&group_by=month&split_by=owner", auth) end },
  { "funnel", 30, function() return wrk.format("GET", "/dashboard/funnel", auth) end },
  { "bad_json", 60, function() return wrk.format("POST", "/accounts", auth_json, '{"name": ') end },
  { "unknown_param", 60, function() return wrk.format("GET", "/accounts?limit=5&colour=red", auth) end },
  { "bad_id", 60, function()
      return wrk.format("GET", pick({ "/accounts/abc", "/opportunities/0", "/accounts/99999999999999999999",
        "/opportunities/-3" }), auth) end },
  { "oversized_limit", 50, function() return wrk.format("GET", "/opportunities?limit=100000", auth) end },
  { "bad_token", 50, function() return wrk.format("GET", "/accounts", bad_auth) end },
  { "invalid_body", 15, function()
      return wrk.format("POST", "/opportunities", auth_json, '{"account_id":"x","probability":300,"colour":1}') end },
}

local weight_sum = 0
for _, k in ipairs(kinds) do weight_sum = weight_sum + k[2] end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  local no = #threads
  thread:set("thread_no", no)
  local share = math.floor(total / nthreads)
  if no <= total % nthreads then share = share + 1 end
  thread:set("quota", share)
end

function init(args)
  math.randomseed(os.time() * 131 + thread_no * 7919)
  for _ = 1, 10 do math.random() end
  counts = {}
  answered = 0
end

local current = nil
function request()
  local r = math.random(weight_sum)
  for _, k in ipairs(kinds) do
    r = r - k[2]
    if r <= 0 then
      current = k[1]
      return k[3]()
    end
  end
end

function response(status, headers, body)
  local key = current .. " " .. status
  counts[key] = (counts[key] or 0) + 1
  answered = answered + 1
  if answered == quota then
    io.write("SOAK_THREAD_DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'SOAK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"counts":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
