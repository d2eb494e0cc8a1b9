package store

import "github.com/redis/go-redis/v9"

// script is a Lua script the store runs. A script that appends to a stream
// takes the stream id as its last argument and returns the id it used, or nil
// when it changed nothing: live callers pass "*" so that Redis picks the id,
// and the log of the embedded store records the id Redis picked, so that a
// replay recreates the same entry.
type script struct {
	*redis.Script
	src      string
	streamID bool // last ARGV is the stream id; the result is the id used
}

func newScript(src string, streamID bool) *script {
	return &script{Script: redis.NewScript(src), src: src, streamID: streamID}
}

// scripts holds every script the store runs, also by SHA-1 so that the log
// can record EVALSHA as EVAL with the script's text.
type scripts struct {
	putPoint   *script
	connect    *script
	disconnect *script
	floor      floorScripts // see floor.go
	bySHA      map[string]*script
}

func newScripts() *scripts {
	s := &scripts{
		// KEYS: conf, points, point-order. ARGV: point id, point JSON.
		// Returns 0 when the conference does not exist, else 1.
		putPoint: newScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[3], ARGV[1])
end
return 1
`, false),

		// KEYS: conf, connected, events. ARGV: participant id, connection
		// JSON, role, point id, time, stream id. Returns nil when the
		// conference does not exist, else the event's stream id.
		connect: newScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('XADD', KEYS[3], ARGV[6], 'kind', 'joined', 'participant_id', ARGV[1],
  'role', ARGV[3], 'point_id', ARGV[4], 'reason', '', 'at', ARGV[5])
`, true),

		// KEYS: connected, events. ARGV: participant id, reason, time,
		// instance ('' for any), since ('' for any), stream id. Returns nil
		// when no matching connection is recorded, else the event's stream id.
		disconnect: newScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
local c = cjson.decode(v)
if ARGV[4] ~= '' and c.instance ~= ARGV[4] then return false end
if ARGV[5] ~= '' and c.since ~= ARGV[5] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
local role = c.role
if type(role) ~= 'string' then role = '' end
local point = c.point_id
if type(point) ~= 'string' then point = '' end
return redis.call('XADD', KEYS[2], ARGV[6], 'kind', 'left', 'participant_id', ARGV[1],
  'role', role, 'point_id', point, 'reason', ARGV[2], 'at', ARGV[3])
`, true),
	}
	s.floor = newFloorScripts()
	s.bySHA = make(map[string]*script)
	for _, sc := range append([]*script{s.putPoint, s.connect, s.disconnect}, s.floor.all()...) {
		s.bySHA[sc.Hash()] = sc
	}
	return s
}
