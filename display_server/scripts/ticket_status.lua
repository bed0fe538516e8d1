-- Read-only status of one ticket: ARGV[8] its code, of the day ARGV[9] (YYYY-MM-DD).
-- KEYS: 1 events, 2 the ticket.
-- Returns JSON with the ticket and how many are called before it, or '' when unknown.
local t = load_ticket(KEYS[2])
if not t then return '' end
local view = public(t)
view.called_at = t.called_at
view.outcome = t.outcome
-- derived: the queues of the ticket's service (read from it: a transfer moves it) and day
view.ahead = ahead(t, queue_key(t.day, t.service), priority_queue_key(t.day, t.service))
-- the satisfaction survey: 'open' once served, 'done' once answered (survey.lua)
if t.rated then view.survey = 'done' elseif t.status == 'served' then view.survey = 'open'
else view.survey = cjson.null end
return cjson.encode(view)
