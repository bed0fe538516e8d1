-- Act on counter SCOPE's current ticket or state: ARGV[8] action, ARGV[9] argument,
-- ARGV[10] the counter's services (comma list), ARGV[11] grace window in ms, ARGV[12] the
-- officer of a PIN session ('' for a token).
--   recall | skip | done (arg: outcome) | transfer (arg: service) | pause (arg: reason)
--   resume | restore (arg: ticket code of a no-show, put back in its queue within the grace window)
-- KEYS: 1 events, 2 idempotency key, 3 the counter, 4 today's aggregates, 5 today's no-shows,
-- 6.. today's queues of the counter's services (then of a transfer's service, when the counter
-- does not serve it), last the no-show to restore (restore only).
REQUEST = KEYS[2]
local ck = KEYS[3]  -- the counter
STATS = KEYS[4]
local SKIPPED = KEYS[5]
local n, action, arg = SCOPE, ARGV[8], ARGV[9]
local queued = items(ARGV[10])
if action == 'transfer' and not contains(ARGV[10], arg) then queued[#queued + 1] = arg end
local RESTORED = KEYS[declare_queues(6, queued)]  -- the no-show to restore (nil otherwise)
local prev = remembered()
if prev then return prev end
OFFICER = ARGV[12] or ''
local c = redis.call('HMGET', ck, 'status', 'ticket')
local status, current = c[1] or 'idle', c[2]
local eid

local function answer(t)
  local out = {event_id = eid, status = redis.call('HGET', ck, 'status') or 'idle'}
  if t then out.ticket = public(t) else out.ticket = cjson.null end
  return remember(cjson.encode(out))
end

if action == 'pause' then
  if status == 'paused' then return fail('counter_paused') end
  if current then return fail('ticket_in_progress', current) end
  redis.call('HSET', ck, 'status', 'paused', 'since', NOW, 'reason', arg)
  eid = emit({type = 'pause', counter = tonumber(n), reason = arg})
  return answer(nil)
elseif action == 'resume' then
  if status ~= 'paused' then return fail('counter_not_paused') end
  redis.call('HSET', ck, 'status', 'idle', 'since', NOW)
  redis.call('HDEL', ck, 'reason')
  eid = emit({type = 'resume', counter = tonumber(n)})
  return answer(nil)
elseif action == 'restore' then
  local id = ticket_id(DAY, arg)
  local t = load_ticket(RESTORED)
  if not t then return fail('unknown_ticket', arg) end
  if not contains(ARGV[10], t.service) then return fail('service_not_served', t.service) end
  if t.status ~= 'no_show' then return fail('ticket_not_skipped', t.status) end
  if not restorable(t.skipped_ms, tonumber(ARGV[11])) then return fail('grace_expired') end
  redis.call('HSET', RESTORED, 'status', 'waiting')
  redis.call('HDEL', RESTORED, 'counter')
  enqueue(t.service, t.priority, t.arrival, id)
  redis.call('ZREM', SKIPPED, id)
  count(t.day, 'no_show:' .. t.service, -1)
  count(t.day, 'no_show:c' .. t.counter, -1)
  count(t.day, 'restored:' .. t.service)
  eid = emit({type = 'restore', ticket = t.code, service = t.service, counter = tonumber(n),
              waiting = {[t.service] = waiting(t.service)}})
  return answer(load_ticket(RESTORED))
end

if not current then return fail('no_current_ticket') end
local tk = ticket_key(current)  -- derived: the counter's current ticket, read from its hash
local t = load_ticket(tk)
if not t then return fail('no_current_ticket') end

if action == 'recall' then
  local calls = redis.call('HINCRBY', tk, 'calls', 1)
  count(t.day, 'recalled:' .. t.service)
  eid = emit({type = 'recall', ticket = t.code, ticket_day = t.day, service = t.service,
              counter = tonumber(n), priority = t.priority, calls = calls})
elseif action == 'done' then
  eid = finish(ck, n, current, arg, false)
elseif action == 'skip' then
  redis.call('HSET', tk, 'status', 'no_show', 'skipped_ms', NOW)
  if OFFICER ~= '' then redis.call('HSET', tk, 'officer', OFFICER) end
  redis.call('ZADD', SKIPPED, NOW, current)
  redis.call('EXPIRE', SKIPPED, TTL.skipped)
  redis.call('HSET', ck, 'status', 'idle', 'since', NOW)
  redis.call('HDEL', ck, 'ticket')
  count(t.day, 'no_show:' .. t.service)
  count(t.day, 'no_show:c' .. n)
  eid = emit({type = 'skip', ticket = t.code, ticket_day = t.day, service = t.service,
              counter = tonumber(n)})
elseif action == 'transfer' then
  if arg == t.service then return fail('same_service', arg) end
  redis.call('HSET', tk, 'status', 'waiting', 'service', arg,
             'transferred_ms', NOW)
  redis.call('HDEL', tk, 'counter')
  enqueue(arg, t.priority, t.arrival, current)
  redis.call('HSET', ck, 'status', 'idle', 'since', NOW)
  redis.call('HDEL', ck, 'ticket')
  count(t.day, 'transferred:' .. t.service)
  count(t.day, 'transferred_in:' .. arg)
  eid = emit({type = 'transfer', ticket = t.code, ticket_day = t.day, from = t.service,
              service = arg, counter = tonumber(n),
              waiting = {[arg] = waiting(arg)}})
else
  return fail('unknown_action', action)
end
return answer(load_ticket(tk))
