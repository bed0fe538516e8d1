-- A screen's acknowledgement that it played a call's announcement: checked, capped and written
-- in one step. ARGV[8] screen id, ARGV[9] event id, ARGV[10] '1' when the site config declares
-- the screen, ARGV[11] the most screens a day keeps, ARGV[12] '1' when the screen handled the
-- call without speaking it (its counter had moved on): kept apart as dropped_id / dropped_at.
-- The screen must be declared or registered by the office, the event a call or recall still in
-- the stream.
-- KEYS: 1 events, 2 the office's register of screens, 3 today's acknowledgements.
local SCREENS, PLAYED = KEYS[2], KEYS[3]
local SCREEN, EID = ARGV[8], ARGV[9]
if ARGV[10] ~= '1' and redis.call('HEXISTS', SCREENS, SCREEN) == 0 then
  return fail('unknown_screen')
end
local rows = redis.pcall('XRANGE', EVENTS, EID, EID)
if type(rows) ~= 'table' or rows.err or #rows == 0 then return fail('unknown_event') end
local fields, event = rows[1][2], nil
for i = 1, #fields, 2 do
  if fields[i] == 'd' then
    local ok, decoded = pcall(cjson.decode, fields[i + 1])
    if ok and type(decoded) == 'table' then event = decoded end
  end
end
if not event or (event.type ~= 'call' and event.type ~= 'recall') then
  return fail('unknown_event')
end
local key = PLAYED
if redis.call('HEXISTS', key, SCREEN) == 0 and redis.call('HLEN', key) >= tonumber(ARGV[11]) then
  return fail('too_many_screens')
end
local entry = {}
local before = redis.call('HGET', key, SCREEN)
if before then
  local ok, decoded = pcall(cjson.decode, before)
  if ok and type(decoded) == 'table' then entry = decoded end
end
if ARGV[12] == '1' then
  entry.dropped_id, entry.dropped_at = rows[1][1], AT
else
  entry.event_id, entry.at = rows[1][1], AT
end
redis.call('HSET', key, SCREEN, cjson.encode(entry))
redis.call('EXPIRE', key, TTL.played)
return '{}'
