-- Read-only list of today's no-shows of the services ARGV[8] (comma list) that can still be put
-- back within the grace window of ARGV[9] ms, most recently skipped first, at most ARGV[10].
-- KEYS: 1 events, 2 today's no-shows.
local SKIPPED = KEYS[2]
local out = {}
local limit = tonumber(ARGV[10])
for _, id in ipairs(redis.call('ZREVRANGE', SKIPPED, 0, -1)) do
  local t = load_ticket(ticket_key(id))  -- derived: listed in the no-shows
  if t and t.skipped_ms then
    if not restorable(t.skipped_ms, tonumber(ARGV[9])) then break end
    if t.status == 'no_show' and contains(ARGV[8], t.service) then
      out[#out + 1] = {code = t.code, service = t.service, priority = t.priority,
                       issued_at = t.issued_at, skipped_ms = t.skipped_ms, counter = t.counter}
      if #out >= limit then break end
    end
  end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
