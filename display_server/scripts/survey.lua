-- The satisfaction survey (SKM) of a served ticket. ARGV[8] mode:
--   'rate': ARGV[9] day, ARGV[10] code, ARGV[11] the nine answers (JSON array, checked by the
--     caller), ARGV[12] the profile (JSON object, checked; '' = none), ARGV[13] via ('status' or
--     'counter'), ARGV[14] the ticket's counter must be this one ('' = any), ARGV[15] and it must
--     have finished at most this many ms ago ('' = any time), ARGV[16] service -> tenant (JSON).
--     Marks the ticket `rated` and appends a 'survey' event (internal: never sent to screens);
--     refuses a ticket not served (not_served) and a second answer (already_rated).
--   'pending': ARGV[9] counter, ARGV[10] window in ms: the ticket that counter finished last,
--     if it is not rated and finished within the window; else ''.
-- KEYS: 1 events, then for 'rate' 2 the idempotency key and 3 the ticket; for 'pending' 2 the
-- counter.
local mode = ARGV[8]

if mode == 'pending' then
  local id = redis.call('HGET', KEYS[2], 'finished')
  if not id then return '' end
  local t = load_ticket(ticket_key(id))  -- derived: the counter's last finished ticket
  if not t or t.status ~= 'served' or t.rated or t.counter ~= ARGV[9] then return '' end
  if NOW - tonumber(t.finished_ms or '0') > tonumber(ARGV[10]) then return '' end
  return cjson.encode({code = t.code, day = t.day, service = t.service,
                       counter = tonumber(t.counter), outcome = t.outcome,
                       finished_ms = tonumber(t.finished_ms)})
end

REQUEST = KEYS[2]
local TICKET = KEYS[3]
local prev = remembered()
if prev then return prev end
local t = load_ticket(TICKET)
if not t then return fail('unknown_ticket') end
if t.status ~= 'served' then return fail('not_served') end
if ARGV[14] ~= '' then
  if t.counter ~= ARGV[14] then return fail('not_served') end
  if ARGV[15] ~= '' and NOW - tonumber(t.finished_ms or '0') > tonumber(ARGV[15]) then
    return fail('survey_expired')
  end
end
if t.rated then return fail('already_rated') end
local tenants = cjson.decode(ARGV[16])
local ev = {type = 'survey', ticket = t.code, ticket_day = t.day, service = t.service,
            tenant = tenants[t.service] or '', counter = tonumber(t.counter or ''),
            outcome = t.outcome, via = ARGV[13], answers = cjson.decode(ARGV[11])}
if t.officer and t.officer ~= '' then ev.officer = t.officer end
if ARGV[12] ~= '' then ev.profile = cjson.decode(ARGV[12]) end
local eid = emit(ev)
redis.call('HSET', TICKET, 'rated', eid)
return remember(cjson.encode({event_id = eid, ticket = t.code, day = t.day}))
