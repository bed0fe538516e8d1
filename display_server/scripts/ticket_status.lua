-- Read-only status of one ticket: ARGV[8] its code, of the day ARGV[9] (YYYY-MM-DD).
-- Returns JSON with the ticket and how many are called before it, or '' when unknown.
local t = load_ticket(ticket_id(ARGV[9], ARGV[8]))
if not t then return '' end
local view = public(t)
view.called_at = t.called_at
view.outcome = t.outcome
view.ahead = ahead(t)
-- the satisfaction survey: 'open' once served, 'done' once answered (survey.lua)
if t.rated then view.survey = 'done' elseif t.status == 'served' then view.survey = 'open'
else view.survey = cjson.null end
return cjson.encode(view)
