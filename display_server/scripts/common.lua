-- Shared prelude of every antrian action script (prepended when the script is loaded).
-- KEYS[1] is the site's events stream; every other key shares its {site} hash tag and is
-- built from the prefix ARGV[1], so a script touches one cluster slot only.
-- ARGV: 1 prefix, 2 stream maxlen, 3 now_ms, 4 now_iso, 5 day (YYYY-MM-DD, the site's local
-- day), 6 request_id ('' = none), 7 idempotency scope (counter number or "kiosk"), 8.. the
-- action's own arguments, and last (#ARGV) the request's fingerprint: a hash of the action and
-- the arguments the client chose, so one request_id stands for one request only.
local P = ARGV[1]
local MAXLEN = ARGV[2]
local NOW = tonumber(ARGV[3])
local AT = ARGV[4]
local DAY = ARGV[5]
local RID = ARGV[6]
local SCOPE = ARGV[7]
local FINGERPRINT = ARGV[#ARGV]
local TICKET_TTL = 3456000
local DAY_TTL = 259200
local IDEM_TTL = 86400

local function fail(code, detail)
  return cjson.encode({error = {code = code, detail = detail or ''}})
end

-- A request's answer is kept under its scope and request_id with the request's fingerprint.
local function request_key()
  return P .. 'req:' .. SCOPE .. ':' .. RID
end

-- The stored answer of this request_id (false if none): the same answer for the same request,
-- the request_id_reused error when the id was used for another action or other arguments.
local function remembered()
  if RID == '' then return false end
  local kept = redis.call('HMGET', request_key(), 'fingerprint', 'answer')
  if not kept[2] then return false end
  if kept[1] ~= FINGERPRINT then return fail('request_id_reused') end
  return kept[2]
end

local function remember(answer)
  if RID ~= '' then
    redis.call('HSET', request_key(), 'fingerprint', FINGERPRINT, 'answer', answer)
    redis.call('EXPIRE', request_key(), IDEM_TTL)
  end
  return answer
end

local function ticket_key(id) return P .. 't:' .. id end
local function queue_key(day, service, priority)
  if priority ~= nil and priority ~= '' then return P .. 'pq:' .. day .. ':' .. service end
  return P .. 'q:' .. day .. ':' .. service
end
local function counter_key(n) return P .. 'c:' .. n end
local function stats_key(day) return P .. 'stats:' .. day end

local function waiting(service)
  return redis.call('ZCARD', queue_key(DAY, service, nil))
       + redis.call('ZCARD', queue_key(DAY, service, 'p'))
end

local function load_ticket(id)
  local flat = redis.call('HGETALL', ticket_key(id))
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
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
