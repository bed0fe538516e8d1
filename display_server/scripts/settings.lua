-- The office's live settings (display_server/live_config.py): one change, atomically.
-- ARGV[8] the version the office saw ('' = whichever is current), ARGV[9] the new overrides
-- (JSON), ARGV[10] who (`token` or `admin`), ARGV[11] the history entry's rest (a JSON object:
-- change, before, after), ARGV[12] the event's public part (a JSON object: running_text),
-- ARGV[13] how many history entries are kept.
-- Returns {"version","event_id"}, or the error settings_conflict (another change came first).
-- KEYS: 1 events, 2 the idempotency key (a retry of the same call: the first answer), 3 the
-- live settings, 4 their history.
REQUEST = KEYS[2]
local prev = remembered()
if prev then return prev end
local key, HISTORY = KEYS[3], KEYS[4]
local current = tonumber(redis.call('HGET', key, 'version') or '0')
if ARGV[8] ~= '' and tonumber(ARGV[8]) ~= current then
  return fail('settings_conflict', tostring(current))
end
local version = current + 1
redis.call('HSET', key, 'version', version, 'overrides', ARGV[9], 'at', AT, 'by', ARGV[10])
local head = '{"version":' .. version .. ',"at":' .. cjson.encode(AT) .. ',"by":'
  .. cjson.encode(ARGV[10]) .. ','
redis.call('LPUSH', HISTORY, head .. string.sub(ARGV[11], 2))
redis.call('LTRIM', HISTORY, 0, tonumber(ARGV[13]) - 1)
-- the JSON is written here, not by cjson: an empty list must stay a list for the screens
local id = redis.call('XADD', EVENTS, 'MAXLEN', '~', MAXLEN, '*', 'd',
  '{"type":"settings","at":' .. cjson.encode(AT) .. ',"version":' .. version .. ','
  .. string.sub(ARGV[12], 2))
return remember(cjson.encode({version = version, event_id = id}))
