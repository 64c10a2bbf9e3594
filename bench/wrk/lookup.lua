-- wrk script for bench/api.py: GET <path><phone> with a rotating list of phone numbers.
-- wrk -s lookup.lua <base url> -- <phones file> <path prefix> <token>
-- The phones file holds one URL-encoded number per line, already in varied formats.
-- done() prints one line "WRK_JSON {...}" with the latency percentiles in microseconds.

local phones = {}
local prefix = "/"
local headers = {}
local next_index = 1
local threads = 0

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      phones[#phones + 1] = line
    end
  end
  prefix = args[2]
  if args[3] and args[3] ~= "" then
    headers["Authorization"] = "Token " .. args[3]
  end
  -- Threads start at different places in the list, so they do not ask in lockstep.
  next_index = (math.floor(#phones / 7) * (thread_id or 0)) % #phones + 1
end

function request()
  local phone = phones[next_index]
  next_index = next_index % #phones + 1
  return wrk.format("GET", prefix .. phone, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"non_2xx_3xx": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
