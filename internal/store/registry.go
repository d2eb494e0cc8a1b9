package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// The point registry keeps, per province, the connection points a hall
// invites to its conferences, so that a point's name, district,
// representative and phone are entered once. With the prefix "hn" and the
// province "dong-nai" the keys are:
//
//	hn:provinces                          set   ids of provinces with a registry
//	hn:{registry:dong-nai}:points         hash  point id -> conference.Point as JSON
//	hn:{registry:dong-nai}:point-order    list  point ids in the order first added
//
// The hash tag "registry:..." cannot collide with a conference id, which has
// no colon. A province id follows the rules of conference.ValidateID.
// Inviting registry points into a conference copies them (see InvitePoints):
// later changes to the registry do not change a conference already invited.

// MaxRegistryPoints is the most points a province's registry may hold.
const MaxRegistryPoints = 5000

// ErrTooMany is wrapped by a change refused because it would pass a limit.
var ErrTooMany = errors.New("too many")

// ImportResult counts what ImportRegistryPoints changed.
type ImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
	Removed int `json:"removed"` // only when replacing
}

func (s *Store) registryKey(province, name string) string {
	return s.prefix + ":{registry:" + province + "}:" + name
}

func (s *Store) provincesKey() string { return s.prefix + ":provinces" }

func registryScripts() (put, del, imp *script) {
	// KEYS: points, point-order. ARGV: max points, then pairs of point id
	// and point JSON. Returns {created, updated}, or an error reply
	// REG_FULL when the registry would hold more than max points.
	put = newScript(`
local n = redis.call('HLEN', KEYS[1])
local created, updated = 0, 0
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then updated = updated + 1 else created = created + 1 end
end
if n + created > tonumber(ARGV[1]) then
  return redis.error_reply('REG_FULL registry would hold more than ' .. ARGV[1] .. ' points')
end
for i = 2, #ARGV, 2 do
  if redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
  end
end
return {created, updated}
`, false)

	// KEYS: points, point-order. ARGV: point id. Returns 1 when deleted,
	// 0 when there was no such point.
	del = newScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LREM', KEYS[2], 0, ARGV[1])
return 1
`, false)

	// KEYS: points, point-order. ARGV: pairs of point id and point JSON,
	// which replace the whole registry in their order. Returns {created,
	// updated, removed}.
	imp = newScript(`
local old = {}
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do old[id] = true end
local created, updated = 0, 0
for i = 1, #ARGV, 2 do
  if old[ARGV[i]] then updated = updated + 1; old[ARGV[i]] = nil else created = created + 1 end
end
local removed = 0
for _ in pairs(old) do removed = removed + 1 end
redis.call('DEL', KEYS[1], KEYS[2])
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
return {created, updated, removed}
`, false)
	return put, del, imp
}

// Provinces returns the ids of the provinces that have a registry, sorted.
func (s *Store) Provinces(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.provincesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list provinces: %w", err)
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return conference.ValidateID(id) != nil })
	slices.Sort(ids)
	return ids, nil
}

// RegistryPoints returns the points of the registry of province in the
// order they were first added; none for a province without a registry.
func (s *Store) RegistryPoints(ctx context.Context, province string) ([]conference.Point, error) {
	if err := conference.ValidateID(province); err != nil {
		return nil, fmt.Errorf("registry: province: %w", err)
	}
	var (
		order *redis.StringSliceCmd
		all   *redis.MapStringStringCmd
	)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		order = p.LRange(ctx, s.registryKey(province, "point-order"), 0, -1)
		all = p.HGetAll(ctx, s.registryKey(province, "points"))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registry of %s: %w", province, err)
	}
	byID := all.Val()
	out := make([]conference.Point, 0, len(byID))
	for _, id := range order.Val() {
		data, ok := byID[id]
		if !ok {
			continue
		}
		var p conference.Point
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, fmt.Errorf("decode registry point %s/%s: %w", province, id, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// RegistryPoint returns point id of the registry of province. The error
// wraps ErrNotFound if there is none.
func (s *Store) RegistryPoint(ctx context.Context, province, id string) (conference.Point, error) {
	var p conference.Point
	if conference.ValidateID(province) != nil || conference.ValidateID(id) != nil {
		return p, fmt.Errorf("registry point %q/%q: %w", province, id, ErrNotFound)
	}
	data, err := s.rdb.HGet(ctx, s.registryKey(province, "points"), id).Result()
	if errors.Is(err, redis.Nil) {
		return p, fmt.Errorf("registry point %s/%s: %w", province, id, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("get registry point %s/%s: %w", province, id, err)
	}
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return p, fmt.Errorf("decode registry point %s/%s: %w", province, id, err)
	}
	return p, nil
}

// PutRegistryPoints validates every point and then creates or replaces
// them all at once in the registry of province, keeping the order in which
// points were first added; new points are appended in the order given.
// Nothing is written when any point is invalid, an id repeats, or the
// registry would pass MaxRegistryPoints (the error then wraps ErrTooMany).
func (s *Store) PutRegistryPoints(ctx context.Context, province string, points []conference.Point) (ImportResult, error) {
	args, err := registryArgs(province, points)
	if err != nil {
		return ImportResult{}, err
	}
	if err := s.addProvince(ctx, province); err != nil {
		return ImportResult{}, err
	}
	keys := []string{s.registryKey(province, "points"), s.registryKey(province, "point-order")}
	res, err := s.scripts.admin.put.Run(ctx, s.rdb, keys, append([]any{MaxRegistryPoints}, args...)...).Int64Slice()
	if err != nil {
		if isScriptError(err, "REG_FULL") {
			err = fmt.Errorf("%w: %w", ErrTooMany, err)
		}
		return ImportResult{}, fmt.Errorf("put registry points of %s: %w", province, err)
	}
	return ImportResult{Created: int(res[0]), Updated: int(res[1])}, nil
}

// ReplaceRegistryPoints validates every point and then replaces the whole
// registry of province with them, in the order given: points not among
// them are removed. Nothing is written when any point is invalid or an id
// repeats.
func (s *Store) ReplaceRegistryPoints(ctx context.Context, province string, points []conference.Point) (ImportResult, error) {
	args, err := registryArgs(province, points)
	if err != nil {
		return ImportResult{}, err
	}
	if len(points) > MaxRegistryPoints {
		return ImportResult{}, fmt.Errorf("replace registry of %s: %d points: %w (at most %d)", province, len(points), ErrTooMany, MaxRegistryPoints)
	}
	if err := s.addProvince(ctx, province); err != nil {
		return ImportResult{}, err
	}
	keys := []string{s.registryKey(province, "points"), s.registryKey(province, "point-order")}
	res, err := s.scripts.admin.imp.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return ImportResult{}, fmt.Errorf("replace registry of %s: %w", province, err)
	}
	return ImportResult{Created: int(res[0]), Updated: int(res[1]), Removed: int(res[2])}, nil
}

// DeleteRegistryPoint removes point id from the registry of province. The
// error wraps ErrNotFound if there is no such point. Conferences that
// invited it keep their copy.
func (s *Store) DeleteRegistryPoint(ctx context.Context, province, id string) error {
	if conference.ValidateID(province) != nil || conference.ValidateID(id) != nil {
		return fmt.Errorf("delete registry point %q/%q: %w", province, id, ErrNotFound)
	}
	keys := []string{s.registryKey(province, "points"), s.registryKey(province, "point-order")}
	n, err := s.scripts.admin.del.Run(ctx, s.rdb, keys, id).Int()
	if err != nil {
		return fmt.Errorf("delete registry point %s/%s: %w", province, id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete registry point %s/%s: %w", province, id, ErrNotFound)
	}
	return nil
}

// addProvince records province in the index of provinces. It is written
// before the points, so a failure between the two leaves at most an empty
// province in the index, never points the index does not name.
func (s *Store) addProvince(ctx context.Context, province string) error {
	if err := s.rdb.SAdd(ctx, s.provincesKey(), province).Err(); err != nil {
		return fmt.Errorf("registry of %s: index: %w", province, err)
	}
	return nil
}

// registryArgs validates province and points and returns the script
// arguments: pairs of point id and point JSON.
func registryArgs(province string, points []conference.Point) ([]any, error) {
	if err := conference.ValidateID(province); err != nil {
		return nil, fmt.Errorf("registry: province: %w", err)
	}
	args, err := pointArgs(points)
	if err != nil {
		return nil, fmt.Errorf("registry of %s: %w", province, err)
	}
	return args, nil
}

// pointArgs validates points, refusing a repeated id, and returns pairs of
// point id and point JSON.
func pointArgs(points []conference.Point) ([]any, error) {
	seen := make(map[string]bool, len(points))
	args := make([]any, 0, 2*len(points))
	for i, p := range points {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("point %d: %w", i+1, err)
		}
		if seen[p.ID] {
			return nil, fmt.Errorf("point %d: id %s appears twice", i+1, p.ID)
		}
		seen[p.ID] = true
		data, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", p.ID, err)
		}
		args = append(args, p.ID, string(data))
	}
	return args, nil
}

// InvitePoints copies points (typically from a registry) into conference
// confID at once: new points are added in the order given, points already
// invited are updated. It returns how many were new. Nothing is written
// when any point is invalid or an id repeats; the error wraps ErrNotFound
// if the conference does not exist.
func (s *Store) InvitePoints(ctx context.Context, confID string, points []conference.Point) (int, error) {
	if err := conference.ValidateID(confID); err != nil {
		return 0, fmt.Errorf("invite points: conference: %w", err)
	}
	args, err := pointArgs(points)
	if err != nil {
		return 0, fmt.Errorf("invite points to %s: %w", confID, err)
	}
	keys := []string{s.key(confID, "conf"), s.key(confID, "points"), s.key(confID, "point-order")}
	n, err := s.scripts.admin.invite.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("invite points to %s: %w", confID, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("invite points: conference %s: %w", confID, ErrNotFound)
	}
	return n, nil
}

// inviteScript puts several points into a conference; see InvitePoints.
// KEYS: conf, points, point-order. ARGV: pairs of point id and point JSON.
// Returns -1 when the conference does not exist, else the number of new
// points.
const inviteScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local added = 0
for i = 1, #ARGV, 2 do
  if redis.call('HSET', KEYS[2], ARGV[i], ARGV[i+1]) == 1 then
    redis.call('RPUSH', KEYS[3], ARGV[i])
    added = added + 1
  end
end
return added
`

// adminScripts are the scripts of the registry, conference status and
// point links (see registry.go, status.go, pointlinks.go).
type adminScripts struct {
	put, del, imp, invite *script
	status                *script
	ensureLinks, reissue  *script
}

func newAdminScripts() adminScripts {
	put, del, imp := registryScripts()
	ensure, reissue := pointLinkScripts()
	return adminScripts{put: put, del: del, imp: imp, invite: newScript(inviteScript, false),
		status: newScript(statusScript, false), ensureLinks: ensure, reissue: reissue}
}

func (a adminScripts) all() []*script {
	return []*script{a.put, a.del, a.imp, a.invite, a.status, a.ensureLinks, a.reissue}
}

// isScriptError reports whether err is an error reply of a script that
// starts with code.
func isScriptError(err error, code string) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	return len(msg) >= len(code) && msg[:len(code)] == code
}
