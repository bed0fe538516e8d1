-- Issue a ticket: ARGV[8] service, ARGV[9] quota (0 = none), ARGV[10] priority category ('' = none).
REQUEST = KEYS[2]
local SEQ = KEYS[3]  -- today's sequences
local ARRIVAL = KEYS[4]
STATS = KEYS[5]
local service, quota, priority = ARGV[8], tonumber(ARGV[9]), ARGV[10]
declare_queues(6, {service})  -- KEYS[6], KEYS[7]: the service's queues
local prev = remembered()
if prev then return prev end
local issued = tonumber(redis.call('HGET', SEQ, service) or '0')
if quota > 0 and issued >= quota then return fail('quota_reached', tostring(quota)) end
local seq = redis.call('HINCRBY', SEQ, service, 1)
redis.call('EXPIRE', SEQ, TTL.seq)
local code = service .. string.format('%03d', seq)
local id = ticket_id(DAY, code)
local arrival = redis.call('INCR', ARRIVAL)
local tk = ticket_key(id)  -- derived: its number comes from the day's sequence
redis.call('HSET', tk, 'code', code, 'service', service, 'seq', seq, 'day', DAY,
           'status', 'waiting', 'priority', priority, 'issued_at', AT, 'issued_ms', NOW,
           'arrival', arrival, 'origin', service, 'calls', 0)
redis.call('EXPIRE', tk, TTL.ticket)
enqueue(service, priority, arrival, id)
count(DAY, 'issued:' .. service)
if priority ~= '' then count(DAY, 'priority:' .. service) end
local eid = emit({type = 'ticket', ticket = code, service = service, priority = priority,
                  waiting = {[service] = waiting(service)}})
local t = load_ticket(tk)
local view = public(t)
view.ahead = ahead(t, queues_of(service))
view.event_id = eid
return remember(cjson.encode(view))
