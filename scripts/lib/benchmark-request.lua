-- wrk script of scripts/benchmark: one fixed request, described by the environment (headers
-- come with wrk's -H):
--   BENCH_METHOD        GET (default) or POST
--   BENCH_BODY_FILE     the body, read once
--   BENCH_FAILURE_TEXT  a response body containing this text is a failed request although its
--                       status is 200 (TR50 answers 200 with "success":false); done() prints
--                       "benchmark-failures: N"
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE") or ""
if body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
end

local failure_text = os.getenv("BENCH_FAILURE_TEXT") or ""
failures = 0
if failure_text ~= "" then
  function response(status, headers, body)
    if body and string.find(body, failure_text, 1, true) then
      failures = failures + 1
    end
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("failures") or 0)
  end
  io.write(string.format("benchmark-failures: %d\n", total))
end
