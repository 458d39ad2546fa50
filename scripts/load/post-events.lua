-- wrk: POST batches of BATCH events (default 500), each with an event_id never sent before
-- (the run's start time, the thread and a counter in it), spread over LEADS leads (default
-- 10000), as one JSON array.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local batch = tonumber(os.getenv("BATCH") or "500")
local leads = tonumber(os.getenv("LEADS") or "10000")
local types = {"email_open", "website_visit", "pricing_page_visit", "demo_request", "webinar_attended"}
local counter = 0
local run = 0
local threads = 0

function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
end

function init(args)
    run = os.time()
end

function request()
    local parts = {}
    for i = 1, batch do
        counter = counter + 1
        local n = counter
        parts[i] = string.format(
            '{"lead_id":"load-%d","type":"%s","at":"2026-06-%02dT%02d:%02d:00Z","event_id":"r%d-t%d-%d"}',
            (n * 7919 + (thread_id or 0)) % leads, types[(n % #types) + 1], (n % 28) + 1, n % 24,
            n % 60, run, thread_id or 0, n)
    end
    return wrk.format(nil, nil, nil, "[" .. table.concat(parts, ",") .. "]")
end
