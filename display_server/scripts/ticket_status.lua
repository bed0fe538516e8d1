-- Read-only status of one ticket: ARGV[8] its code, of the day ARGV[9] (YYYY-MM-DD).
-- Returns JSON with the ticket and how many are called before it, or '' when unknown.
local t = load_ticket(ticket_id(ARGV[9], ARGV[8]))
if not t then return '' end
local view = public(t)
view.called_at = t.called_at
view.outcome = t.outcome
view.ahead = ahead(t)
return cjson.encode(view)
