-- Issue a ticket: ARGV[8] service, ARGV[9] quota (0 = none), ARGV[10] priority category ('' = none).
local prev = remembered()
if prev then return prev end
local service, quota, priority = ARGV[8], tonumber(ARGV[9]), ARGV[10]
local seqs = P .. 'seq:' .. DAY
local issued = tonumber(redis.call('HGET', seqs, service) or '0')
if quota > 0 and issued >= quota then return fail('quota_reached', tostring(quota)) end
local seq = redis.call('HINCRBY', seqs, service, 1)
redis.call('EXPIRE', seqs, DAY_TTL)
local code = service .. string.format('%03d', seq)
local id = DAY .. ':' .. code
local arrival = redis.call('INCR', P .. 'arrival')
local tk = ticket_key(id)
redis.call('HSET', tk, 'code', code, 'service', service, 'seq', seq, 'day', DAY,
           'status', 'waiting', 'priority', priority, 'issued_at', AT, 'issued_ms', NOW,
           'arrival', arrival, 'origin', service, 'calls', 0)
redis.call('EXPIRE', tk, TICKET_TTL)
local qk = queue_key(DAY, service, priority)
redis.call('ZADD', qk, arrival, id)
redis.call('EXPIRE', qk, DAY_TTL)
count(DAY, 'issued:' .. service)
if priority ~= '' then count(DAY, 'priority:' .. service) end
local ahead = redis.call('ZCARD', qk) - 1
if priority == '' then ahead = ahead + redis.call('ZCARD', queue_key(DAY, service, 'p')) end
local n_waiting = waiting(service)
local eid = emit({type = 'ticket', ticket = code, service = service, priority = priority,
                  waiting = {[service] = n_waiting}})
local t = public(load_ticket(id))
t.ahead = ahead
t.event_id = eid
return remember(cjson.encode(t))
