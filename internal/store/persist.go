package store

import (
	"context"
	"crypto/sha1"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// isWrite reports whether the command named name (lower case) changes data
// and so must be logged. It is an explicit allow-list: a write command the
// store starts to use must be added here, or it is lost on restart.
func isWrite(name string) bool {
	switch name {
	case "set", "setnx", "setex", "psetex", "getset", "getdel", "mset", "msetnx", "append",
		"incr", "incrby", "incrbyfloat", "decr", "decrby",
		"del", "unlink", "rename", "renamenx", "copy",
		"expire", "pexpire", "expireat", "pexpireat", "persist",
		"hset", "hsetnx", "hmset", "hdel", "hincrby", "hincrbyfloat",
		"sadd", "srem", "smove", "spop",
		"rpush", "lpush", "rpushx", "lpushx", "lpop", "rpop", "lrem", "lset", "ltrim", "linsert", "lmove", "rpoplpush",
		"zadd", "zrem", "zincrby", "zpopmin", "zpopmax", "zremrangebyscore", "zremrangebyrank",
		"xadd", "xdel", "xtrim",
		"eval", "evalsha":
		return true
	}
	return false
}

// persistHook is a go-redis hook that appends every successful write command
// to the log and syncs it before the command returns. Writes are serialised
// so that the log holds them in the order the server applied them.
type persistHook struct {
	mu      sync.Mutex
	w       *aofWriter // nil once closed
	failed  error      // set when memory and log may differ; refuses writes
	scripts map[string]*script
	log     *slog.Logger
}

var _ redis.Hook = (*persistHook)(nil)

func (h *persistHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *persistHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !isWrite(cmd.Name()) {
			return next(ctx, cmd)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := h.usable(); err != nil {
			return err
		}
		if _, err := argStrings(cmd.Args()); err != nil {
			return fmt.Errorf("store log: %w", err)
		}
		// A cancelled context must not cut a write short between the server
		// applying it and the log recording it.
		err := next(context.WithoutCancel(ctx), cmd)
		if err != nil && !errors.Is(err, redis.Nil) {
			if !isRedisError(err) {
				h.fail(fmt.Errorf("write %s may have been applied but not logged: %w", cmd.Name(), err))
			}
			return err
		}
		c, ok, lerr := h.record(cmd)
		if lerr != nil {
			h.fail(lerr)
			return lerr
		}
		if ok {
			if lerr := h.w.append([]command{c}); lerr != nil {
				h.fail(lerr)
				return lerr
			}
		}
		return err
	}
}

func (h *persistHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		writes := false
		for _, c := range cmds {
			if isWrite(c.Name()) {
				writes = true
				if _, err := argStrings(c.Args()); err != nil {
					return fmt.Errorf("store log: %w", err)
				}
			}
		}
		if !writes {
			return next(ctx, cmds)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := h.usable(); err != nil {
			return err
		}
		err := next(context.WithoutCancel(ctx), cmds)

		tx := len(cmds) >= 2 && cmds[0].Name() == "multi" && cmds[len(cmds)-1].Name() == "exec"
		var recs [][]command
		var txCmds []command
		for _, cmd := range cmds {
			if !isWrite(cmd.Name()) {
				continue
			}
			if cerr := cmd.Err(); cerr != nil && !errors.Is(cerr, redis.Nil) {
				if !isRedisError(cerr) {
					h.fail(fmt.Errorf("write %s may have been applied but not logged: %w", cmd.Name(), cerr))
					return cerr
				}
				continue // refused by the server, or the transaction was aborted
			}
			c, ok, lerr := h.record(cmd)
			if lerr != nil {
				h.fail(lerr)
				return lerr
			}
			if !ok {
				continue
			}
			if tx {
				txCmds = append(txCmds, c)
			} else {
				recs = append(recs, []command{c})
			}
		}
		if len(txCmds) > 0 {
			recs = append(recs, txCmds)
		}
		if len(recs) > 0 {
			if lerr := h.w.append(recs...); lerr != nil {
				h.fail(lerr)
				return lerr
			}
		}
		return err
	}
}

// usable returns an error if writes must be refused. h.mu must be held.
func (h *persistHook) usable() error {
	if h.failed != nil {
		return fmt.Errorf("store log failed earlier, restart the server: %w", h.failed)
	}
	if h.w == nil {
		return errors.New("store is closed")
	}
	return nil
}

// fail records that memory and log may differ from now on. h.mu must be held.
func (h *persistHook) fail(err error) {
	if h.failed == nil {
		h.failed = err
		h.log.Error("store log failed; refusing further writes", "err", err)
	}
}

// record returns the command to log for the executed write cmd, and false
// when there is nothing to log.
func (h *persistHook) record(cmd redis.Cmder) (command, bool, error) {
	args, err := argStrings(cmd.Args())
	if err != nil {
		return nil, false, err
	}
	args[0] = strings.ToUpper(args[0])
	switch args[0] {
	case "EVALSHA":
		if len(args) < 2 {
			return nil, false, errors.New("store log: EVALSHA without a script")
		}
		sc, ok := h.scripts[strings.ToLower(args[1])]
		if !ok {
			return nil, false, fmt.Errorf("store log: EVALSHA of unknown script %s", args[1])
		}
		args[0], args[1] = "EVAL", sc.src
		fallthrough
	case "EVAL":
		if len(args) < 3 {
			return nil, false, errors.New("store log: EVAL without a script")
		}
		sum := sha1.Sum([]byte(args[1]))
		sc := h.scripts[hex.EncodeToString(sum[:])]
		if sc == nil || !sc.streamID {
			return args, true, nil
		}
		id, ok := resultString(cmd)
		if !ok {
			return nil, false, nil // the script changed nothing
		}
		args[len(args)-1] = id
	case "XADD":
		id, ok := resultString(cmd)
		if !ok {
			return nil, false, nil // NOMKSTREAM on a missing stream
		}
		// The id follows the key and any options; options never take "*".
		for i := 2; i < len(args); i++ {
			if args[i] == "*" {
				args[i] = id
				break
			}
		}
	}
	return args, true, nil
}

// close syncs and closes the log; later writes fail.
func (h *persistHook) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.w == nil {
		return nil
	}
	err := h.w.close()
	h.w = nil
	return err
}

// resultString returns the string result of cmd, or false when it returned
// nil.
func resultString(cmd redis.Cmder) (string, bool) {
	switch c := cmd.(type) {
	case *redis.StringCmd:
		v, err := c.Result()
		return v, err == nil
	case *redis.Cmd:
		v, err := c.Text()
		return v, err == nil
	}
	return "", false
}

// isRedisError reports whether err is a reply from the server, after which
// the command is known not to have been applied, rather than a network or
// context failure.
func isRedisError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// argStrings converts command arguments to the strings sent to the server,
// as the go-redis writer does.
func argStrings(args []any) (command, error) {
	out := make(command, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case nil:
			out[i] = ""
		case string:
			out[i] = v
		case []byte:
			out[i] = string(v)
		case int:
			out[i] = strconv.FormatInt(int64(v), 10)
		case int8:
			out[i] = strconv.FormatInt(int64(v), 10)
		case int16:
			out[i] = strconv.FormatInt(int64(v), 10)
		case int32:
			out[i] = strconv.FormatInt(int64(v), 10)
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		case uint:
			out[i] = strconv.FormatUint(uint64(v), 10)
		case uint8:
			out[i] = strconv.FormatUint(uint64(v), 10)
		case uint16:
			out[i] = strconv.FormatUint(uint64(v), 10)
		case uint32:
			out[i] = strconv.FormatUint(uint64(v), 10)
		case uint64:
			out[i] = strconv.FormatUint(v, 10)
		case float32:
			out[i] = strconv.FormatFloat(float64(v), 'f', -1, 64)
		case float64:
			out[i] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			if v {
				out[i] = "1"
			} else {
				out[i] = "0"
			}
		case time.Time:
			out[i] = v.Format(time.RFC3339Nano)
		case time.Duration:
			out[i] = strconv.FormatInt(v.Nanoseconds(), 10)
		case net.IP:
			out[i] = string(v)
		case encoding.BinaryMarshaler:
			b, err := v.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i, err)
			}
			out[i] = string(b)
		default:
			return nil, fmt.Errorf("argument %d: cannot log a %T", i, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("empty command")
	}
	return out, nil
}
