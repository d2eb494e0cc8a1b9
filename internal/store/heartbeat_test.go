package store_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
)

// heartbeatChildEnv names the environment variable that makes
// TestHeartbeatCrashChild run the server that runHeartbeatCrash kills.
const heartbeatChildEnv = "HOINGHI_TEST_HEARTBEAT_CHILD"

// The conference of the crash test: two points, a short grace period, and
// a heartbeat every 100 ms.
const (
	crashInstance = "crash"
	crashConf     = "crash"
	crashInterval = 100 * time.Millisecond
	crashGrace    = 3 * time.Second
)

var crashPoints = []string{"huyen-a", "huyen-b"}

// crashChild is what the child is told.
type crashChild struct {
	Opts store.Options // Addr, DB, Password, Prefix, DataDir
}

// TestHeartbeatCrashChild is the server process that runHeartbeatCrash
// kills: it runs only in the child process that test starts. It opens the
// store as cmd/hoinghi does, creates the conference, starts it, connects
// both points, prints "ready" and waits to be killed.
func TestHeartbeatCrashChild(t *testing.T) {
	spec := os.Getenv(heartbeatChildEnv)
	if spec == "" {
		return
	}
	var child crashChild
	if err := json.Unmarshal([]byte(spec), &child); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	child.Opts.HeartbeatInterval = crashInterval
	s, err := store.Open(ctx, child.Opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DropInstance(ctx, crashInstance, conference.LeftRestarted, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.StartHeartbeat(crashInstance); err != nil {
		t.Fatal(err)
	}
	c := demo(crashConf)
	c.GracePeriod = conference.Seconds(crashGrace)
	mustPutConference(t, s, c)
	for _, p := range crashPoints {
		if err := s.PutPoint(ctx, crashConf, conference.Point{ID: p, Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	st := store.AttendanceState{StartedAt: now}
	if err := s.RecordAttendance(store.AttendanceWrite{Conference: crashConf, State: &st, Event: conference.AttendanceEvent{
		ID: s.NewAttendanceID(crashInstance, now), Kind: conference.ConferenceStarted, At: now, By: "technician"}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range crashPoints {
		if err := s.RecordAttendance(joinWrite(s, crashConf, conn(p, conference.RolePoint, p, crashInstance, time.Now()))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // until killed
	t.Fatal("not killed")
}

func TestRedisHeartbeatCrash(t *testing.T) { runHeartbeatCrash(t, redisBackend) }

func TestEmbeddedHeartbeatCrash(t *testing.T) { runHeartbeatCrash(t, embeddedBackend) }

// runHeartbeatCrash kills a server process holding two points' connections
// (SIGKILL), keeps it down for a while, restarts it as cmd/hoinghi does,
// lets the points reconnect, and checks in the computed report that the
// time down shows as away: a gap in the stay when it is shorter than the
// grace period, two stays when it is longer, within the heartbeat interval
// of the real time down: at the last heartbeat, exactly. With Redis the restart uses a fresh data dir, as
// on another machine, so the heartbeat is read from Redis; the embedded
// store has only its file.
func runHeartbeatCrash(t *testing.T, open backend) {
	tests := []struct {
		name  string
		down  time.Duration
		split bool // the stay is split, rather than continued with a gap
	}{
		{"down within the grace period", 300 * time.Millisecond, false},
		{"down past the grace period", crashGrace + time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := open(t, t.TempDir())
			killed := startCrashChild(t, opts)
			time.Sleep(tt.down)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if opts.Addr != "" {
				opts.DataDir = t.TempDir()
			}
			opts.HeartbeatInterval = crashInterval
			s, err := store.Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			alive, err := s.LastAlive(ctx, crashInstance)
			if err != nil {
				t.Fatal(err)
			}
			restart := time.Now()
			n, err := s.DropInstance(ctx, crashInstance, conference.LeftRestarted, restart)
			if err != nil || n != len(crashPoints) {
				t.Fatalf("DropInstance = %d, %v; want %d", n, err, len(crashPoints))
			}
			if err := s.StartHeartbeat(crashInstance); err != nil {
				t.Fatal(err)
			}
			back := time.Now().UTC()
			for _, p := range crashPoints {
				if err := s.RecordAttendance(joinWrite(s, crashConf, conn(p, conference.RolePoint, p, crashInstance, back))); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.FlushAttendance(ctx); err != nil {
				t.Fatal(err)
			}

			c, err := s.Conference(ctx, crashConf)
			if err != nil {
				t.Fatal(err)
			}
			points, err := s.Points(ctx, crashConf)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := s.AttendanceEvents(ctx, crashConf)
			if err != nil {
				t.Fatal(err)
			}
			r := conference.BuildReport(c, points, evs, nil, time.Now())
			real := back.Sub(killed) // the points' real time away
			t.Logf("last heartbeat %v before the kill; down %v; restart to reconnect %v",
				killed.Sub(alive).Round(time.Millisecond), real.Round(time.Millisecond), back.Sub(restart).Round(time.Millisecond))
			// The last beat is at most one interval before the kill, and
			// a little more on a loaded machine, where a tick may be late.
			if lag := killed.Sub(alive); lag < 0 || lag > crashInterval+200*time.Millisecond {
				t.Errorf("last heartbeat %v before the kill; want at most the interval, %v", lag, crashInterval)
			}
			if !tt.split && real+crashInterval >= crashGrace {
				// The machine is so slow that the restart took the grace
				// period; the report rightly splits the stay.
				t.Logf("the restart took %v, past the grace period: the stay is split", real)
				tt.split = true
			}
			for _, e := range evs {
				if e.Kind == conference.Left && !e.At.Equal(alive) {
					t.Errorf("left event %+v; want it at the last heartbeat %v", e, alive)
				}
			}
			for _, p := range r.Points {
				var away time.Duration
				var reason string
				switch {
				case tt.split && len(p.Stays) == 2:
					away, reason = p.Stays[1].Start.Sub(p.Stays[0].End), p.Stays[0].EndReason
				case !tt.split && len(p.Stays) == 1 && len(p.Stays[0].Gaps) == 1:
					g := p.Stays[0].Gaps[0]
					away, reason = g.Duration(), g.Reason
				default:
					t.Fatalf("%s: stays %+v; want split %v", p.Point.ID, p.Stays, tt.split)
				}
				t.Logf("%s: %d stays, away %v in the report (real %v)", p.Point.ID, len(p.Stays),
					away.Round(time.Millisecond), real.Round(time.Millisecond))
				// Away from the last heartbeat to the reconnect: the real
				// time down and the heartbeat's lag.
				if want := back.Sub(alive); away != want {
					t.Errorf("%s: away %v in the report; want %v (down %v)", p.Point.ID, away, want, real)
				}
				if reason != conference.LeftRestarted {
					t.Errorf("%s: left for %q; want %q", p.Point.ID, reason, conference.LeftRestarted)
				}
				if p.Status != conference.StatusPresent {
					t.Errorf("%s: status %s; want present", p.Point.ID, p.Status)
				}
			}
			if len(r.Points) != len(crashPoints) {
				t.Errorf("report has %d points; want %d", len(r.Points), len(crashPoints))
			}
		})
	}
}

// startCrashChild runs TestHeartbeatCrashChild on opts, waits until it is
// ready, lets it beat a few times and kills it; it returns when.
func startCrashChild(t *testing.T, opts store.Options) time.Time {
	t.Helper()
	spec, err := json.Marshal(crashChild{Opts: opts})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeartbeatCrashChild$")
	cmd.Env = append(os.Environ(), heartbeatChildEnv+"="+string(spec))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the server process ended before it was ready")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server process did not start")
	}
	time.Sleep(5*crashInterval + 37*time.Millisecond) // connected for a while, and killed between two beats
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	cmd.Wait()
	return killed
}

// TestEmbeddedLastAlive checks the heartbeat file: LastAlive reads the
// instance's own, ignores another's and one that does not decode, and a
// store beats only once.
func TestEmbeddedLastAlive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Options{DataDir: dir, HeartbeatInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if at, err := s.LastAlive(ctx, "a"); err != nil || !at.IsZero() {
		t.Errorf("LastAlive before any heartbeat = %v, %v; want zero", at, err)
	}
	before := time.Now()
	if err := s.StartHeartbeat("a"); err != nil {
		t.Fatal(err)
	}
	if err := s.StartHeartbeat("b"); err == nil {
		t.Error("a second StartHeartbeat did not fail")
	}
	time.Sleep(100 * time.Millisecond)
	first, err := s.LastAlive(ctx, "a")
	if err != nil || !first.After(before) || first.After(time.Now()) {
		t.Errorf("LastAlive while beating = %v, %v; want a beat after %v", first, err, before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closed := time.Now()
	s = open()
	defer s.Close()
	tests := []struct {
		name, instance, file string
		from, to             time.Time // want a time in [from, to]
	}{
		{"after a restart", "a", "", first, closed},
		{"another instance", "b", "", time.Time{}, time.Time{}},
		{"a file that does not decode", "a", `{"instance":"a","at":"yesterday"}`, time.Time{}, time.Time{}},
		{"an empty file", "a", " ", time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "heartbeat"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			at, err := s.LastAlive(ctx, tt.instance)
			if err != nil || at.Before(tt.from) || at.After(tt.to) {
				t.Errorf("LastAlive(%q) = %v, %v; want %v to %v", tt.instance, at, err, tt.from, tt.to)
			}
		})
	}
}
