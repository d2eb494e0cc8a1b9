package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

var t0 = time.Date(2025, 3, 14, 7, 30, 0, 0, time.UTC)

func openAt(t *testing.T, dir string, compactBytes int64) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DataDir: dir, compactBytes: compactBytes})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func mustClose(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// state is everything the public API shows about one conference.
type state struct {
	Conf   conference.Conference
	Points []conference.Point
	Conns  []Connection
	Events []conference.AttendanceEvent
}

func snapshotState(t *testing.T, s *Store, id string) state {
	t.Helper()
	ctx := context.Background()
	var st state
	var err error
	if st.Conf, err = s.Conference(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st.Points, err = s.Points(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st.Conns, err = s.Connected(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st.Events, err = s.AttendanceEvents(ctx, id); err != nil {
		t.Fatal(err)
	}
	return st
}

// fill writes a conference with n points and a few connections and events.
func fill(t *testing.T, s *Store, id string, n int) {
	t.Helper()
	ctx := context.Background()
	if err := s.PutConference(ctx, conference.Conference{ID: id, Title: "Hội nghị " + id, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p := conference.Point{ID: fmt.Sprintf("p%03d", n-i), Name: fmt.Sprintf("Điểm cầu %d", i), ExpectedDelegates: i}
		if err := s.PutPoint(ctx, id, p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		c := Connection{ParticipantID: fmt.Sprintf("u%d", i), Role: conference.RolePoint, PointID: fmt.Sprintf("p%03d", i+1),
			Name: "Đại biểu", Since: t0.Add(time.Duration(i) * time.Second), Instance: "inst"}
		if err := s.MarkConnected(ctx, id, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkDisconnected(ctx, id, "u1", "left early", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
}

func TestEmbeddedRestart(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, 0)
	if !s.Embedded() {
		t.Fatal("Embedded() = false for a store without address")
	}
	fill(t, s, "demo", 5)
	fill(t, s, "other", 2)
	want := snapshotState(t, s, "demo")
	mustClose(t, s)

	s = openAt(t, dir, 0)
	defer mustClose(t, s)
	got := snapshotState(t, s, "demo")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after restart:\n got %+v\nwant %+v", got, want)
	}
	confs, err := s.Conferences(context.Background())
	if err != nil || len(confs) != 2 {
		t.Errorf("Conferences after restart = %v, %v; want 2", confs, err)
	}
}

func TestEmbeddedTornRecord(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, 0)
	fill(t, s, "demo", 3)
	before := snapshotState(t, s, "demo")
	// The last write: one more point, which the cut will lose.
	if err := s.PutPoint(context.Background(), "demo", conference.Point{ID: "last", Name: "Cuối"}); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)

	path := filepath.Join(dir, logName)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-3); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, dir, 0)
	if got := snapshotState(t, s, "demo"); !reflect.DeepEqual(got, before) {
		t.Errorf("after torn record:\n got %+v\nwant %+v", got, before)
	}
	// Writes after the recovery land after the cut, not after the garbage.
	if err := s.PutPoint(context.Background(), "demo", conference.Point{ID: "after", Name: "Sau"}); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	s = openAt(t, dir, 0)
	defer mustClose(t, s)
	if _, err := s.Point(context.Background(), "demo", "after"); err != nil {
		t.Errorf("point written after recovery: %v", err)
	}
}

func TestEmbeddedMultiReplaysWhole(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, 0)
	ctx := context.Background()
	var id string
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "hn:{x}:a", "1", 0)
		p.HSet(ctx, "hn:{x}:h", "f", "v")
		p.Get(ctx, "hn:{x}:a") // a read inside the transaction is not logged
		p.XAdd(ctx, &redis.XAddArgs{Stream: "hn:{x}:s", Values: []string{"k", "v"}})
		p.RPush(ctx, "hn:{x}:l", "a", "b")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.rdb.XRange(ctx, "hn:{x}:s", "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("XRange = %v, %v", msgs, err)
	}
	id = msgs[0].ID
	mustClose(t, s)

	// The transaction is one record of four commands.
	f, err := os.Open(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	var recs [][]command
	if _, err := readLog(f, st.Size(), func(c []command) error { recs = append(recs, c); return nil }); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if len(recs) != 1 || len(recs[0]) != 4 {
		t.Fatalf("log holds %v; want one record of 4 commands", recs)
	}
	if x := recs[0][2]; x[0] != "XADD" || x[2] != id {
		t.Errorf("logged XADD = %v; want the id %s Redis picked", x, id)
	}

	// Cutting into the record loses the whole transaction, not a part.
	if err := os.Truncate(filepath.Join(dir, logName), st.Size()-5); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, 0)
	if n, _ := s.rdb.Exists(ctx, "hn:{x}:a", "hn:{x}:h", "hn:{x}:s", "hn:{x}:l").Result(); n != 0 {
		t.Errorf("%d keys of a torn transaction were replayed; want 0", n)
	}
	mustClose(t, s)

	// The intact record replays whole, with the same stream id.
	os.WriteFile(filepath.Join(dir, logName), encodeRecord([]byte(aofMagic), recs[0]), 0o600)
	s = openAt(t, dir, 0)
	defer mustClose(t, s)
	if n, _ := s.rdb.Exists(ctx, "hn:{x}:a", "hn:{x}:h", "hn:{x}:s", "hn:{x}:l").Result(); n != 4 {
		t.Errorf("%d keys replayed; want 4", n)
	}
	msgs, err = s.rdb.XRange(ctx, "hn:{x}:s", "-", "+").Result()
	if err != nil || len(msgs) != 1 || msgs[0].ID != id {
		t.Errorf("stream after replay = %v, %v; want id %s", msgs, err, id)
	}
}

func TestEmbeddedCompaction(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, 0)
	fill(t, s, "demo", 20)
	ctx := context.Background()
	for i := range 20 { // rewrites that compaction folds away
		if err := s.PutConference(ctx, conference.Conference{ID: "demo", Title: fmt.Sprintf("v%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.rdb.ZAdd(ctx, "hn:{z}:zs", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: "b"})
	s.rdb.Set(ctx, "hn:{z}:str", "x", 0)
	want := snapshotState(t, s, "demo")
	mustClose(t, s)
	path := filepath.Join(dir, logName)
	before, _ := os.Stat(path)

	s = openAt(t, dir, 1) // any log is over the limit
	got := snapshotState(t, s, "demo")
	zs, _ := s.rdb.ZRangeWithScores(ctx, "hn:{z}:zs", 0, -1).Result()
	mustClose(t, s)
	after, _ := os.Stat(path)
	if after.Size() >= before.Size() {
		t.Errorf("log size %d after compaction; want less than %d", after.Size(), before.Size())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after compaction:\n got %+v\nwant %+v", got, want)
	}
	if len(zs) != 2 || zs[0].Member != "b" || zs[0].Score != -2 || zs[1].Score != 1.5 {
		t.Errorf("sorted set after compaction = %v", zs)
	}

	// The compacted log replays to the same state, and takes appends.
	s = openAt(t, dir, 0)
	defer mustClose(t, s)
	if got := snapshotState(t, s, "demo"); !reflect.DeepEqual(got, want) {
		t.Errorf("after reopening the compacted log:\n got %+v\nwant %+v", got, want)
	}
	if err := s.PutPoint(ctx, "demo", conference.Point{ID: "new", Name: "Mới"}); err != nil {
		t.Fatal(err)
	}
}

func TestEmbeddedDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, 0)
	defer mustClose(t, s)
	if s2, err := Open(context.Background(), Options{DataDir: dir}); err == nil {
		s2.Close()
		t.Fatal("second Open of one data dir succeeded")
	}
}

func TestEmbeddedBadLog(t *testing.T) {
	good := encodeRecord(nil, []command{{"SET", "hn:{a}:k", "v"}})
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 0xff
	tests := []struct {
		name    string
		content []byte
		wantErr string // "" if Open must succeed
		wantKey bool
	}{
		{"empty file", nil, "", false},
		{"header only", []byte(aofMagic), "", false},
		{"half header", []byte(aofMagic[:3]), "", false},
		{"one record", append([]byte(aofMagic), good...), "", true},
		{"bad checksum at end", append(append([]byte(aofMagic), good...), bad...), "", true},
		{"cut record header", append(append([]byte(aofMagic), good...), good[:5]...), "", true},
		{"bad checksum then more", append(append([]byte(aofMagic), bad...), good...), "bad checksum", false},
		{"not a log", []byte("*1\r\n$4\r\nPING\r\n"), "not a store log", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, logName), tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), Options{DataDir: dir})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					s.Close()
					t.Fatalf("Open = %v; want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer mustClose(t, s)
			n, err := s.rdb.Exists(context.Background(), "hn:{a}:k").Result()
			if err != nil || (n == 1) != tt.wantKey {
				t.Errorf("key exists = %d, %v; want %v", n, err, tt.wantKey)
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	tests := [][]command{
		{{"PING"}},
		{{"SET", "k", ""}},
		{{"HSET", "k", "f", "giá trị"}, {"XADD", "s", "1-1", "a", "\x00\xff"}},
		{{"SET", "big", strings.Repeat("x", 100000)}},
	}
	for i, cmds := range tests {
		rec := encodeRecord(nil, cmds)
		var got [][]command
		log := append([]byte(aofMagic), rec...)
		off, err := readLog(bytes.NewReader(log), int64(len(log)), func(c []command) error { got = append(got, c); return nil })
		if err != nil || off != int64(len(log)) {
			t.Errorf("%d: readLog = %d, %v", i, off, err)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], cmds) {
			t.Errorf("%d: decoded %q; want %q", i, got, cmds)
		}
	}
}

func TestArgStrings(t *testing.T) {
	got, err := argStrings([]any{"set", []byte("b"), 42, int64(-1), uint8(7), 1.5, true, false, nil, 2 * time.Second, t0})
	if err != nil {
		t.Fatal(err)
	}
	want := command{"set", "b", "42", "-1", "7", "1.5", "1", "0", "", "2000000000", "2025-03-14T07:30:00Z"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argStrings = %q; want %q", got, want)
	}
	if _, err := argStrings([]any{"set", struct{}{}}); err == nil {
		t.Error("argStrings of a struct: no error")
	}
}

func TestEmbeddedNeedsDataDir(t *testing.T) {
	_, err := Open(context.Background(), Options{})
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Open without DataDir = %v; want an error", err)
	}
}

// TestEmbeddedKill runs the test binary as a child that writes points and
// reports each acknowledged one, kills it with SIGKILL mid-stream, and checks
// that every acknowledged write survives.
func TestEmbeddedKill(t *testing.T) {
	if dir := os.Getenv("HOINGHI_STORE_KILL_CHILD"); dir != "" {
		killChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestEmbeddedKill$")
	cmd.Env = append(os.Environ(), "HOINGHI_STORE_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ack ")); err == nil {
			last = n
		}
		if last >= 100 {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if last < 100 {
		t.Fatalf("child acknowledged only %d writes", last+1)
	}

	s := openAt(t, dir, 0)
	defer mustClose(t, s)
	pts, err := s.Points(context.Background(), "kill")
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) < last+1 {
		t.Errorf("%d points after kill; want at least the %d acknowledged", len(pts), last+1)
	}
	for i, p := range pts[:min(len(pts), last+1)] {
		if want := fmt.Sprintf("p%d", i); p.ID != want {
			t.Fatalf("point %d is %s; want %s", i, p.ID, want)
		}
	}
}

func killChild(dir string) {
	ctx := context.Background()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	if err := s.PutConference(ctx, conference.Conference{ID: "kill", Title: "Kill"}); err != nil {
		fmt.Println("put:", err)
		return
	}
	deadline := time.Now().Add(10 * time.Second) // stop by itself if never killed
	for i := 0; time.Now().Before(deadline); i++ {
		if err := s.PutPoint(ctx, "kill", conference.Point{ID: fmt.Sprintf("p%d", i), Name: "x"}); err != nil {
			fmt.Println("put point:", err)
			return
		}
		fmt.Printf("ack %d\n", i)
	}
}
