-- Call the next ticket (or ARGV[11], a given waiting ticket code) at counter SCOPE.
-- ARGV[8] priority_every, ARGV[9] policy ('order' | 'oldest'), ARGV[10] services (comma list),
-- ARGV[12] the officer of a PIN session ('' for a token).
-- KEYS: 1 events, 2 idempotency key, 3 the counter, 4 today's aggregates, 5 recent calls,
-- 6.. today's queues of the counter's services, last the given ticket (when ARGV[11] names one).
OFFICER = ARGV[12] or ''
REQUEST = KEYS[2]
local ck = KEYS[3]  -- the counter
STATS = KEYS[4]
local RECENT = KEYS[5]
local every, policy, target = tonumber(ARGV[8]), ARGV[9], ARGV[11]
local services = items(ARGV[10])
local TARGET = KEYS[declare_queues(6, services)]  -- the given ticket (nil without one)
local prev = remembered()
if prev then return prev end
local n = SCOPE
local c = redis.call('HMGET', ck, 'status', 'ticket', 'since_priority')
if c[1] == 'paused' then return fail('counter_paused') end
-- normal calls since this counter's last priority call: one priority per `every` normal
local since = tonumber(c[3] or every)

local chosen, chosen_key
if target ~= '' then
  local id = ticket_id(DAY, target)
  local t = load_ticket(TARGET)
  if not t then return fail('unknown_ticket', target) end
  if t.status ~= 'waiting' then return fail('ticket_not_waiting', t.status) end
  if not contains(ARGV[10], t.service) then return fail('service_not_served', t.service) end
  chosen, chosen_key = id, waiting_queue(t.service, t.priority)
else
  -- the head of the normal and the priority queues, by the counter's policy
  local function head(priority)
    local best, best_key, best_score
    for _, s in ipairs(services) do
      local k = waiting_queue(s, priority)
      local h = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
      if #h > 0 then
        local score = tonumber(h[2])
        if policy == 'order' then return h[1], k end
        if not best_score or score < best_score then best, best_key, best_score = h[1], k, score end
      end
    end
    return best, best_key
  end
  local normal, normal_key = head('')
  local prio, prio_key = head('p')
  if prio and (not normal or since >= every) then
    chosen, chosen_key = prio, prio_key
  else
    chosen, chosen_key = normal, normal_key
  end
end

-- pressing Panggil while serving completes the current ticket first
if not chosen then
  local answer = {ticket = cjson.null}
  if c[2] then answer.event_id = finish(ck, n, c[2], 'completed', false) end
  return remember(cjson.encode(answer))
end
local finished = nil
if c[2] then finished = finish(ck, n, c[2], 'completed', true) end
redis.call('ZREM', chosen_key, chosen)
local tk = TARGET
if target == '' then tk = ticket_key(chosen) end  -- derived: the head of a queue
local t = load_ticket(tk)
if t.priority ~= '' then since = 0 else since = since + 1 end
redis.call('HSET', tk, 'status', 'called', 'counter', n, 'called_ms', NOW,
           'called_at', AT, 'calls', 1)
if OFFICER ~= '' then
  redis.call('HSET', tk, 'officer', OFFICER)
else
  redis.call('HDEL', tk, 'officer')
end
redis.call('HSET', ck, 'status', 'serving', 'ticket', chosen, 'since', NOW, 'since_priority', since)
local wait = NOW - tonumber(t.issued_ms)
count(t.day, 'called:' .. t.service)
count(t.day, 'wait_ms:' .. t.service, wait)
count(t.day, 'called:c' .. n)
local ev = {type = 'call', ticket = t.code, ticket_day = t.day, service = t.service,
            counter = tonumber(n), priority = t.priority,
            waiting = {[t.service] = waiting(t.service)},
            completed = finished}
local eid = emit(ev)
redis.call('LPUSH', RECENT, cjson.encode({ticket = t.code, service = t.service,
           counter = tonumber(n), at = AT, event_id = eid}))
redis.call('LTRIM', RECENT, 0, 49)
local view = public(load_ticket(tk))
return remember(cjson.encode({ticket = view, event_id = eid}))
