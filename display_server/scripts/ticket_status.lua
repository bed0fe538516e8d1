-- Read-only status of one ticket: ARGV[1] prefix, ARGV[2] ticket id (day:code).
-- Returns JSON with the ticket and how many wait before it, or '' when unknown.
local P, id = ARGV[1], ARGV[2]
local flat = redis.call('HGETALL', P .. 't:' .. id)
if #flat == 0 then return '' end
local t = {}
for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
local ahead = cjson.null
if t.status == 'waiting' then
  local q = P .. 'q:' .. t.day .. ':' .. t.service
  local pq = P .. 'pq:' .. t.day .. ':' .. t.service
  if t.priority ~= '' then
    ahead = redis.call('ZCOUNT', pq, '-inf', '(' .. t.arrival)
  else
    ahead = redis.call('ZCOUNT', q, '-inf', '(' .. t.arrival) + redis.call('ZCARD', pq)
  end
end
return cjson.encode({code = t.code, service = t.service, seq = tonumber(t.seq), day = t.day,
  status = t.status, priority = t.priority, issued_at = t.issued_at, origin = t.origin,
  counter = tonumber(t.counter or ''), called_at = t.called_at, outcome = t.outcome,
  calls = tonumber(t.calls or '0'), ahead = ahead})
