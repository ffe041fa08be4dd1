-- wrk script of scripts/benchmark: every request carries the next bearer token of the file
-- BENCH_TOKENS_FILE (one token a line), so the server sees each token once; BENCH_PATH is the
-- path (default: the URL's). Run it with one thread (-t1). When the tokens run out the thread
-- stops and done() prints "benchmark-exhausted: 1" (the figure is then too low: the caller
-- makes more tokens and measures again); it always prints "benchmark-sent: N".
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
  if line ~= "" then tokens[#tokens + 1] = line end
end
local path = os.getenv("BENCH_PATH") or wrk.path
local headers = {}
for name, value in pairs(wrk.headers) do headers[name] = value end
sent = 0
exhausted = 0

function request()
  if sent >= #tokens then
    exhausted = 1
    wrk.thread:stop()
    -- A request is still owed to the connection while the thread stops: /health, which no
    -- credential check refuses (a replayed single-use token would count as a failed login).
    return wrk.format("GET", "/health")
  end
  sent = sent + 1
  headers["Authorization"] = "Bearer " .. tokens[sent]
  return wrk.format("GET", path, headers)
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local total, out = 0, 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("sent") or 0)
    out = math.max(out, thread:get("exhausted") or 0)
  end
  io.write(string.format("benchmark-sent: %d\nbenchmark-exhausted: %d\n", total, out))
end
