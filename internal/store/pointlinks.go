package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// Each invited point has one link per conference, kept as
//
//	hn:{demo}:links   hash  point id -> PointLink as JSON
//
// The link itself is not stored: it is signed again from the record
// whenever it is shown, and the same record gives the same link. A point's
// token carries the version of its link; admission accepts a token whose
// version is at least the stored one (a point without a record is at
// version 0), so reissuing a link, which raises the version, revokes every
// older link of the point at once.

// PointLink is the record of a point's current link.
type PointLink struct {
	Version   int64     `json:"version"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// linkTimeLayout stores link times in whole seconds, as tokens carry them,
// in a form whose string order is time order (the scripts compare them).
const linkTimeLayout = "2006-01-02T15:04:05Z"

func formatLinkTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(linkTimeLayout) }

func pointLinkScripts() (ensure, reissue *script) {
	// KEYS: points, links. ARGV: now, issued at, expires at, then point
	// ids. Creates a record for each invited point that has none, and
	// renews one that has expired (keeping its version). Returns pairs of
	// point id and record JSON, for the invited points among the ids.
	ensure = newScript(`
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], id) == 1 then
    local raw = redis.call('HGET', KEYS[2], id)
    local ver = 0
    local fresh = false
    if raw then
      local r = cjson.decode(raw)
      ver = tonumber(r.version) or 0
      fresh = type(r.expires_at) == 'string' and r.expires_at > ARGV[1]
    end
    if not fresh then
      raw = '{"version":' .. string.format('%d', ver) .. ',"issued_at":"' .. ARGV[2] .. '","expires_at":"' .. ARGV[3] .. '"}'
      redis.call('HSET', KEYS[2], id, raw)
    end
    out[#out + 1] = id
    out[#out + 1] = raw
  end
end
return out
`, false)

	// KEYS: points, links. ARGV: point id, issued at, expires at. Raises
	// the point's link version by one and records the new link. Returns
	// the new version, or -1 when the point is not invited.
	reissue = newScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
local ver = 0
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if raw then ver = tonumber(cjson.decode(raw).version) or 0 end
ver = ver + 1
redis.call('HSET', KEYS[2], ARGV[1], '{"version":' .. string.format('%d', ver) .. ',"issued_at":"' .. ARGV[2] .. '","expires_at":"' .. ARGV[3] .. '"}')
return ver
`, false)
	return ensure, reissue
}

// PointLinks returns the link records of the invited points among
// pointIDs in conference confID, by point id. A point without a record, or
// whose link expired by now, gets one issued at now and valid until
// expiresAt, keeping its version. Ids of points not invited are left out.
func (s *Store) PointLinks(ctx context.Context, confID string, pointIDs []string, now, expiresAt time.Time) (map[string]PointLink, error) {
	if err := conference.ValidateID(confID); err != nil {
		return nil, fmt.Errorf("point links of %q: %w", confID, ErrNotFound)
	}
	out := make(map[string]PointLink, len(pointIDs))
	if len(pointIDs) == 0 {
		return out, nil
	}
	args := []any{formatLinkTime(now), formatLinkTime(now), formatLinkTime(expiresAt)}
	for _, id := range pointIDs {
		if err := conference.ValidateID(id); err != nil {
			return nil, fmt.Errorf("point links of %s: %w", confID, err)
		}
		args = append(args, id)
	}
	keys := []string{s.key(confID, "points"), s.key(confID, "links")}
	res, err := s.scripts.admin.ensureLinks.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("point links of %s: %w", confID, err)
	}
	for i := 0; i+1 < len(res); i += 2 {
		var l PointLink
		if err := json.Unmarshal([]byte(res[i+1]), &l); err != nil {
			return nil, fmt.Errorf("decode link of %s/%s: %w", confID, res[i], err)
		}
		out[res[i]] = l
		s.linkVersions.Store([2]string{confID, res[i]}, l.Version)
	}
	return out, nil
}

// ReissuePointLink revokes the link of point pointID in conference confID
// and records a new one, issued at now and valid until expiresAt, with the
// next version. The error wraps ErrNotFound if the point is not invited.
func (s *Store) ReissuePointLink(ctx context.Context, confID, pointID string, now, expiresAt time.Time) (PointLink, error) {
	if conference.ValidateID(confID) != nil || conference.ValidateID(pointID) != nil {
		return PointLink{}, fmt.Errorf("reissue link of %q/%q: %w", confID, pointID, ErrNotFound)
	}
	issued, expires := formatLinkTime(now), formatLinkTime(expiresAt)
	keys := []string{s.key(confID, "points"), s.key(confID, "links")}
	ver, err := s.scripts.admin.reissue.Run(ctx, s.rdb, keys, pointID, issued, expires).Int64()
	if err != nil {
		return PointLink{}, fmt.Errorf("reissue link of %s/%s: %w", confID, pointID, err)
	}
	if ver < 0 {
		return PointLink{}, fmt.Errorf("reissue link of %s/%s: point: %w", confID, pointID, ErrNotFound)
	}
	s.linkVersions.Store([2]string{confID, pointID}, ver)
	l := PointLink{Version: ver}
	l.IssuedAt, _ = time.Parse(linkTimeLayout, issued)
	l.ExpiresAt, _ = time.Parse(linkTimeLayout, expires)
	return l, nil
}

// LinkVersion returns the link version that tokens of point pointID in
// conference confID must carry at least: 0 when the point's link was never
// reissued. While Redis is unreachable it answers with the version this
// store last read or wrote, else 0, so that points keep joining during an
// outage as they do with the conference and point as last read: a link
// revoked through this store stays revoked, one revoked elsewhere and
// never seen here is admitted until Redis answers again.
func (s *Store) LinkVersion(ctx context.Context, confID, pointID string) (int64, error) {
	if conference.ValidateID(confID) != nil || conference.ValidateID(pointID) != nil {
		return 0, fmt.Errorf("link version of %q/%q: %w", confID, pointID, ErrNotFound)
	}
	k := [2]string{confID, pointID}
	raw, err := s.rdb.HGet(ctx, s.key(confID, "links"), pointID).Result()
	switch {
	case errors.Is(err, redis.Nil):
		s.linkVersions.Store(k, int64(0))
		return 0, nil
	case err != nil:
		v, ok := s.linkVersions.Load(k)
		if !ok {
			v = int64(0)
		}
		s.log.Warn("redis unavailable; using the link version as last known", "conference", confID, "point", pointID,
			"version", v, "known", ok, "err", err)
		return v.(int64), nil
	}
	var l PointLink
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return 0, fmt.Errorf("decode link of %s/%s: %w", confID, pointID, err)
	}
	s.linkVersions.Store(k, l.Version)
	return l.Version, nil
}
