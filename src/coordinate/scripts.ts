/**
 * The Lua scripts Redis runs for coordination. Each one runs atomically on the server, so a claim
 * or a reservation is decided against every other instance's at once. Every script first checks
 * the job's shape key (what the job is: "interval 200ms from <origin>", a cron expression, a rate):
 * instances of one job that disagree on it would coordinate nothing, so a mismatch is answered with
 * {'moved', theirs} and the caller decides (adopt a new grid origin, or stop with an error).
 *
 * Times are epoch ms as the caller's wall clock reads them. Numbers leave Lua as strings ('%.17g'):
 * a Lua number returned as such would be truncated to an integer.
 */

/** Keeps the shape key of a live job and checks it; shared by every script. */
const SHAPE = `
local function shape(key, mine, ttl)
  local cur = redis.call('GET', key)
  if not cur then
    redis.call('SET', key, mine, 'PX', ttl)
  elseif cur ~= mine then
    return cur
  else
    redis.call('PEXPIRE', key, ttl)
  end
  return nil
end
local function num(x) return string.format('%.17g', x) end
local function extend(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, math.ceil(ms)) end
end
`;

/**
 * JOIN: KEYS shape; ARGV mine, ttl. The shape the job has (set to `mine` when it has none yet):
 * the first instance of an interval job sets the grid's origin, later ones read it.
 */
const JOIN = `
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return cur
`;

/**
 * CLAIM: KEYS shape, lease, ran, then the reached slot and the slots after it already due; ARGV
 * mine, shapeTtl, instance, claimTtl, leaseTtl, checkEarly, then the due time of each slot. The
 * first of those slots nobody holds is claimed (SET NX PX), in one round trip however late the
 * instance is. {'won', instance, holder of each slot before it...} | {'lost', holder of each slot...}
 * | {'moved', theirs} | {'busy', lease, holder of each slot...} | {'early', Redis's time}: with
 * checkEarly 1 a slot not yet due by Redis's clock (TIME) is not claimed, whatever the caller's
 * reading of that clock says.
 *
 * With leaseTtl > 0 (--on-overlap skip across instances) the instance that wins a slot also takes
 * the job's lease ("instance due", PX leaseTtl; renewed while the run goes on, given back by RELEASE,
 * which notes in `ran` when the run ended). While another instance holds it, every slot offered is
 * due during that run: each is marked skipped ("!" and the lease), so that no instance runs it after
 * the run either. A slot due before the last run ended that nobody holds is marked skipped too (a
 * late instance does not run a slot the job passed while that run went on). A holder starting with
 * "!" is such a mark.
 */
const CLAIM = `${SHAPE}
if ARGV[6] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  if tonumber(ARGV[7]) > now then return {'early', num(now)} end
end
local moved = shape(KEYS[1], ARGV[1], ARGV[2])
if moved then return {'moved', moved} end
local me, claimTtl, leaseTtl = ARGV[3], ARGV[4], tonumber(ARGV[5])
local ranUntil, ranBy = -math.huge, ''
if leaseTtl > 0 then
  local lease = redis.call('GET', KEYS[2])
  if lease and string.sub(lease, 1, #me + 1) ~= me .. ' ' then
    local holders = {}
    for i = 4, #KEYS do
      redis.call('SET', KEYS[i], '!' .. lease, 'NX', 'PX', claimTtl)
      holders[#holders + 1] = redis.call('GET', KEYS[i])
    end
    return {'busy', lease, unpack(holders)}
  end
  local ran = redis.call('GET', KEYS[3])
  if ran then
    local at, by = string.match(ran, '^(%S+) (.*)$')
    ranUntil, ranBy = tonumber(at), by
  end
end
local holders = {}
for i = 4, #KEYS do
  local due = ARGV[i + 3]
  if tonumber(due) < ranUntil then
    redis.call('SET', KEYS[i], '!' .. ranBy, 'NX', 'PX', claimTtl)
  elseif redis.call('SET', KEYS[i], me, 'NX', 'PX', claimTtl) then
    if leaseTtl > 0 then redis.call('SET', KEYS[2], me .. ' ' .. due, 'PX', leaseTtl) end
    return {'won', me, unpack(holders)}
  end
  holders[#holders + 1] = redis.call('GET', KEYS[i]) or '?'
end
return {'lost', unpack(holders)}
`;

/**
 * RENEW: KEYS lease; ARGV lease, leaseTtl. Keeps this instance's lease while its run goes on:
 * {'held'}; taken again when it had expired and nobody else took it: {'again'}; {'lost', holder}.
 */
const RENEW = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'held'}
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {'again'}
end
return {'lost', cur}
`;

/**
 * RELEASE: KEYS lease, ran; ARGV lease, end, ttl. The run ended at `end`: the lease is given back
 * (when still this instance's) and `ran` remembers the latest end, and whose run it was.
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
local ran = redis.call('GET', KEYS[2])
local at = ran and tonumber(string.match(ran, '^(%S+)')) or -math.huge
if tonumber(ARGV[2]) > at then redis.call('SET', KEYS[2], ARGV[2] .. ' ' .. ARGV[1], 'PX', ARGV[3]) end
return {'ok'}
`;

/**
 * WINDOW: a sliding-window log shared by all instances: at most `limit` starts in every window
 * [x, x + window). KEYS shape, starts (zset of actual starts), reserved (zset of planned ones).
 * ARGV op, mine, shapeTtl, t, id, limit, window, spread (0|1), now.
 *
 * reserve: the earliest time >= t that keeps the limit given the starts and every reservation, kept
 *   as this instance's reservation `id`: {'at', time}. Instances spread out instead of racing.
 * commit: the run is about to start now (t): allowed when it keeps the limit given the actual starts
 *   (reservations are plans, not starts): {'run', starts in the window ending now}; else the
 *   reservation moves to the earliest allowed time: {'wait', time}.
 * release: the reservation is not needed (the instance stops).
 *
 * Too many starts means limit + 1 of them within less than `window`; with t added, a group of
 * `limit` consecutive entries e[i..i+limit-1] narrower than the window is too close to t exactly
 * when t lies in (e[i+limit-1] - window, e[i] + window). --spread adds (e - window/limit, e +
 * window/limit) around every entry. The answer is the first t that no interval contains: one sweep
 * over the intervals sorted by start (the bundled rate-limit plugin's arithmetic).
 */
const WINDOW = `${SHAPE}
local moved = shape(KEYS[1], ARGV[2], ARGV[3])
if moved then return {'moved', moved} end
local op, t, id = ARGV[1], tonumber(ARGV[4]), ARGV[5]
local n, w, spread, now = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] == '1', tonumber(ARGV[9])
if op == 'release' then
  redis.call('ZREM', KEYS[3], id)
  return {'ok'}
end
-- Entries that cannot share a window with anything from now on (10 s more for clocks that differ).
local stale = '(' .. num(now - w - 10000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', stale)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', stale)
local function load(key, into)
  local r = redis.call('ZRANGEBYSCORE', key, '(' .. num(t - w), '+inf', 'WITHSCORES')
  for i = 2, #r, 2 do into[#into + 1] = tonumber(r[i]) end
  return into
end
local function earliest(from, e)
  table.sort(e)
  local iv = {}
  for i = 1, #e - n + 1 do
    local first, last = e[i], e[i + n - 1]
    if last - first < w and first + w > from then iv[#iv + 1] = {last - w, first + w} end
  end
  if spread then
    local gap = w / n
    for i = 1, #e do
      if e[i] + gap > from then iv[#iv + 1] = {e[i] - gap, e[i] + gap} end
    end
  end
  table.sort(iv, function(a, b) return a[1] < b[1] end)
  local at = from
  for i = 1, #iv do
    if iv[i][1] >= at then break end
    if iv[i][2] > at then at = iv[i][2] end
  end
  return at
end
local keep = 2 * w + 10000
if op == 'reserve' then
  redis.call('ZREM', KEYS[3], id)
  local at = earliest(t, load(KEYS[3], load(KEYS[2], {})))
  redis.call('ZADD', KEYS[3], num(at), id)
  extend(KEYS[3], at - now + keep)
  extend(KEYS[2], keep)
  return {'at', num(at)}
end
redis.call('ZREM', KEYS[3], id)
local at = earliest(t, load(KEYS[2], {}))
if at <= t then
  redis.call('ZADD', KEYS[2], num(t), id)
  extend(KEYS[2], keep)
  return {'run', tostring(redis.call('ZCOUNT', KEYS[2], '(' .. num(t - w), num(t)))}
end
redis.call('ZADD', KEYS[3], num(at), id)
extend(KEYS[3], at - now + keep)
return {'wait', num(at)}
`;

/**
 * BUCKET: a token bucket shared by all instances, as GCRA: `burst` tokens, one every `every` ms.
 * KEYS shape, state (hash: tat = theoretical arrival time of the actual starts, res = the same
 * counting reservations too). ARGV op, mine, shapeTtl, t, every, tau ((burst - 1) x every), now.
 *
 * reserve: the earliest time >= t a token is free counting reservations: {'at', time}.
 * commit: a start now (t) is allowed when t >= tat - tau: {'run'}; else {'wait', tat - tau}.
 * A bucket whose times have passed is full again, so the state may expire then.
 */
const BUCKET = `${SHAPE}
local moved = shape(KEYS[1], ARGV[2], ARGV[3])
if moved then return {'moved', moved} end
local op, t = ARGV[1], tonumber(ARGV[4])
local every, tau, now = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local tat = tonumber(redis.call('HGET', KEYS[2], 'tat') or '0')
local res = tonumber(redis.call('HGET', KEYS[2], 'res') or '0')
if res < tat then res = tat end
local function save()
  redis.call('HSET', KEYS[2], 'tat', num(tat), 'res', num(res))
  redis.call('PEXPIRE', KEYS[2], math.ceil(math.max(res - now, 0) + 10000))
end
if op == 'reserve' then
  local at = math.max(t, res - tau)
  res = math.max(res, at) + every
  save()
  return {'at', num(at)}
end
if t >= tat - tau then
  tat = math.max(tat, t) + every
  if res < tat then res = tat end
  save()
  return {'run'}
end
return {'wait', num(tat - tau)}
`;

export const SCRIPTS = { rprJoin: JOIN, rprClaim: CLAIM, rprRenew: RENEW, rprRelease: RELEASE, rprWindow: WINDOW, rprBucket: BUCKET } as const;

export type ScriptName = keyof typeof SCRIPTS;
