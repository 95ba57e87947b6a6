-- wrk script for scripts/load_test.sh: POST the JSON bodies of a file (one a line) in turn to a route,
-- optionally paced to a total rate (one wrk thread: the pacing is global), counting statuses.
-- usage: wrk -t1 -cN -dS --timeout 60s -s post_bodies.lua URL -- BODIES ROUTE [RATE_PER_S]
-- prints one line: RESULT key=value ...
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } lt_timespec;
int clock_gettime(int clock_id, lt_timespec* tp);
]]
local ts = ffi.new("lt_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

local bodies, route, interval_ms, next_slot, idx = {}, "/predict", 0, 0, 0
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  route = args[2] or route
  local rate = tonumber(args[3] or "0")
  if rate > 0 then interval_ms = 1000 / rate end
  ok, busy, other = 0, 0, 0
  first_other = ""
end

function request()
  idx = idx % #bodies + 1
  return wrk.format("POST", route, headers, bodies[idx])
end

-- wrk asks before every request how long to wait: each request takes the next free slot of the schedule,
-- so connections not waiting for an answer keep the total rate whatever the latency.
function delay()
  if interval_ms == 0 then return 0 end
  local now = now_ms()
  if next_slot < now then next_slot = now end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  return math.floor(slot - now)
end

function response(status, hdrs, body)
  if status == 200 then ok = ok + 1
  elseif status == 429 then busy = busy + 1
  else
    other = other + 1
    if first_other == "" then first_other = status .. " " .. string.sub(body or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local n_ok, n_busy, n_other, first = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    n_ok = n_ok + t:get("ok"); n_busy = n_busy + t:get("busy"); n_other = n_other + t:get("other")
    if first == "" then first = t:get("first_other") end
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT seconds=%.3f responses=%d rps_ok=%.2f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "ok=%d busy=%d other=%d sock_errors=%d\n",
    seconds, summary.requests, n_ok / seconds, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, n_ok, n_busy, n_other,
    e.connect + e.read + e.write + e.timeout))
  if first ~= "" then io.write("FIRST_OTHER " .. first .. "\n") end
end
