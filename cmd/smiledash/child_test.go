package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/smile/simulate"
)

// serverChildEnv marks the re-executed test binary that runs the server for
// the crash, replica, fault and soak tests.
const serverChildEnv = "SMILEDASH_TEST_SERVER_CHILD"

// TestServerChild is not a test on its own: startServer re-executes the test
// binary to run it as a real server process, which a test can SIGKILL,
// restrict (rlimits) and measure (/proc) without touching its own process.
func TestServerChild(t *testing.T) {
	if os.Getenv(serverChildEnv) == "" {
		t.Skip("run by startServer")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := run(ctx, []string{"serve"}, strings.NewReader(""), os.Stdout, os.Getenv); err != nil {
		t.Fatal(err)
	}
}

const (
	childSecret   = "child-test-secret"
	childEmail    = "ops@example.com"
	childPassword = "a-long-enough-password"
)

// childVars is the configuration every child server gets: a data directory,
// a webhook secret, loopback allowed, an admin, quiet logs. dsn, when not
// empty, selects the database (a PostgreSQL URL); otherwise SQLite in dir.
func childVars(dir, dsn string) map[string]string {
	vars := map[string]string{
		"SMILEDASH_DATA_DIR":            dir,
		"SMILEDASH_WEBHOOK_SECRETS":     childSecret,
		"SMILEDASH_WEBHOOK_ALLOWED_IPS": "127.0.0.1",
		"SMILEDASH_LOG_LEVEL":           "warn",
		"SMILEDASH_ADMIN_EMAIL":         childEmail,
		"SMILEDASH_ADMIN_PASSWORD":      childPassword,
		"SMILEDASH_PUBLIC_URL":          "http://smiledash.test",
	}
	if dsn == "" {
		dsn = filepath.Join(dir, "smiledash.db") // set, so that no inherited value applies
	}
	vars["SMILEDASH_DATABASE_URL"] = dsn
	return vars
}

// serverChild is a smiledash server running as a child process.
type serverChild struct {
	URL    string
	cmd    *exec.Cmd
	logs   *logWatcher
	exited chan error
}

// startServer starts a server child on addr with vars and waits until it
// answers /healthz. It is killed at the end of the test if still running.
func startServer(t testing.TB, addr string, vars map[string]string) *serverChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), serverChildEnv+"=1", "SMILEDASH_ADDR="+addr)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverChild{URL: "http://" + addr, cmd: cmd, logs: newLogWatcher(stdout), exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server %s output:\n%s", addr, s.logs.text())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-s.exited:
			t.Fatalf("server %s exited before answering: %v\n%s", addr, err, s.logs.text())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s did not answer /healthz", addr)
		}
	}
}

// Pid is the child's process id.
func (s *serverChild) Pid() int { return s.cmd.Process.Pid }

// kill ends the child with SIGKILL, as a crash or the OOM killer would.
func (s *serverChild) kill(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
}

// stop ends the child with SIGTERM and expects a clean exit.
func (s *serverChild) stop(t testing.TB) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			t.Errorf("server did not stop cleanly: %v", err)
		}
	case <-time.After(45 * time.Second):
		// A goroutine dump (SIGQUIT) says what shutdown waits for.
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		<-s.exited
		t.Errorf("server did not stop within 45s of SIGTERM; its goroutines:\n%s", s.logs.text())
	}
}

// shuffledEvents returns the whole histories of n simulated users, shuffled
// into one random order: events of many users interleave and a user's events
// arrive out of order, as Smile's at-least-once delivery allows.
func shuffledEvents(seed uint64, n int) []simulate.Event {
	g := simulate.NewGenerator(seed, fmt.Sprintf("crash%d", seed), time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	var evs []simulate.Event
	for range n {
		evs = append(evs, g.User()...)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	return evs
}

// signedLoad sends events to a server with several concurrent workers and
// remembers which were acknowledged (200).
type signedLoad struct {
	url    string
	client *http.Client
	mu     sync.Mutex
	acked  []string
	status map[int]int
	errors int
	next   int
}

func newSignedLoad(baseURL string) *signedLoad {
	return &signedLoad{
		url:    baseURL + "/webhooks/smile",
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		status: map[int]int{},
	}
}

// send delivers events with workers goroutines until all are sent or ctx ends
// (or the server is gone: every request fails), and returns how many were sent.
func (l *signedLoad) send(ctx context.Context, events []simulate.Event, workers int) int {
	var wg sync.WaitGroup
	l.next = 0
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				l.mu.Lock()
				i := l.next
				l.next++
				l.mu.Unlock()
				if i >= len(events) {
					return
				}
				code, err := simulate.Deliver(ctx, l.client, l.url, childSecret, events[i])
				l.mu.Lock()
				if err != nil {
					l.errors++
				} else {
					l.status[code]++
				}
				if code == http.StatusOK {
					l.acked = append(l.acked, events[i].ID)
				}
				l.mu.Unlock()
			}
		})
	}
	wg.Wait()
	return min(l.next, len(events))
}

func (l *signedLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// storedIDs counts how many of ids are stored events, in chunks that stay
// under PostgreSQL's parameter limit.
func storedIDs(t testing.TB, s *models.Store, ids []string) int {
	t.Helper()
	var total int64
	for chunk := range slices.Chunk(ids, 1000) {
		var n int64
		if err := s.DB().Model(&models.Event{}).Where("event_id IN ?", chunk).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return int(total)
}

// openChildStore opens the database a child server uses (dsn, or the SQLite
// file in dir) from the test process.
func openChildStore(t testing.TB, dir, dsn string) *models.Store {
	t.Helper()
	if dsn == "" {
		dsn = filepath.Join(dir, "smiledash.db")
	}
	s, err := models.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// drainBody reads and closes a response body so its connection is reused.
func drainBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
