package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"smiledash/smile"
)

func TestConnectionCap(t *testing.T) {
	tests := []struct {
		limit uint64
		want  int
	}{
		{20, minMaxConnections},
		{128, 64},
		{1024, 896},
		{65536, defaultMaxConnections},
		{1 << 20, defaultMaxConnections},
	}
	for _, tc := range tests {
		if got := connectionCap(tc.limit); got != tc.want {
			t.Errorf("connectionCap(%d): got %d, want %d", tc.limit, got, tc.want)
		}
	}
}

// flakyListener fails its first Accepts with the given errors, then accepts.
type flakyListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

// TestGuardedListener_RetriesTemporaryErrors: running out of file descriptors
// (EMFILE, ENFILE) is retried with a growing pause, not returned to fasthttp,
// which would end the server; other errors are returned.
func TestGuardedListener_RetriesTemporaryErrors(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	enfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ENFILE)}
	fake := &flakyListener{Listener: tcp, errs: []error{emfile, emfile, enfile, emfile}}
	ln := newGuardedListener(fake, 4, slog.New(slog.DiscardHandler))
	var pauses []time.Duration
	ln.pause = func(d time.Duration, _ <-chan struct{}) { pauses = append(pauses, d) }
	defer ln.Close()

	go func() {
		if c, err := net.Dial("tcp", tcp.Addr().String()); err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("got %v, want the connection after the temporary errors", err)
	}
	c.Close()
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	if fmt.Sprint(pauses) != fmt.Sprint(want) {
		t.Errorf("got pauses %v, want %v", pauses, want)
	}

	fake.errs = []error{errors.New("accept: permanent")}
	if _, err := ln.Accept(); err == nil || !strings.Contains(err.Error(), "permanent") {
		t.Errorf("got %v, want the permanent error", err)
	}
	if len(ln.slots) != 0 {
		t.Errorf("got %d slots held after a failed accept, want 0", len(ln.slots))
	}
}

// TestGuardedListener_WaitsAtTheCap: with the cap reached, Accept waits until
// a connection closes, and Close wakes it.
func TestGuardedListener_WaitsAtTheCap(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newGuardedListener(tcp, 1, slog.New(slog.DiscardHandler))
	for range 2 {
		c, err := net.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	select {
	case <-accepted:
		t.Fatal("accepted a second connection over the cap of 1")
	default:
	}
	first.Close()
	first.Close() // a second Close must not free a second slot
	second := <-accepted
	if second == nil {
		t.Fatal("no second connection after the first closed")
	}
	go func() {
		c, err := ln.Accept()
		if c != nil || !errors.Is(err, net.ErrClosed) {
			t.Errorf("got %v %v, want net.ErrClosed", c, err)
		}
		accepted <- nil
	}()
	ln.Close()
	<-accepted
	second.Close()
}

// floodChildEnv marks the re-executed test binary that runs the server.
const floodChildEnv = "SMILEDASH_TEST_FLOOD_CHILD_NOFILE"

// TestServeFloodChild is not a test on its own: TestServe_SurvivesConnectionFlood
// re-executes the test binary to run it, as the server, under a low open-file
// limit (soft and hard, so the server cannot raise it back).
func TestServeFloodChild(t *testing.T) {
	limit, err := strconv.ParseUint(os.Getenv(floodChildEnv), 10, 64)
	if err != nil {
		t.Skip("run by TestServe_SurvivesConnectionFlood")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := run(ctx, []string{"serve"}, strings.NewReader(""), os.Stdout, os.Getenv); err != nil {
		t.Fatal(err)
	}
}

// TestServe_SurvivesConnectionFlood runs the server as a child process with 128
// open files allowed and opens 400 idle connections to it. The server must
// stay up (not exit on "accept4: too many open files"), then answer /healthz
// and a signed webhook once the flood has gone, and still stop cleanly.
func TestServe_SurvivesConnectionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child server")
	}
	const fileLimit, flood = 128, 400
	addr, dir := freeAddr(t), t.TempDir()
	const secret = "flood-test-secret"
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeFloodChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), floodChildEnv+"="+strconv.Itoa(fileLimit),
		"SMILEDASH_ADDR="+addr, "SMILEDASH_DATA_DIR="+dir, "SMILEDASH_WEBHOOK_SECRETS="+secret,
		"SMILEDASH_WEBHOOK_ALLOWED_IPS=127.0.0.1", "SMILEDASH_LOG_LEVEL=info",
		"SMILEDASH_ADMIN_EMAIL=ops@example.com", "SMILEDASH_ADMIN_PASSWORD=a-long-enough-password")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	logs := newLogWatcher(stdout)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server output:\n%s", logs.text())
		}
	})

	healthy := func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}
	waitFor(t, healthy)
	limits := logs.wait(t, exited, "Open-file limit")
	if limits["soft"] != float64(fileLimit) || limits["max_connections"] != float64(connectionCap(fileLimit)) {
		t.Errorf("got %v, want the soft limit %d and its connection cap", limits, fileLimit)
	}

	var conns []net.Conn
	for range flood {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	// The server takes connections up to its cap, then says so; before the
	// cap existed it ran out of files here and exited.
	logs.wait(t, exited, "Connection limit reached")
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, healthy)
	body := []byte(`{"id":"et-after-flood","version":1,"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"u"}}`)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/smile", bytes.NewReader(body))
	req.Header.Set(smile.SignatureHeader, smile.SignatureFor([]byte(secret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("signed webhook after the flood: got %d, want 200", resp.StatusCode)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Errorf("the server did not stop cleanly: %v", err)
	}
}

// logWatcher collects a child's JSON log lines.
type logWatcher struct {
	mu    sync.Mutex
	lines []string
	added chan struct{}
}

func newLogWatcher(r io.Reader) *logWatcher {
	w := &logWatcher{added: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			w.mu.Unlock()
			select {
			case w.added <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

func (w *logWatcher) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// wait returns the attributes of the first log line whose message starts with msg, failing
// if the child exits first or nothing comes within 30 seconds.
func (w *logWatcher) wait(t *testing.T, exited <-chan error, msg string) map[string]any {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		w.mu.Lock()
		for _, l := range w.lines {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && strings.HasPrefix(fmt.Sprint(rec["msg"]), msg) {
				w.mu.Unlock()
				return rec
			}
		}
		w.mu.Unlock()
		select {
		case <-w.added:
		case err := <-exited:
			t.Fatalf("the server exited (%v) before logging %q", err, msg)
		case <-deadline:
			t.Fatalf("no %q logged", msg)
		}
	}
}
