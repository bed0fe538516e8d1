-- The office's register of screens and announcers (beyond those in the site config) whose
-- played acknowledgements are accepted: hash <prefix>screens, id -> {"name","at"}.
-- ARGV: 1 prefix, 2 'add' | 'remove', 3 screen id, 4 name, 5 the most screens registered,
-- 6 now (ISO), 7 day (YYYY-MM-DD, local).
-- add returns '1' when the screen is new, '0' when it was renamed, the error too_many_screens
-- past the cap; remove returns '1', or '0' when it was not registered, and forgets the day's
-- acknowledgement of the screen.
local P, OP, SCREEN = ARGV[1], ARGV[2], ARGV[3]
local key = P .. 'screens'
local known = redis.call('HEXISTS', key, SCREEN) == 1
if OP == 'add' then
  if not known and redis.call('HLEN', key) >= tonumber(ARGV[5]) then
    return cjson.encode({error = {code = 'too_many_screens', detail = ARGV[5]}})
  end
  redis.call('HSET', key, SCREEN, cjson.encode({name = ARGV[4], at = ARGV[6]}))
  if known then return '0' end
  return '1'
end
if not known then return '0' end
redis.call('HDEL', key, SCREEN)
redis.call('HDEL', P .. 'played:' .. ARGV[7], SCREEN)
return '1'
