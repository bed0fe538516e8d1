-- The office's register of screens and announcers (beyond those in the site config) whose
-- played acknowledgements are accepted: id -> {"name","at"}.
-- ARGV[8] 'add' | 'remove', ARGV[9] screen id, ARGV[10] name, ARGV[11] the most screens
-- registered. add returns '1' when the screen is new, '0' when it was renamed, the error
-- too_many_screens past the cap; remove returns '1', or '0' when it was not registered, and
-- forgets the day's acknowledgement of the screen.
-- KEYS: 1 events, 2 the idempotency key (a retry of the same call: the first answer), 3 the
-- register, 4 today's acknowledgements.
REQUEST = KEYS[2]
local prev = remembered()
if prev then return prev end
local OP, SCREEN = ARGV[8], ARGV[9]
local key = KEYS[3]
local known = redis.call('HEXISTS', key, SCREEN) == 1
if OP == 'add' then
  if not known and redis.call('HLEN', key) >= tonumber(ARGV[11]) then
    return fail('too_many_screens', ARGV[11])
  end
  redis.call('HSET', key, SCREEN, cjson.encode({name = ARGV[10], at = AT}))
  if known then return remember('0') end
  return remember('1')
end
if not known then return '0' end  -- nothing changed: nothing to remember
redis.call('HDEL', key, SCREEN)
redis.call('HDEL', KEYS[4], SCREEN)
return remember('1')
