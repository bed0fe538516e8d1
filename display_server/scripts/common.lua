-- Shared prelude of every antrian script, loaded after the key layout generated from
-- display_server/keys.py (P, TTL, the <name>_key builders).
-- KEYS[1] is the site's events stream; every other key shares its {site} hash tag, so a script
-- touches one cluster slot only.
-- ARGV, the same header for every script: 1 prefix, 2 stream maxlen, 3 now_ms, 4 now_iso,
-- 5 day (YYYY-MM-DD, the site's local day), 6 request_id ('' = none), 7 idempotency scope
-- (counter number, "kiosk", '' for a script that changes nothing), 8.. the script's own
-- arguments, and last (#ARGV) the request's fingerprint: a hash of the action and the
-- arguments the client chose, so one request_id stands for one request only.
local MAXLEN = ARGV[2]
local NOW = tonumber(ARGV[3])
local AT = ARGV[4]
local DAY = ARGV[5]
local RID = ARGV[6]
local SCOPE = ARGV[7]
local FINGERPRINT = ARGV[#ARGV]
-- The officer of a console's PIN session ('' for a counter token): call.lua and
-- counter_action.lua set it from their arguments; emit() names them on every event, finish()
-- on the ticket (the archive's visits.officer, the survey's officer).
local OFFICER = ''

local function fail(code, detail)
  return cjson.encode({error = {code = code, detail = detail or ''}})
end

-- The stored answer of this request_id (false if none): the same answer for the same request,
-- the request_id_reused error when the id was used for another action or other arguments.
local function remembered()
  if RID == '' then return false end
  local kept = redis.call('HMGET', request_key(SCOPE, RID), 'fingerprint', 'answer')
  if not kept[2] then return false end
  if kept[1] ~= FINGERPRINT then return fail('request_id_reused') end
  return kept[2]
end

local function remember(answer)
  if RID ~= '' then
    redis.call('HSET', request_key(SCOPE, RID), 'fingerprint', FINGERPRINT, 'answer', answer)
    redis.call('EXPIRE', request_key(SCOPE, RID), TTL.request)
  end
  return answer
end

-- The items of a comma list, e.g. a counter's services.
local function items(list)
  local out = {}
  for item in string.gmatch(list, '[^,]+') do out[#out + 1] = item end
  return out
end

local function contains(list, wanted)
  for _, item in ipairs(items(list)) do if item == wanted then return true end end
  return false
end

local function ticket_id(day, code) return day .. ':' .. code end

-- The queue a waiting ticket is in (priority tickets have their own) and that queue's expiry.
local function waiting_queue(day, service, priority)
  if priority ~= nil and priority ~= '' then
    return priority_queue_key(day, service), TTL.priority_queue
  end
  return queue_key(day, service), TTL.queue
end

-- Put ticket `id` in the day's queue of `service` at its arrival place.
local function enqueue(day, service, priority, arrival, id)
  local key, ttl = waiting_queue(day, service, priority)
  redis.call('ZADD', key, arrival, id)
  redis.call('EXPIRE', key, ttl)
  return key
end

local function waiting(day, service)
  return redis.call('ZCARD', queue_key(day, service))
       + redis.call('ZCARD', priority_queue_key(day, service))
end

local function load_ticket(id)
  local flat = redis.call('HGETALL', ticket_key(id))
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- How many are called before a waiting ticket: those who arrived earlier in its queue, and a
-- normal ticket also waits for every priority ticket of its service. Null unless waiting.
local function ahead(t)
  if t.status ~= 'waiting' then return cjson.null end
  local before = redis.call('ZCOUNT', waiting_queue(t.day, t.service, t.priority), '-inf',
                            '(' .. t.arrival)
  if t.priority == '' then before = before + redis.call('ZCARD', priority_queue_key(t.day, t.service)) end
  return before
end

-- Whether a no-show skipped at `skipped_ms` can still be put back: the grace window rule.
local function restorable(skipped_ms, grace_ms)
  return NOW - tonumber(skipped_ms) <= grace_ms
end

-- The public view of a ticket (what the API and the events carry).
local function public(t)
  return {
    code = t.code, service = t.service, seq = tonumber(t.seq), day = t.day,
    status = t.status, priority = t.priority or '', issued_at = t.issued_at,
    counter = tonumber(t.counter or ''), origin = t.origin or t.service,
    calls = tonumber(t.calls or '0'),
  }
end

local function emit(ev)
  ev.at = AT
  if OFFICER ~= '' then ev.officer = OFFICER end
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', MAXLEN, '*', 'd', cjson.encode(ev))
end

local function count(day, field, by)
  redis.call('HINCRBY', stats_key(day), field, by or 1)
end

-- Close the counter's current ticket as served, with an outcome. Emits a 'done' event and
-- returns its id, unless `silent` (a call that follows reports it in its own event); then it
-- returns the ticket's code.
local function finish(n, id, outcome, silent)
  local t = load_ticket(id)
  local ck = counter_key(n)
  redis.call('HSET', ck, 'status', 'idle', 'since', NOW)
  redis.call('HDEL', ck, 'ticket')
  if not t then return nil end
  redis.call('HSET', ticket_key(id), 'status', 'served', 'outcome', outcome, 'finished_ms', NOW)
  if OFFICER ~= '' then redis.call('HSET', ticket_key(id), 'officer', OFFICER) end
  redis.call('HSET', ck, 'finished', id)  -- the ticket its survey tablet offers (survey.lua)
  local took = NOW - tonumber(t.called_ms or NOW)
  count(t.day, 'served:' .. t.service)
  count(t.day, outcome .. ':' .. t.service)
  count(t.day, 'service_ms:' .. t.service, took)
  count(t.day, 'served:c' .. n)
  count(t.day, outcome .. ':c' .. n)
  count(t.day, 'service_ms:c' .. n, took)
  if silent then return t.code end
  return emit({type = 'done', ticket = t.code, ticket_day = t.day, service = t.service,
               counter = tonumber(n), outcome = outcome})
end
