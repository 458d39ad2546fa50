-- wrk: POST the lead (scripts/load/lead.json, or $LEAD_FILE) on every request, and count the
-- answers by status; every 503 must carry Retry-After. Used by scripts/overload-test.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("LEAD_FILE") or "scripts/load/lead.json", "r"))
wrk.body = file:read("*a")
file:close()

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    ok = 0
    shed = 0
    shed_without_retry = 0
    other = 0
end

function response(status, headers, body)
    if status == 200 then
        ok = ok + 1
    elseif status == 503 then
        shed = shed + 1
        if headers["retry-after"] == nil and headers["Retry-After"] == nil then
            shed_without_retry = shed_without_retry + 1
        end
    else
        other = other + 1
    end
end

function done(summary, latency, requests)
    local total = { ok = 0, shed = 0, shed_without_retry = 0, other = 0 }
    for _, thread in ipairs(threads) do
        for key, _ in pairs(total) do
            total[key] = total[key] + thread:get(key)
        end
    end
    io.write(string.format("statuses: 200=%d 503=%d 503-without-retry-after=%d other=%d\n",
        total.ok, total.shed, total.shed_without_retry, total.other))
end
