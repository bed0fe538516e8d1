-- Shared prelude of every antrian script, loaded after the key layout generated from
-- display_server/keys.py (P, TTL, the <name>_key builders).
-- KEYS: every key a script can name before it runs is declared (display_server/store.py
-- computes the list): KEYS[1] is the site's events stream, then each script's own, named as
-- locals at its top (an action script's KEYS[2] is its idempotency key). The builders of the
-- prelude are used only for the keys a script derives from data it reads (a ticket whose id
-- comes out of a queue or a counter hash, the aggregates of a ticket's own day), each marked
-- `derived:`; they share the {site} hash tag, so a script touches one cluster slot only
-- (docs/keys.md, "Keys a script derives from data").
-- ARGV, the same header for every script: 1 prefix, 2 stream maxlen, 3 now_ms, 4 now_iso,
-- 5 day (YYYY-MM-DD, the site's local day), 6 the expiry in seconds of the idempotency key
-- REQUEST ('' = the script has none), 7 idempotency scope (counter number, "kiosk", '' for a
-- script that changes nothing), 8.. the script's own arguments, and last (#ARGV) the
-- request's fingerprint: a hash of the action and the arguments the client chose, so one
-- request_id stands for one request only.
local MAXLEN = ARGV[2]
local NOW = tonumber(ARGV[3])
local AT = ARGV[4]
local DAY = ARGV[5]
local REQUEST_TTL = tonumber(ARGV[6])
local SCOPE = ARGV[7]
local FINGERPRINT = ARGV[#ARGV]
local EVENTS = KEYS[1]
-- Set by each script from its KEYS: the idempotency key of an action (the client's request_id,
-- or an id the server drew for this attempt), today's aggregates, and today's waiting queues
-- of the services it may touch (declare_queues).
local REQUEST = nil
local STATS = nil
local QUEUES = {}
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
  if not REQUEST then return false end
  local kept = redis.call('HMGET', REQUEST, 'fingerprint', 'answer')
  if not kept[2] then return false end
  if kept[1] ~= FINGERPRINT then return fail('request_id_reused') end
  return kept[2]
end

local function remember(answer)
  if REQUEST then
    redis.call('HSET', REQUEST, 'fingerprint', FINGERPRINT, 'answer', answer)
    redis.call('EXPIRE', REQUEST, REQUEST_TTL)
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

-- Name today's queues of `services` (a list): KEYS[first], KEYS[first + 1] are the first
-- service's normal and priority queues, and so on, as store.py lists them. Returns the index
-- of the next key.
local function declare_queues(first, services)
  for i, s in ipairs(services) do
    QUEUES[s] = {KEYS[first + 2 * i - 2], KEYS[first + 2 * i - 1]}
  end
  return first + 2 * #services
end

-- Today's queue a waiting ticket of `service` is in (priority tickets have their own) and that
-- queue's expiry; a queue the script did not declare is an error, never a key built here.
local function waiting_queue(service, priority)
  local q = QUEUES[service]
  if not q then error('the queues of service ' .. tostring(service) .. ' are not declared') end
  if priority ~= nil and priority ~= '' then return q[2], TTL.priority_queue end
  return q[1], TTL.queue
end

-- Put ticket `id` in today's queue of `service` at its arrival place.
local function enqueue(service, priority, arrival, id)
  local key, ttl = waiting_queue(service, priority)
  redis.call('ZADD', key, arrival, id)
  redis.call('EXPIRE', key, ttl)
  return key
end

-- How many wait in the two queues `normal` and `priority` (of one service and day).
local function waiting_in(normal, priority)
  return redis.call('ZCARD', normal) + redis.call('ZCARD', priority)
end

-- Today's normal and priority queues of `service`.
local function queues_of(service)
  local normal = waiting_queue(service, '')
  local priority = waiting_queue(service, 'p')
  return normal, priority
end

-- How many of `service` wait today.
local function waiting(service)
  return waiting_in(queues_of(service))
end

-- The ticket hash at `key` as a table, or nil.
local function load_ticket(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- How many are called before a waiting ticket: those who arrived earlier in its queue, and a
-- normal ticket also waits for every priority ticket of its service. Null unless waiting.
-- `normal` and `priority` are the two queues of the ticket's service and day.
local function ahead(t, normal, priority)
  if t.status ~= 'waiting' then return cjson.null end
  local own = normal
  if t.priority ~= nil and t.priority ~= '' then own = priority end
  local before = redis.call('ZCOUNT', own, '-inf', '(' .. t.arrival)
  if t.priority == '' then before = before + redis.call('ZCARD', priority) end
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
  return redis.call('XADD', EVENTS, 'MAXLEN', '~', MAXLEN, '*', 'd', cjson.encode(ev))
end

-- The aggregates of `day`: today's are declared (STATS); another day's is the day of a ticket
-- read from its hash (one still served after midnight counts on its own day).
local function stats_of(day)
  if day == DAY then return STATS end
  return stats_key(day)  -- derived: a ticket's own day, read from the ticket
end

local function count(day, field, by)
  redis.call('HINCRBY', stats_of(day), field, by or 1)
end

-- Close counter `n`'s (its hash: `ck`) current ticket `id` as served, with an outcome. Emits
-- a 'done' event and returns its id, unless `silent` (a call that follows reports it in its
-- own event); then it returns the ticket's code.
local function finish(ck, n, id, outcome, silent)
  local tk = ticket_key(id)  -- derived: the counter's current ticket, read from its hash
  local t = load_ticket(tk)
  redis.call('HSET', ck, 'status', 'idle', 'since', NOW)
  redis.call('HDEL', ck, 'ticket')
  if not t then return nil end
  redis.call('HSET', tk, 'status', 'served', 'outcome', outcome, 'finished_ms', NOW)
  if OFFICER ~= '' then redis.call('HSET', tk, 'officer', OFFICER) end
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
