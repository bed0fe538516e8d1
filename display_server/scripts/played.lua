-- A screen's acknowledgement that it played a call's announcement: checked, capped and written
-- in one step. KEYS[1] is the site's events stream; ARGV: 1 prefix, 2 day (YYYY-MM-DD, local),
-- 3 screen id, 4 event id, 5 '1' when the site config declares the screen, 6 the most screens
-- a day keeps, 7 now (ISO). The screen must be declared or registered by the office, the event
-- a call or recall still in the stream. Each day's acknowledgements expire after two days.
local P, DAY, SCREEN, EID = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function fail(code)
  return cjson.encode({error = {code = code, detail = ''}})
end

if ARGV[5] ~= '1' and redis.call('HEXISTS', P .. 'screens', SCREEN) == 0 then
  return fail('unknown_screen')
end
local rows = redis.pcall('XRANGE', KEYS[1], EID, EID)
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
local key = P .. 'played:' .. DAY
if redis.call('HEXISTS', key, SCREEN) == 0 and redis.call('HLEN', key) >= tonumber(ARGV[6]) then
  return fail('too_many_screens')
end
redis.call('HSET', key, SCREEN, cjson.encode({event_id = rows[1][1], at = ARGV[7]}))
redis.call('EXPIRE', key, 172800)
return '{}'
