-- PagerDuty Events v2 triggers for wrk: every second event repeats one of 50 open alerts
-- (a duplicate), the others are new alerts. The routing key comes from ROUTING_KEY.
local key = os.getenv("ROUTING_KEY")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 7919 + os.time())
end

request = function()
  counter = counter + 1
  local dedup
  if counter % 2 == 0 then
    dedup = "dup-" .. (counter % 50)
  else
    dedup = "new-" .. id .. "-" .. counter .. "-" .. math.random(1, 1000000000)
  end
  local body = '{"routing_key":"' .. key .. '","event_action":"trigger","dedup_key":"' .. dedup ..
    '","payload":{"summary":"Latency above SLO on checkout (' .. dedup ..
    ')","source":"checkout-7f9c","severity":"critical","custom_details":{"p99_ms":812,"region":"eu-west-1"}}}'
  return wrk.format("POST", "/v2/enqueue", {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  io.write(string.format("WRK_RESULT requests=%d duration_us=%d non2xx=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
