-- Issue a ticket: ARGV[8] service, ARGV[9] quota (0 = none), ARGV[10] priority category ('' = none).
local prev = remembered()
if prev then return prev end
local service, quota, priority = ARGV[8], tonumber(ARGV[9]), ARGV[10]
local seqs = seq_key(DAY)
local issued = tonumber(redis.call('HGET', seqs, service) or '0')
if quota > 0 and issued >= quota then return fail('quota_reached', tostring(quota)) end
local seq = redis.call('HINCRBY', seqs, service, 1)
redis.call('EXPIRE', seqs, TTL.seq)
local code = service .. string.format('%03d', seq)
local id = ticket_id(DAY, code)
local arrival = redis.call('INCR', arrival_key())
local tk = ticket_key(id)
redis.call('HSET', tk, 'code', code, 'service', service, 'seq', seq, 'day', DAY,
           'status', 'waiting', 'priority', priority, 'issued_at', AT, 'issued_ms', NOW,
           'arrival', arrival, 'origin', service, 'calls', 0)
redis.call('EXPIRE', tk, TTL.ticket)
enqueue(DAY, service, priority, arrival, id)
count(DAY, 'issued:' .. service)
if priority ~= '' then count(DAY, 'priority:' .. service) end
local eid = emit({type = 'ticket', ticket = code, service = service, priority = priority,
                  waiting = {[service] = waiting(DAY, service)}})
local t = load_ticket(id)
local view = public(t)
view.ahead = ahead(t)
view.event_id = eid
return remember(cjson.encode(view))
