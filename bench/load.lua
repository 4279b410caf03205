-- wrk script: realistic webhook posts. Most are 1 KiB JSON; a share are 64 KiB and
-- 1 MiB (shares from BENCH_SHARE_64K and BENCH_SHARE_1M, in percent).
-- Prints one JSON line of results at the end, for bench/run.py.

local function json_body(size)
  local pad = size - 40
  return '{"event":"order.updated","padding":"' .. string.rep("x", pad) .. '"}'
end

local share_64k = tonumber(os.getenv("BENCH_SHARE_64K") or "2")
local share_1m = tonumber(os.getenv("BENCH_SHARE_1M") or "0.2")
local headers = {["Content-Type"] = "application/json", ["X-Bench"] = "1"}
local small, medium, large

function init(args)
  small = wrk.format("POST", nil, headers, json_body(1024))
  medium = wrk.format("POST", nil, headers, json_body(64 * 1024))
  large = wrk.format("POST", nil, headers, json_body(1024 * 1024))
  math.randomseed(os.time() + (args[1] and tonumber(args[1]) or 0))
end

function request()
  local roll = math.random() * 100
  if roll < share_1m then return large end
  if roll < share_1m + share_64k then return medium end
  return small
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, errors.status, errors.connect,
    errors.read, errors.write, errors.timeout, latency:percentile(50), latency:percentile(99)))
end
