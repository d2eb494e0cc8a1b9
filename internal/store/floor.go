package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// The floor of conference "demo" (prefix "hn") lives in these keys:
//
//	hn:{demo}:floor:queue     list    point ids in the order the server received their requests
//	hn:{demo}:floor:requests  hash    point id -> request JSON {point_id, subject, asked_at}
//	hn:{demo}:floor:holders   hash    point id -> holder JSON {turn_id, point_id, subject,
//	                                  given_by, since, since_ms, limit_ms}
//	hn:{demo}:floor:meta      hash    "discussion": "1" while a discussion is open,
//	                                  "version": number of floor events
//	hn:{demo}:floor:events    stream  the floor log; fields kind, turn_id, point_id,
//	                                  subject, by, limit_ms, reason, at
//
// Every change is one Lua script that checks, changes and appends its events
// atomically, so the log always matches the state (conference.ReplayFloor of
// the log equals Floor). A script picks the ids of its events itself, from
// the time it is given and the last id in the stream (the time's
// milliseconds, or the last id plus one when that is not later), so that it
// never reads the clock, may append several events, and replays to the same
// ids from the embedded store's log. A floor_given event's id is the turn's
// id. Times are kept to the millisecond.

// Errors of floor changes, wrapped with context. A change of a conference
// that does not exist wraps ErrNotFound.
var (
	ErrAlreadyQueued  = errors.New("already asked for the floor")
	ErrAlreadyHolding = errors.New("already holds the floor")
	ErrNotQueued      = errors.New("has not asked for the floor")
	ErrNotHolding     = errors.New("does not hold the floor")
	ErrQueueEmpty     = errors.New("nobody is waiting for the floor")
	ErrNoSuchTurn     = errors.New("no such turn on the floor")
	ErrNotInvited     = errors.New("point is not invited to the conference")
)

// floorErrors maps the codes floor scripts reply with to errors.
var floorErrors = map[string]error{
	"FLOOR_NOCONF":     ErrNotFound,
	"FLOOR_QUEUED":     ErrAlreadyQueued,
	"FLOOR_HOLDING":    ErrAlreadyHolding,
	"FLOOR_NOTQUEUED":  ErrNotQueued,
	"FLOOR_NOTHOLDING": ErrNotHolding,
	"FLOOR_EMPTY":      ErrQueueEmpty,
	"FLOOR_NOTURN":     ErrNoSuchTurn,
	"FLOOR_NOTINVITED": ErrNotInvited,
}

// floorPrelude starts every floor script.
//
// KEYS: conf, points, floor:queue, floor:requests, floor:holders,
// floor:meta, floor:events. ARGV: time (RFC 3339), time (Unix ms), by, then
// the script's own arguments. Every script first checks that the conference
// exists, and makes every other check before its first write, so that a
// refusal (an error reply) changes nothing.
const floorPrelude = `
local K_CONF, K_POINTS, K_QUEUE, K_REQS, K_HOLD, K_META, K_EV =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local AT, AT_MS, BY = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', K_CONF) == 0 then
  return redis.error_reply('FLOOR_NOCONF conference does not exist')
end

local last_ms, last_seq
local function next_id()
  if last_ms == nil then
    last_ms, last_seq = '', 0
    local l = redis.call('XREVRANGE', K_EV, '+', '-', 'COUNT', 1)
    if #l > 0 then
      local ms, seq = string.match(l[1][1], '^(%d+)-(%d+)$')
      last_ms, last_seq = ms, tonumber(seq)
    end
  end
  if last_ms == '' or tonumber(AT_MS) > tonumber(last_ms) then
    last_ms, last_seq = AT_MS, 0
  else
    last_seq = last_seq + 1
  end
  return last_ms .. '-' .. last_seq
end

local function emit(kind, turn, point, subject, limit_ms, reason)
  local id = next_id()
  if kind == 'floor_given' then turn = id end
  redis.call('XADD', K_EV, id, 'kind', kind, 'turn_id', turn, 'point_id', point,
    'subject', subject, 'by', BY, 'limit_ms', limit_ms, 'reason', reason, 'at', AT)
  redis.call('HINCRBY', K_META, 'version', 1)
  return id
end

local function id_less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am < bm end
  return as < bs
end

-- holders returns the decoded holders in the order they were given the
-- floor, so that a replay ends them in the same order.
local function holders()
  local out = {}
  for _, v in ipairs(redis.call('HVALS', K_HOLD)) do
    out[#out + 1] = cjson.decode(v)
  end
  table.sort(out, function(a, b) return id_less(a.turn_id, b.turn_id) end)
  return out
end

local function find_turn(turn)
  for _, h in ipairs(holders()) do
    if h.turn_id == turn then return h end
  end
  return nil
end

local function end_turn(h, reason)
  redis.call('HDEL', K_HOLD, h.point_id)
  emit('floor_ended', h.turn_id, h.point_id, '', '0', reason)
end

local function end_all(reason)
  for _, h in ipairs(holders()) do end_turn(h, reason) end
end

local function unqueue(point)
  redis.call('HDEL', K_REQS, point)
  redis.call('LREM', K_QUEUE, 0, point)
end

local function state(extra)
  local q = {}
  for i, p in ipairs(redis.call('LRANGE', K_QUEUE, 0, -1)) do
    q[i] = redis.call('HGET', K_REQS, p) or ''
  end
  local meta = redis.call('HMGET', K_META, 'version', 'discussion')
  return {tonumber(meta[1] or '0'), meta[2] or '0', q, redis.call('HVALS', K_HOLD), extra or ''}
end
`

// The floor scripts' own parts; ARGV[4] and on are theirs.
const (
	// ARGV: point, request JSON, subject.
	floorAskSrc = `
local p = ARGV[4]
if redis.call('HEXISTS', K_POINTS, p) == 0 then
  return redis.error_reply('FLOOR_NOTINVITED point ' .. p .. ' is not invited')
end
if redis.call('HEXISTS', K_HOLD, p) == 1 then
  return redis.error_reply('FLOOR_HOLDING point ' .. p .. ' holds the floor')
end
if redis.call('HEXISTS', K_REQS, p) == 1 then
  return redis.error_reply('FLOOR_QUEUED point ' .. p .. ' has already asked')
end
redis.call('HSET', K_REQS, p, ARGV[5])
redis.call('RPUSH', K_QUEUE, p)
emit('floor_asked', '', p, ARGV[6], '0', '')
return state()
`
	// ARGV: point, reason.
	floorWithdrawSrc = `
local p = ARGV[4]
if redis.call('HEXISTS', K_REQS, p) == 0 then
  return redis.error_reply('FLOOR_NOTQUEUED point ' .. p .. ' has not asked')
end
unqueue(p)
emit('floor_withdrawn', '', p, '', '0', ARGV[5])
return state()
`
	// ARGV: point ('' for the head of the queue), limit in ms. Returns the
	// new holder's JSON as the extra.
	floorGiveSrc = `
local p = ARGV[4]
if p == '' then
  p = redis.call('LINDEX', K_QUEUE, 0)
  if not p then return redis.error_reply('FLOOR_EMPTY the queue is empty') end
elseif redis.call('HEXISTS', K_POINTS, p) == 0 then
  return redis.error_reply('FLOOR_NOTINVITED point ' .. p .. ' is not invited')
end
if redis.call('HEXISTS', K_HOLD, p) == 1 then
  return redis.error_reply('FLOOR_HOLDING point ' .. p .. ' holds the floor')
end
local subject = ''
local req = redis.call('HGET', K_REQS, p)
if req then
  local r = cjson.decode(req)
  if type(r.subject) == 'string' then subject = r.subject end
  unqueue(p)
end
if redis.call('HGET', K_META, 'discussion') ~= '1' then end_all('taken_back') end
local turn = emit('floor_given', '', p, subject, ARGV[5], '')
local h = cjson.encode({turn_id = turn, point_id = p, subject = subject, given_by = BY,
  since = AT, since_ms = tonumber(AT_MS), limit_ms = tonumber(ARGV[5])})
redis.call('HSET', K_HOLD, p, h)
return state(h)
`
	// ARGV: turn, extension in ms. The new deadline is the later of the old
	// deadline and now, plus the extension. Returns the holder's JSON.
	floorExtendSrc = `
local h = find_turn(ARGV[4])
if not h then return redis.error_reply('FLOOR_NOTURN turn ' .. ARGV[4] .. ' is not on the floor') end
local now, by = tonumber(AT_MS), tonumber(ARGV[5])
local deadline = now
if h.limit_ms > 0 and h.since_ms + h.limit_ms > now then deadline = h.since_ms + h.limit_ms end
h.limit_ms = deadline + by - h.since_ms
if h.limit_ms < by then h.limit_ms = by end
local enc = cjson.encode(h)
redis.call('HSET', K_HOLD, h.point_id, enc)
emit('floor_extended', h.turn_id, h.point_id, '', tostring(h.limit_ms), '')
return state(enc)
`
	// ARGV: point ('' for every holder).
	floorTakeBackSrc = `
local p = ARGV[4]
if p == '' then
  end_all('taken_back')
else
  local v = redis.call('HGET', K_HOLD, p)
  if not v then return redis.error_reply('FLOOR_NOTHOLDING point ' .. p .. ' does not hold the floor') end
  end_turn(cjson.decode(v), 'taken_back')
end
return state()
`
	// ARGV: turn, reason.
	floorEndSrc = `
local h = find_turn(ARGV[4])
if not h then return redis.error_reply('FLOOR_NOTURN turn ' .. ARGV[4] .. ' is not on the floor') end
end_turn(h, ARGV[5])
return state()
`
	// ARGV: '1' to open, '0' to close. Closing takes the floor back from
	// every holder. Setting the current value changes nothing.
	floorDiscussionSrc = `
local open = ARGV[4] == '1'
if (redis.call('HGET', K_META, 'discussion') == '1') ~= open then
  if not open then end_all('taken_back') end
  redis.call('HSET', K_META, 'discussion', ARGV[4])
  if open then
    emit('discussion_opened', '', '', '', '0', '')
  else
    emit('discussion_closed', '', '', '', '0', '')
  end
end
return state()
`
)

// floorScripts are the floor's scripts in newScripts.
type floorScripts struct {
	ask, withdraw, give, extend, takeBack, end, discussion *script
}

func newFloorScripts() floorScripts {
	sc := func(body string) *script { return newScript(floorPrelude+body, false) }
	return floorScripts{
		ask:        sc(floorAskSrc),
		withdraw:   sc(floorWithdrawSrc),
		give:       sc(floorGiveSrc),
		extend:     sc(floorExtendSrc),
		takeBack:   sc(floorTakeBackSrc),
		end:        sc(floorEndSrc),
		discussion: sc(floorDiscussionSrc),
	}
}

func (f floorScripts) all() []*script {
	return []*script{f.ask, f.withdraw, f.give, f.extend, f.takeBack, f.end, f.discussion}
}

func (s *Store) floorKeys(confID string) []string {
	return []string{
		s.key(confID, "conf"), s.key(confID, "points"),
		s.key(confID, "floor:queue"), s.key(confID, "floor:requests"), s.key(confID, "floor:holders"),
		s.key(confID, "floor:meta"), s.key(confID, "floor:events"),
	}
}

// floorRequest is a request as stored.
type floorRequest struct {
	PointID string    `json:"point_id"`
	Subject string    `json:"subject"`
	AskedAt time.Time `json:"asked_at"`
}

// floorHolder is a holder as stored. The scripts write it; numbers may come
// back from Lua as floats.
type floorHolder struct {
	TurnID  string  `json:"turn_id"`
	PointID string  `json:"point_id"`
	Subject string  `json:"subject"`
	GivenBy string  `json:"given_by"`
	Since   string  `json:"since"`
	SinceMS float64 `json:"since_ms"`
	LimitMS float64 `json:"limit_ms"`
}

func decodeHolder(data string) (conference.FloorHolder, error) {
	var r floorHolder
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return conference.FloorHolder{}, fmt.Errorf("decode holder: %w", err)
	}
	since, err := time.Parse(time.RFC3339Nano, r.Since)
	if err != nil {
		return conference.FloorHolder{}, fmt.Errorf("decode holder %s: since: %w", r.TurnID, err)
	}
	return conference.FloorHolder{
		TurnID:  r.TurnID,
		PointID: r.PointID,
		Subject: r.Subject,
		GivenBy: r.GivenBy,
		Since:   since,
		Limit:   time.Duration(r.LimitMS) * time.Millisecond,
	}, nil
}

// decodeFloor builds the state from the stored values: requests in queue
// order, holders in any order.
func decodeFloor(version int64, discussion string, requests, holders []string) (conference.FloorState, error) {
	st := conference.FloorState{Version: version, Discussion: discussion == "1"}
	for _, data := range requests {
		var r floorRequest
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return st, fmt.Errorf("decode request: %w", err)
		}
		st.Queue = append(st.Queue, conference.FloorRequest{PointID: r.PointID, Subject: r.Subject, AskedAt: r.AskedAt})
	}
	for _, data := range holders {
		h, err := decodeHolder(data)
		if err != nil {
			return st, err
		}
		st.Holders = append(st.Holders, h)
	}
	slices.SortFunc(st.Holders, func(a, b conference.FloorHolder) int { return compareStreamIDs(a.TurnID, b.TurnID) })
	return st, nil
}

// compareStreamIDs orders stream ids "ms-seq" numerically.
func compareStreamIDs(a, b string) int {
	split := func(id string) (uint64, uint64) {
		ms, seq, _ := strings.Cut(id, "-")
		m, _ := strconv.ParseUint(ms, 10, 64)
		s, _ := strconv.ParseUint(seq, 10, 64)
		return m, s
	}
	am, as := split(a)
	bm, bs := split(b)
	if am != bm {
		if am < bm {
			return -1
		}
		return 1
	}
	switch {
	case as < bs:
		return -1
	case as > bs:
		return 1
	}
	return 0
}

func validateActor(by string) error {
	if by == "" || len(by) > 256 {
		return fmt.Errorf("invalid actor %q: use 1-256 bytes", by)
	}
	if strings.ContainsFunc(by, unicode.IsControl) {
		return fmt.Errorf("invalid actor %q: control character", by)
	}
	return nil
}

// runFloor runs a floor script for conference confID and decodes the state
// it returns, and the extra value, a holder's JSON or "".
func (s *Store) runFloor(ctx context.Context, sc *script, op, confID, by string, at time.Time, args ...any) (conference.FloorState, string, error) {
	var st conference.FloorState
	if err := conference.ValidateID(confID); err != nil {
		return st, "", fmt.Errorf("%s: conference: %w", op, err)
	}
	if err := validateActor(by); err != nil {
		return st, "", fmt.Errorf("%s in %s: %w", op, confID, err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Millisecond)
	if at.UnixMilli() < 1 {
		return st, "", fmt.Errorf("%s in %s: time %v is before 1970", op, confID, at)
	}
	argv := append([]any{formatTime(at), at.UnixMilli(), by}, args...)
	res, err := sc.Run(ctx, s.rdb, s.floorKeys(confID), argv...).Slice()
	if err != nil {
		var re redis.Error
		if errors.As(err, &re) {
			code, msg, _ := strings.Cut(re.Error(), " ")
			if sentinel, ok := floorErrors[code]; ok {
				return st, "", fmt.Errorf("%s in %s: %s: %w", op, confID, msg, sentinel)
			}
		}
		return st, "", fmt.Errorf("%s in %s: %w", op, confID, err)
	}
	st, extra, err := decodeScriptFloor(res)
	if err != nil {
		return st, "", fmt.Errorf("%s in %s: %w", op, confID, err)
	}
	return st, extra, nil
}

// decodeScriptFloor decodes the reply of the Lua function state.
func decodeScriptFloor(res []any) (conference.FloorState, string, error) {
	if len(res) != 5 {
		return conference.FloorState{}, "", fmt.Errorf("floor script returned %d values, want 5", len(res))
	}
	version, _ := res[0].(int64)
	discussion, _ := res[1].(string)
	strs := func(v any) []string {
		l, _ := v.([]any)
		out := make([]string, 0, len(l))
		for _, x := range l {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	extra, _ := res[4].(string)
	st, err := decodeFloor(version, discussion, strs(res[2]), strs(res[3]))
	return st, extra, err
}

// Ask queues pointID's request for the floor, with an optional subject
// line, at time at (now if zero), and returns the new state; the point's
// place is st.Position(pointID). The request goes to the end of the queue:
// concurrent requests are queued in the order Redis runs them. It fails
// with ErrAlreadyQueued, ErrAlreadyHolding or ErrNotInvited.
func (s *Store) Ask(ctx context.Context, confID, pointID, subject string, at time.Time) (conference.FloorState, error) {
	if err := conference.ValidateID(pointID); err != nil {
		return conference.FloorState{}, fmt.Errorf("ask for the floor: point: %w", err)
	}
	subject, err := conference.CleanSubject(subject)
	if err != nil {
		return conference.FloorState{}, fmt.Errorf("ask for the floor: point %s: %w", pointID, err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Millisecond)
	req, err := json.Marshal(floorRequest{PointID: pointID, Subject: subject, AskedAt: at})
	if err != nil {
		return conference.FloorState{}, fmt.Errorf("ask for the floor: %w", err)
	}
	st, _, err := s.runFloor(ctx, s.scripts.floor.ask, "point "+pointID+" asks for the floor", confID, pointID, at,
		pointID, req, subject)
	return st, err
}

// Withdraw removes pointID's request from the queue, by whom and why (one
// of conference.Withdrawn*), and returns the new state. It fails with
// ErrNotQueued if the point has no request waiting, for instance because it
// was given the floor meanwhile.
func (s *Store) Withdraw(ctx context.Context, confID, pointID, by, reason string, at time.Time) (conference.FloorState, error) {
	if err := conference.ValidateID(pointID); err != nil {
		return conference.FloorState{}, fmt.Errorf("withdraw request: point: %w", err)
	}
	if !conference.ValidWithdrawReason(reason) {
		return conference.FloorState{}, fmt.Errorf("withdraw request of %s: unknown reason %q", pointID, reason)
	}
	st, _, err := s.runFloor(ctx, s.scripts.floor.withdraw, "withdraw request of "+pointID, confID, by, at,
		pointID, reason)
	return st, err
}

// Give gives the floor to pointID, which need not have asked, with time
// limit limit (0 = none), by whom, at time at (now if zero). Its request,
// if any, leaves the queue and its subject becomes the turn's. Outside a
// discussion the current holder's turn ends as taken back in the same
// change. It returns the new holder and state, and fails with
// ErrAlreadyHolding or ErrNotInvited.
func (s *Store) Give(ctx context.Context, confID, pointID string, limit time.Duration, by string, at time.Time) (conference.FloorHolder, conference.FloorState, error) {
	if err := conference.ValidateID(pointID); err != nil {
		return conference.FloorHolder{}, conference.FloorState{}, fmt.Errorf("give the floor: point: %w", err)
	}
	return s.give(ctx, confID, pointID, limit, by, at)
}

// GiveNext is Give to the point at the head of the queue. It fails with
// ErrQueueEmpty when nobody is waiting. Two concurrent calls give the floor
// to two different points, one after the other.
func (s *Store) GiveNext(ctx context.Context, confID string, limit time.Duration, by string, at time.Time) (conference.FloorHolder, conference.FloorState, error) {
	return s.give(ctx, confID, "", limit, by, at)
}

func (s *Store) give(ctx context.Context, confID, pointID string, limit time.Duration, by string, at time.Time) (conference.FloorHolder, conference.FloorState, error) {
	op := "give the floor to " + pointID
	if pointID == "" {
		op = "give the floor to the next"
	}
	if err := conference.CheckLimit(limit); err != nil {
		return conference.FloorHolder{}, conference.FloorState{}, fmt.Errorf("%s: %w", op, err)
	}
	st, extra, err := s.runFloor(ctx, s.scripts.floor.give, op, confID, by, at, pointID, limit.Milliseconds())
	if err != nil {
		return conference.FloorHolder{}, st, err
	}
	h, err := decodeHolder(extra)
	if err != nil {
		return h, st, fmt.Errorf("%s in %s: %w", op, confID, err)
	}
	return h, st, nil
}

// Extend adds extra time to turn turnID: its new deadline is the later of
// its current deadline and at, plus extra; a turn without limit gets one
// ending extra after at. It returns the holder and state, and fails with
// ErrNoSuchTurn if the turn is not on the floor.
func (s *Store) Extend(ctx context.Context, confID, turnID string, extra time.Duration, by string, at time.Time) (conference.FloorHolder, conference.FloorState, error) {
	op := "extend turn " + turnID
	if err := conference.CheckExtension(extra); err != nil {
		return conference.FloorHolder{}, conference.FloorState{}, fmt.Errorf("%s: %w", op, err)
	}
	if extra < time.Millisecond {
		extra = time.Millisecond
	}
	st, data, err := s.runFloor(ctx, s.scripts.floor.extend, op, confID, by, at, turnID, extra.Milliseconds())
	if err != nil {
		return conference.FloorHolder{}, st, err
	}
	h, err := decodeHolder(data)
	if err != nil {
		return h, st, fmt.Errorf("%s in %s: %w", op, confID, err)
	}
	return h, st, nil
}

// TakeBack ends pointID's turn as taken back, or every turn when pointID is
// empty, and returns the new state. It fails with ErrNotHolding if the named
// point does not hold the floor; taking back every turn when none is held
// changes nothing.
func (s *Store) TakeBack(ctx context.Context, confID, pointID, by string, at time.Time) (conference.FloorState, error) {
	op := "take the floor back"
	if pointID != "" {
		if err := conference.ValidateID(pointID); err != nil {
			return conference.FloorState{}, fmt.Errorf("%s: point: %w", op, err)
		}
		op += " from " + pointID
	}
	st, _, err := s.runFloor(ctx, s.scripts.floor.takeBack, op, confID, by, at, pointID)
	return st, err
}

// EndTurn ends turn turnID for reason (one of conference.End*): the speaker
// finished, its time ran out, or it stayed away longer than the grace
// period. It names the turn rather than the point so that a late timer never
// ends a later turn of the same point. It fails with ErrNoSuchTurn if the
// turn is not on the floor.
func (s *Store) EndTurn(ctx context.Context, confID, turnID, reason, by string, at time.Time) (conference.FloorState, error) {
	op := "end turn " + turnID
	if !conference.ValidEndReason(reason) {
		return conference.FloorState{}, fmt.Errorf("%s: unknown reason %q", op, reason)
	}
	st, _, err := s.runFloor(ctx, s.scripts.floor.end, op, confID, by, at, turnID, reason)
	return st, err
}

// SetDiscussion opens or closes a discussion, in which several points may
// hold the floor at once, and returns the new state. Closing it takes the
// floor back from every holder. Setting the current value changes nothing.
func (s *Store) SetDiscussion(ctx context.Context, confID string, open bool, by string, at time.Time) (conference.FloorState, error) {
	op, arg := "close the discussion", "0"
	if open {
		op, arg = "open a discussion", "1"
	}
	st, _, err := s.runFloor(ctx, s.scripts.floor.discussion, op, confID, by, at, arg)
	return st, err
}

// Floor returns the floor of conference confID, read atomically. The error
// wraps ErrNotFound if the conference does not exist.
func (s *Store) Floor(ctx context.Context, confID string) (conference.FloorState, error) {
	var (
		meta     *redis.SliceCmd
		queue    *redis.StringSliceCmd
		requests *redis.MapStringStringCmd
		holders  *redis.StringSliceCmd
	)
	err := s.readConference(ctx, confID, "floor", func(p redis.Pipeliner) {
		meta = p.HMGet(ctx, s.key(confID, "floor:meta"), "version", "discussion")
		queue = p.LRange(ctx, s.key(confID, "floor:queue"), 0, -1)
		requests = p.HGetAll(ctx, s.key(confID, "floor:requests"))
		holders = p.HVals(ctx, s.key(confID, "floor:holders"))
	})
	if err != nil {
		return conference.FloorState{}, err
	}
	var version int64
	m := meta.Val()
	if v, ok := m[0].(string); ok {
		if version, err = strconv.ParseInt(v, 10, 64); err != nil {
			return conference.FloorState{}, fmt.Errorf("floor of %s: version: %w", confID, err)
		}
	}
	discussion, _ := m[1].(string)
	reqs := make([]string, 0, len(queue.Val()))
	for _, p := range queue.Val() {
		if data, ok := requests.Val()[p]; ok {
			reqs = append(reqs, data)
		}
	}
	st, err := decodeFloor(version, discussion, reqs, holders.Val())
	if err != nil {
		return st, fmt.Errorf("floor of %s: %w", confID, err)
	}
	return st, nil
}

// Holder returns the turn pointID holds in conference confID. The error
// wraps ErrNotHolding if it holds none.
func (s *Store) Holder(ctx context.Context, confID, pointID string) (conference.FloorHolder, error) {
	if conference.ValidateID(confID) != nil || conference.ValidateID(pointID) != nil {
		return conference.FloorHolder{}, fmt.Errorf("holder %q/%q: %w", confID, pointID, ErrNotHolding)
	}
	data, err := s.rdb.HGet(ctx, s.key(confID, "floor:holders"), pointID).Result()
	if errors.Is(err, redis.Nil) {
		return conference.FloorHolder{}, fmt.Errorf("holder %s/%s: %w", confID, pointID, ErrNotHolding)
	}
	if err != nil {
		return conference.FloorHolder{}, fmt.Errorf("get holder %s/%s: %w", confID, pointID, err)
	}
	h, err := decodeHolder(data)
	if err != nil {
		return h, fmt.Errorf("holder %s/%s: %w", confID, pointID, err)
	}
	return h, nil
}

// FloorEvents returns the floor log of conference confID, oldest first. The
// error wraps ErrNotFound if the conference does not exist.
func (s *Store) FloorEvents(ctx context.Context, confID string) ([]conference.FloorEvent, error) {
	var msgs *redis.XMessageSliceCmd
	err := s.readConference(ctx, confID, "floor events", func(p redis.Pipeliner) {
		msgs = p.XRange(ctx, s.key(confID, "floor:events"), "-", "+")
	})
	if err != nil {
		return nil, err
	}
	out := make([]conference.FloorEvent, 0, len(msgs.Val()))
	for _, m := range msgs.Val() {
		e, err := decodeFloorEvent(m)
		if err != nil {
			return nil, fmt.Errorf("decode floor event %s/%s: %w", confID, m.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeFloorEvent(m redis.XMessage) (conference.FloorEvent, error) {
	str := func(k string) string {
		v, _ := m.Values[k].(string)
		return v
	}
	e := conference.FloorEvent{
		ID:      m.ID,
		Kind:    conference.FloorEventKind(str("kind")),
		TurnID:  str("turn_id"),
		PointID: str("point_id"),
		Subject: str("subject"),
		By:      str("by"),
		Reason:  str("reason"),
	}
	if v := str("limit_ms"); v != "" {
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return e, fmt.Errorf("limit_ms: %w", err)
		}
		e.Limit = time.Duration(ms) * time.Millisecond
	}
	if v := str("at"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return e, fmt.Errorf("at: %w", err)
		}
		e.At = t
	}
	return e, nil
}

// Turns returns the speaking log of conference confID, computed from its
// floor events, in the order the turns started. The error wraps ErrNotFound
// if the conference does not exist.
func (s *Store) Turns(ctx context.Context, confID string) ([]conference.Turn, error) {
	events, err := s.FloorEvents(ctx, confID)
	if err != nil {
		return nil, err
	}
	return conference.Turns(events), nil
}
