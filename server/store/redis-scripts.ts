/**
 * The Lua scripts behind the Redis store: each registry change is one script, which Redis runs
 * as one atomic step, so JOIN, UPDATE, SET_FILES, ALIAS and LEAVE through different servers
 * never interleave. Every script gets the key prefix as ARGV[1] and builds its keys from fixed
 * kinds and what the index server checked (docs/scaling.md, "Keys"):
 *   P..'p:'..address  hash of one peer: conn, srv, files (JSON), n, seq, alias, akey, caps
 *   P..'f:'..name     sorted set of the holders of exactly `name`, by when they got it: each
 *                     `address|server id|caps JSON`, so SEARCH is one plain ZRANGE
 *   P..'a:'..akey     the address whose peer has the alias of aliasKey `akey`
 *   P..'peers'        sorted set of every address, by join order (LIST)
 *   P..'members'      set of the addresses that have an alias (chat members)
 *   P..'entries'      (peer, name) entries, for the INDEX_FULL budget
 *   P..'seq'          the counter behind both orders; P..'names' the names somebody holds
 *   P..'srv:'..id     a server's liveness key (a TTL it refreshes); P..'servers' the set of ids;
 *                     P..'sp:'..id the addresses of its peers, for reaping when it is gone
 * A name or alias sits after a kind no other kind starts with, so whatever a client sends it
 * only ever names its own kind's key. QUERY and LIST skip peers whose server's liveness key is
 * gone, so a killed server's peers vanish when its TTL ends, before any reap; SEARCH (a plain
 * ZRANGE, redis-store.ts) skips those of the servers found gone at the last renewal, a second
 * later at most.
 * Addresses are `IP:port` as formatted from the checked request.
 */

const PRELUDE = `
local P = ARGV[1]
local alive_cache = {}
local function alive(srv)
  if srv == false or srv == nil then return false end
  local known = alive_cache[srv]
  if known == nil then
    known = redis.call('EXISTS', P .. 'srv:' .. srv) == 1
    alive_cache[srv] = known
  end
  return known
end
-- A name's holder as its sorted set keeps it: what SEARCH answers, in one read.
local function member(addr, srv, caps) return addr .. '|' .. srv .. '|' .. (caps or '') end
-- 'names' counts the names somebody holds (the metrics' file_names).
local function add_holder(name, seq, m)
  if redis.call('ZADD', P .. 'f:' .. name, seq, m) == 1 and redis.call('ZCARD', P .. 'f:' .. name) == 1 then
    redis.call('INCR', P .. 'names')
  end
end
local function remove_holder(name, m)
  if redis.call('ZREM', P .. 'f:' .. name, m) == 1 and redis.call('EXISTS', P .. 'f:' .. name) == 0 then
    redis.call('DECR', P .. 'names')
  end
end
local function drop(addr)
  local pk = P .. 'p:' .. addr
  local h = redis.call('HMGET', pk, 'files', 'akey', 'srv', 'caps')
  if not h[1] then return false end
  local files = cjson.decode(h[1])
  local m = member(addr, h[3], h[4])
  for i = 1, #files do remove_holder(files[i], m) end
  redis.call('DECRBY', P .. 'entries', #files)
  if h[2] and redis.call('GET', P .. 'a:' .. h[2]) == addr then redis.call('DEL', P .. 'a:' .. h[2]) end
  redis.call('ZREM', P .. 'peers', addr)
  redis.call('SREM', P .. 'members', addr)
  if h[3] then redis.call('SREM', P .. 'sp:' .. h[3], addr) end
  redis.call('DEL', pk)
  return true
end
-- Who holds what \`conn\` of server \`srv\` asks for at \`addr\`: nil (free or this connection's),
-- a refusal, or the holder dropped because its server is gone.
local function held(addr, conn, srv, local_code, remote_code)
  local h = redis.call('HMGET', P .. 'p:' .. addr, 'conn', 'srv')
  if not h[1] or h[1] == conn then return nil end
  if h[2] == srv then return {local_code, h[1]} end
  if alive(h[2]) then return {remote_code} end
  drop(addr)
  return nil
end
local function add_files(m, files, seq)
  for i = 1, #files do add_holder(files[i], seq, m) end
end
local function entries() return tonumber(redis.call('GET', P .. 'entries') or '0') end
`;

/** ARGV: P srv conn addr prev akey alias caps files n maxPeers maxEntries. */
const JOIN = `
local srv, conn, addr, prev, akey, alias, caps = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local files, n, max_peers, max_entries = cjson.decode(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local refusal = held(addr, conn, srv, 'HELD_ADDRESS', 'ADDRESS_IN_USE')
if refusal then return refusal end
if akey ~= '' then
  local owner = redis.call('GET', P .. 'a:' .. akey)
  if owner and owner ~= addr then
    refusal = held(owner, conn, srv, 'HELD_ALIAS', 'ALIAS_TAKEN')
    if refusal then return refusal end
  end
end
local previous = prev ~= '' and redis.call('HGET', P .. 'p:' .. prev, 'conn') == conn
if not previous and redis.call('ZCARD', P .. 'peers') >= max_peers then return {'SERVER_FULL'} end
local before = 0
if previous then before = tonumber(redis.call('HGET', P .. 'p:' .. prev, 'n')) end
if entries() - before + n > max_entries then return {'INDEX_FULL'} end
if previous then drop(prev) end
local seq = redis.call('INCR', P .. 'seq')
local pk = P .. 'p:' .. addr
redis.call('HSET', pk, 'conn', conn, 'srv', srv, 'files', ARGV[9], 'n', n, 'seq', seq)
if caps ~= '' then redis.call('HSET', pk, 'caps', caps) end
if akey ~= '' then
  redis.call('HSET', pk, 'alias', alias, 'akey', akey)
  redis.call('SET', P .. 'a:' .. akey, addr)
  redis.call('SADD', P .. 'members', addr)
end
redis.call('ZADD', P .. 'peers', seq, addr)
redis.call('SADD', P .. 'sp:' .. srv, addr)
redis.call('INCRBY', P .. 'entries', n)
add_files(member(addr, srv, caps), files, seq)
return {'OK'}
`;

/** ARGV: P conn addr file files n maxEntries. */
const UPDATE = `
local conn, addr, file = ARGV[2], ARGV[3], ARGV[4]
local pk = P .. 'p:' .. addr
local h = redis.call('HMGET', pk, 'conn', 'srv', 'caps')
if h[1] ~= conn then return {'NOT_JOINED'} end
local m = member(addr, h[2], h[3])
if redis.call('ZSCORE', P .. 'f:' .. file, m) then return {'OK'} end
if entries() + 1 > tonumber(ARGV[7]) then return {'INDEX_FULL'} end
add_holder(file, redis.call('INCR', P .. 'seq'), m)
redis.call('HSET', pk, 'files', ARGV[5], 'n', ARGV[6])
redis.call('INCRBY', P .. 'entries', 1)
return {'OK'}
`;

/** ARGV: P conn addr files n maxEntries. */
const SET_FILES = `
local conn, addr, n = ARGV[2], ARGV[3], tonumber(ARGV[5])
local pk = P .. 'p:' .. addr
local h = redis.call('HMGET', pk, 'conn', 'files', 'n', 'srv', 'caps')
if h[1] ~= conn then return {'NOT_JOINED'} end
local before = tonumber(h[3])
if entries() - before + n > tonumber(ARGV[6]) then return {'INDEX_FULL'} end
local old = cjson.decode(h[2])
local m = member(addr, h[4], h[5])
for i = 1, #old do remove_holder(old[i], m) end
add_files(m, cjson.decode(ARGV[4]), redis.call('INCR', P .. 'seq'))
redis.call('HSET', pk, 'files', ARGV[4], 'n', n)
redis.call('INCRBY', P .. 'entries', n - before)
return {'OK'}
`;

/** ARGV: P srv conn addr akey alias. */
const ALIAS = `
local srv, conn, addr, akey, alias = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local pk = P .. 'p:' .. addr
if redis.call('HGET', pk, 'conn') ~= conn then return {'NOT_JOINED'} end
local owner = redis.call('GET', P .. 'a:' .. akey)
if owner and owner ~= addr then
  local refusal = held(owner, conn, srv, 'HELD_ALIAS', 'ALIAS_TAKEN')
  if refusal then return refusal end
end
local old = redis.call('HGET', pk, 'akey')
if old and old ~= akey and redis.call('GET', P .. 'a:' .. old) == addr then redis.call('DEL', P .. 'a:' .. old) end
redis.call('SET', P .. 'a:' .. akey, addr)
redis.call('HSET', pk, 'alias', alias, 'akey', akey)
redis.call('SADD', P .. 'members', addr)
return {'OK'}
`;

/** ARGV: P conn addr. */
const LEAVE = `
if redis.call('HGET', P .. 'p:' .. ARGV[3], 'conn') ~= ARGV[2] then return 0 end
drop(ARGV[3])
return 1
`;

/** ARGV: P name. QUERY's holders, flat: address, caps JSON or '', alias or ''. */
const HOLDERS = `
local out = {}
for _, m in ipairs(redis.call('ZRANGE', P .. 'f:' .. ARGV[2], 0, -1)) do
  local addr = string.match(m, '^[^|]+')
  local h = redis.call('HMGET', P .. 'p:' .. addr, 'srv', 'caps', 'alias')
  if alive(h[1]) then
    out[#out + 1] = addr
    out[#out + 1] = h[2] or ''
    out[#out + 1] = h[3] or ''
  end
end
return out
`;

/** ARGV: P addresses... Flat: address, caps JSON, for the live ones that announced some. */
const CAPS = `
local out = {}
for i = 2, #ARGV do
  local h = redis.call('HMGET', P .. 'p:' .. ARGV[i], 'srv', 'caps')
  if h[2] and alive(h[1]) then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = h[2]
  end
end
return out
`;

/** ARGV: P withFiles. Flat, live peers in join order: address, conn, n, alias, caps, files or ''. */
const PEERS = `
local out = {}
for _, addr in ipairs(redis.call('ZRANGE', P .. 'peers', 0, -1)) do
  local h = redis.call('HMGET', P .. 'p:' .. addr, 'srv', 'conn', 'n', 'alias', 'caps', 'files')
  if alive(h[1]) then
    out[#out + 1] = addr
    out[#out + 1] = h[2]
    out[#out + 1] = h[3]
    out[#out + 1] = h[4] or ''
    out[#out + 1] = h[5] or ''
    out[#out + 1] = ARGV[2] == '1' and h[6] or ''
  end
end
return out
`;

/** ARGV: P. Peers, entries, members and names of the index. */
const COUNTS = `
return {redis.call('ZCARD', P .. 'peers'), entries(), redis.call('SCARD', P .. 'members'),
  tonumber(redis.call('GET', P .. 'names') or '0')}
`;

/** ARGV: P id ttlMs. A server says it is alive; 0 when its key had expired or was reaped. */
const REFRESH = `
local was = redis.call('SET', P .. 'srv:' .. ARGV[2], '1', 'PX', ARGV[3], 'XX')
return was and 1 or 0
`;

/** ARGV: P id ttlMs. A server (re)starts: its liveness key and its place in the set of servers. */
const REGISTER = `
redis.call('SET', P .. 'srv:' .. ARGV[2], '1', 'PX', ARGV[3])
redis.call('SADD', P .. 'servers', ARGV[2])
return 1
`;

/** ARGV: P. The servers whose liveness key is gone. */
const DEAD = `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'servers')) do
  if not alive(id) then out[#out + 1] = id end
end
return out
`;

/**
 * ARGV: P id batch force. Drops up to `batch` peers of server `id` (unless it is alive and not
 * `force`): a batch bounds how long one script holds Redis. Flat: 'MORE' or 'DONE', then
 * address, alias of each peer dropped.
 */
const REAP = `
local id = ARGV[2]
if ARGV[4] ~= '1' and alive(id) then return {'ALIVE'} end
local out = {'MORE'}
for _, addr in ipairs(redis.call('SPOP', P .. 'sp:' .. id, tonumber(ARGV[3]))) do
  local h = redis.call('HMGET', P .. 'p:' .. addr, 'srv', 'alias')
  if h[1] == id then
    drop(addr)
    out[#out + 1] = addr
    out[#out + 1] = h[2] or ''
  end
end
if redis.call('SCARD', P .. 'sp:' .. id) == 0 then
  out[1] = 'DONE'
  if ARGV[4] ~= '1' then redis.call('SREM', P .. 'servers', id) end
end
return out
`;

export const SCRIPTS = {
  nsJoin: JOIN,
  nsUpdate: UPDATE,
  nsSetFiles: SET_FILES,
  nsAlias: ALIAS,
  nsLeave: LEAVE,
  nsHolders: HOLDERS,
  nsCaps: CAPS,
  nsPeers: PEERS,
  nsCounts: COUNTS,
  nsRefresh: REFRESH,
  nsRegister: REGISTER,
  nsDead: DEAD,
  nsReap: REAP,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** Each script's full source: the shared functions, then its body. */
export function scriptSource(name: ScriptName): string {
  return PRELUDE + SCRIPTS[name];
}
