-- wrk: POST the same lead (scripts/load/lead.json, or $LEAD_FILE) on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("LEAD_FILE") or "scripts/load/lead.json", "r"))
wrk.body = file:read("*a")
file:close()
