package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// A conference goes through stages that the technician sets (draft,
// scheduled, testing, archived) and two that follow from its attendance
// events: running from a conference_started event until the next
// conference_ended, and ended after that. The stage is kept in
//
//	hn:{demo}:status   hash  "stage": the stage last set, "changed_at": when
//
// and the status shown is derived from it and the attendance state (see
// DeriveStatus), so that starting and ending stay the attendance events
// they are and nothing else has to agree with them. Testing is the time
// before the actual start: points may connect to check sound and picture,
// and the attendance report counts nothing before the start event.

// Status is the stage of a conference.
type Status string

// The statuses of a conference, in their usual order.
const (
	StatusDraft     Status = "draft"     // created, not yet scheduled
	StatusScheduled Status = "scheduled" // has a scheduled start
	StatusTesting   Status = "testing"   // open for points to test sound and picture
	StatusRunning   Status = "running"   // started (conference_started) and not ended
	StatusEnded     Status = "ended"     // ended (conference_ended); may be started again
	StatusArchived  Status = "archived"  // closed for good; kept for its reports
)

// ErrTransition is wrapped by a status change that the conference's
// current status does not allow.
var ErrTransition = errors.New("status change not allowed")

// ErrNoSchedule is wrapped by scheduling a conference without a
// scheduled start.
var ErrNoSchedule = errors.New("conference has no scheduled start")

// StatusInfo is the status of a conference and what it is derived from.
type StatusInfo struct {
	Status    Status    `json:"status"`
	Stage     Status    `json:"stage"` // as last set by the technician (draft if never)
	ChangedAt time.Time `json:"status_changed_at,omitzero"`
	StartedAt time.Time `json:"started_at,omitzero"` // last conference_started
	EndedAt   time.Time `json:"ended_at,omitzero"`   // last conference_ended, zero while running
}

// DeriveStatus returns the status of a conference whose stage was last set
// to stage and whose attendance state is st: archived stays archived;
// otherwise a conference that has started is running or ended, whatever
// its stage; before its first start it is in its stage.
func DeriveStatus(stage Status, st AttendanceState) Status {
	switch {
	case stage == StatusArchived:
		return StatusArchived
	case st.Running():
		return StatusRunning
	case !st.StartedAt.IsZero():
		return StatusEnded
	case stage == "":
		return StatusDraft
	}
	return stage
}

// settable reports whether to is a stage the technician may set.
func settable(to Status) bool {
	return to == StatusScheduled || to == StatusTesting || to == StatusArchived
}

// CanChange reports whether a conference in status from may be set to
// stage to: scheduled and testing before the first start (again, to
// change the time), archived at any time but while running. Running and
// ended come only from starting and ending the conference.
func CanChange(from, to Status) bool {
	switch to {
	case StatusScheduled, StatusTesting:
		return from == StatusDraft || from == StatusScheduled || from == StatusTesting
	case StatusArchived:
		return from != StatusRunning && from != StatusArchived
	}
	return false
}

// statusScript sets the stage of a conference if its derived status allows
// it; the rules are those of DeriveStatus and CanChange.
//
// KEYS: conf, status, attendance-state. ARGV: the stage to set, the time
// (RFC 3339). Returns {previous status, new status}; error replies
// ST_NOCONF (no conference), ST_NOTIME (scheduled without a scheduled
// start), ST_CONFLICT (not allowed).
const statusScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('ST_NOCONF conference does not exist')
end
local stage = redis.call('HGET', KEYS[2], 'stage') or 'draft'
local started, ended = false, false
local raw = redis.call('GET', KEYS[3])
if raw then
  local st = cjson.decode(raw)
  started = type(st.started_at) == 'string' and st.started_at ~= ''
  ended = type(st.ended_at) == 'string' and st.ended_at ~= ''
end
local from = stage
if stage == 'archived' then from = 'archived'
elseif started and not ended then from = 'running'
elseif started then from = 'ended' end
local to = ARGV[1]
local ok = false
if to == 'scheduled' or to == 'testing' then
  ok = from == 'draft' or from == 'scheduled' or from == 'testing'
elseif to == 'archived' then
  ok = from ~= 'running' and from ~= 'archived'
end
if not ok then
  return redis.error_reply('ST_CONFLICT cannot change a ' .. from .. ' conference to ' .. to)
end
if to == 'scheduled' then
  local c = cjson.decode(redis.call('HGET', KEYS[1], 'json'))
  if type(c.scheduled_start) ~= 'string' or c.scheduled_start == '' then
    return redis.error_reply('ST_NOTIME set the scheduled start first')
  end
end
redis.call('HSET', KEYS[2], 'stage', to, 'changed_at', ARGV[2])
return {from, to}
`

// SetConferenceStatus sets the stage of conference confID to to
// (scheduled, testing or archived) at time at, if its current status
// allows it (see CanChange), and returns the status before and after. The
// error wraps ErrTransition when the change is not allowed, ErrNoSchedule
// when scheduling a conference without a scheduled start, and ErrNotFound
// when the conference does not exist.
func (s *Store) SetConferenceStatus(ctx context.Context, confID string, to Status, at time.Time) (from, now Status, err error) {
	if err := conference.ValidateID(confID); err != nil {
		return "", "", fmt.Errorf("set status of %q: %w", confID, ErrNotFound)
	}
	if !settable(to) {
		return "", "", fmt.Errorf("set status of %s to %q: %w: use scheduled, testing or archived", confID, to, ErrTransition)
	}
	keys := []string{s.key(confID, "conf"), s.key(confID, "status"), s.key(confID, "attendance-state")}
	res, err := s.scripts.admin.status.Run(ctx, s.rdb, keys, string(to), formatTime(at)).StringSlice()
	if err != nil {
		switch {
		case isScriptError(err, "ST_NOCONF"):
			err = ErrNotFound
		case isScriptError(err, "ST_NOTIME"):
			err = fmt.Errorf("%w: %w", ErrNoSchedule, err)
		case isScriptError(err, "ST_CONFLICT"):
			err = fmt.Errorf("%w: %s", ErrTransition, strings.TrimPrefix(err.Error(), "ST_CONFLICT "))
		}
		return "", "", fmt.Errorf("set status of %s to %s: %w", confID, to, err)
	}
	if len(res) != 2 {
		return "", "", fmt.Errorf("set status of %s to %s: unexpected reply %q", confID, to, res)
	}
	return Status(res[0]), Status(res[1]), nil
}

// ConferenceStatus returns the status of conference confID. The error
// wraps ErrNotFound if the conference does not exist.
func (s *Store) ConferenceStatus(ctx context.Context, confID string) (StatusInfo, error) {
	var stage *redis.MapStringStringCmd
	var state *redis.StringCmd
	err := s.readConference(ctx, confID, "status", func(p redis.Pipeliner) {
		stage = p.HGetAll(ctx, s.key(confID, "status"))
		state = p.Get(ctx, s.key(confID, "attendance-state"))
	})
	if err != nil {
		return StatusInfo{}, err
	}
	return decodeStatus(confID, stage.Val(), state.Val())
}

func decodeStatus(confID string, stage map[string]string, state string) (StatusInfo, error) {
	var st AttendanceState
	if state != "" {
		if err := json.Unmarshal([]byte(state), &st); err != nil {
			return StatusInfo{}, fmt.Errorf("decode attendance state of %s: %w", confID, err)
		}
	}
	info := StatusInfo{Stage: Status(stage["stage"]), StartedAt: st.StartedAt, EndedAt: st.EndedAt}
	if info.Stage == "" {
		info.Stage = StatusDraft
	}
	if v := stage["changed_at"]; v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return StatusInfo{}, fmt.Errorf("decode status of %s: changed_at: %w", confID, err)
		}
		info.ChangedAt = t
	}
	info.Status = DeriveStatus(info.Stage, st)
	return info, nil
}

// ConferenceOverview is one conference as the technician's list shows it:
// its settings, its status and how many points it invited.
type ConferenceOverview struct {
	conference.Conference
	StatusInfo
	Points int `json:"points"`
}

// ConferenceOverviews returns every conference with its status and number
// of points, sorted by id.
func (s *Store) ConferenceOverviews(ctx context.Context) ([]ConferenceOverview, error) {
	confs, err := s.Conferences(ctx)
	if err != nil {
		return nil, err
	}
	type cmds struct {
		stage  *redis.MapStringStringCmd
		state  *redis.StringCmd
		points *redis.IntCmd
	}
	all := make([]cmds, len(confs))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range confs {
			all[i] = cmds{
				stage:  p.HGetAll(ctx, s.key(c.ID, "status")),
				state:  p.Get(ctx, s.key(c.ID, "attendance-state")),
				points: p.HLen(ctx, s.key(c.ID, "points")),
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list conferences: status: %w", err)
	}
	out := make([]ConferenceOverview, len(confs))
	for i, c := range confs {
		info, err := decodeStatus(c.ID, all[i].stage.Val(), all[i].state.Val())
		if err != nil {
			return nil, err
		}
		out[i] = ConferenceOverview{Conference: c, StatusInfo: info, Points: int(all[i].points.Val())}
	}
	return out, nil
}
