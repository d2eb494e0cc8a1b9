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
	attendance *script
	floor      floorScripts // see floor.go
	admin      adminScripts // see registry.go
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

		attendance: newScript(attendanceScript, false), // see attendance.go
	}
	s.floor = newFloorScripts()
	s.admin = newAdminScripts()
	s.bySHA = make(map[string]*script)
	all := append([]*script{s.putPoint, s.attendance}, s.floor.all()...)
	for _, sc := range append(all, s.admin.all()...) {
		s.bySHA[sc.Hash()] = sc
	}
	return s
}
