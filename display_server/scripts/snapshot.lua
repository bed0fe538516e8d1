-- Read-only snapshot of a site: ARGV[8] counters, ARGV[9] services (comma lists).
-- KEYS: 1 events, 2 recent calls, then each counter of ARGV[8], then today's queues of each
-- service of ARGV[9].
-- Returns JSON; its event_id is the last event the state includes.
local RECENT = KEYS[2]
local numbers = items(ARGV[8])
declare_queues(3 + #numbers, items(ARGV[9]))
local counters, waiting_now = {}, {}
for i, n in ipairs(numbers) do
  local c = redis.call('HMGET', KEYS[2 + i], 'status', 'ticket', 'since', 'reason')
  local entry = {number = tonumber(n), status = c[1] or 'idle', since = tonumber(c[3] or ''),
                 reason = c[4] or cjson.null, ticket = cjson.null}
  if c[2] then
    -- derived: the counter's current ticket, read from its hash
    local t = redis.call('HMGET', ticket_key(c[2]), 'code', 'service', 'priority', 'called_at',
                         'calls', 'day', 'called_ms')
    if t[1] then
      entry.ticket = {code = t[1], service = t[2], priority = t[3], called_at = t[4],
                      calls = tonumber(t[5] or '1'), day = t[6], called_ms = tonumber(t[7])}
    end
  end
  counters[#counters + 1] = entry
end
for _, s in ipairs(items(ARGV[9])) do waiting_now[s] = waiting(s) end
local last = redis.call('XREVRANGE', EVENTS, '+', '-', 'COUNT', 1)
local event_id = '0-0'
if #last > 0 then event_id = last[1][1] end
local recent = redis.call('LRANGE', RECENT, 0, 19)
return '{"counters":' .. cjson.encode(counters) .. ',"waiting":' .. cjson.encode(waiting_now)
  .. ',"recent":[' .. table.concat(recent, ',') .. '],"event_id":"' .. event_id .. '"}'
