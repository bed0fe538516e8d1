-- Read-only snapshot of a site: ARGV[8] counters, ARGV[9] services (comma lists).
-- Returns JSON; its event_id is the last event the state includes.
local counters, waiting_now = {}, {}
for _, n in ipairs(items(ARGV[8])) do
  local c = redis.call('HMGET', counter_key(n), 'status', 'ticket', 'since', 'reason')
  local entry = {number = tonumber(n), status = c[1] or 'idle', since = tonumber(c[3] or ''),
                 reason = c[4] or cjson.null, ticket = cjson.null}
  if c[2] then
    local t = redis.call('HMGET', ticket_key(c[2]), 'code', 'service', 'priority', 'called_at',
                         'calls', 'day', 'called_ms')
    if t[1] then
      entry.ticket = {code = t[1], service = t[2], priority = t[3], called_at = t[4],
                      calls = tonumber(t[5] or '1'), day = t[6], called_ms = tonumber(t[7])}
    end
  end
  counters[#counters + 1] = entry
end
for _, s in ipairs(items(ARGV[9])) do waiting_now[s] = waiting(DAY, s) end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local event_id = '0-0'
if #last > 0 then event_id = last[1][1] end
local recent = redis.call('LRANGE', recent_key(), 0, 19)
return '{"counters":' .. cjson.encode(counters) .. ',"waiting":' .. cjson.encode(waiting_now)
  .. ',"recent":[' .. table.concat(recent, ',') .. '],"event_id":"' .. event_id .. '"}'
