package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"smiledash/models/storetest"
)

// TestFaults_DatabaseUnavailable takes the database away from a running
// server and gives it back: while it is gone, webhooks answer 503 (so Smile
// retries) and /readyz is unready (so a load balancer stops sending); once it
// is back, both recover by themselves, without a restart, and every event
// acknowledged before, during and after is stored.
//
// PostgreSQL is reached through a loopback TCP proxy the test closes, which
// cuts the open connections and then refuses new ones, as a database that
// has gone down does. SQLite gets a full disk: the server's file size limit
// (RLIMIT_FSIZE, set from outside with prlimit) drops to one byte, so every
// write to the database and its WAL fails, as it does on a full disk; this
// needs no mount and works wherever the tests run, root or not.
func TestFaults_DatabaseUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child servers")
	}
	t.Run("postgres refusing connections", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		proxy := startProxy(t, u.Host)
		u.Host = proxy.addr
		dir := t.TempDir()
		srv := startServer(t, freeAddr(t), childVars(dir, u.String()))
		acked := outageAndRecovery(t, srv, proxy.down, func() { proxy.up(t) })
		if got := storedIDs(t, openChildStore(t, dir, dsn), acked); got != len(acked) {
			t.Errorf("%d of %d acknowledged events stored", got, len(acked))
		}
		srv.stop(t)
	})
	t.Run("sqlite on a full disk", func(t *testing.T) {
		dir := t.TempDir()
		srv := startServer(t, freeAddr(t), childVars(dir, ""))
		var before syscall.Rlimit
		if err := prlimit(srv.Pid(), syscall.RLIMIT_FSIZE, nil, &before); err != nil {
			t.Skipf("prlimit is not available here: %v", err)
		}
		full := func() {
			if err := prlimit(srv.Pid(), syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 1, Max: before.Max}, nil); err != nil {
				t.Fatal(err)
			}
		}
		freed := func() {
			if err := prlimit(srv.Pid(), syscall.RLIMIT_FSIZE, &before, nil); err != nil {
				t.Fatal(err)
			}
		}
		acked := outageAndRecovery(t, srv, full, freed)
		if got := storedIDs(t, openChildStore(t, dir, ""), acked); got != len(acked) {
			t.Errorf("%d of %d acknowledged events stored", got, len(acked))
		}
		srv.stop(t)
	})
}

// outageAndRecovery checks a healthy server, breaks its database, expects
// 503s and an unready /readyz, repairs it and expects both to recover. It
// returns the ids of every event answered 200.
func outageAndRecovery(t *testing.T, srv *serverChild, breakDB, repairDB func()) []string {
	t.Helper()
	var acked []string
	n := 0
	send := func() int {
		n++
		id := fmt.Sprintf("et-fault-%04d", n)
		body := fmt.Appendf(nil, `{"id":%q,"version":1,"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":{"userId":"u-fault-%d"}}`, id, n)
		code, _ := postWebhook(t, srv.URL, body)
		if code == http.StatusOK {
			acked = append(acked, id)
		}
		return code
	}
	ready := func() int {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		drainBody(resp)
		return resp.StatusCode
	}
	if code := send(); code != http.StatusOK {
		t.Fatalf("webhook before the outage: got %d, want 200", code)
	}
	if code := ready(); code != http.StatusOK {
		t.Fatalf("/readyz before the outage: got %d, want 200", code)
	}

	breakDB()
	// The first request may still find a working connection or page; within
	// a few attempts every answer must be 503.
	until(t, "webhooks answer 503", func() bool { return send() == http.StatusServiceUnavailable })
	if code := send(); code != http.StatusServiceUnavailable {
		t.Errorf("webhook during the outage: got %d, want 503", code)
	}
	until(t, "/readyz is unready", func() bool { return ready() == http.StatusServiceUnavailable })
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: got %d, want 503", code)
	}

	repairDB()
	until(t, "webhooks recover", func() bool { return send() == http.StatusOK })
	until(t, "/readyz recovers", func() bool { return ready() == http.StatusOK })
	for range 5 {
		if code := send(); code != http.StatusOK {
			t.Errorf("webhook after the recovery: got %d, want 200", code)
		}
	}
	return acked
}

// until polls ok for up to 30 seconds.
func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// prlimit reads or sets a resource limit of another process (prlimit(2)).
func prlimit(pid, resource int, set, old *syscall.Rlimit) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(resource),
		uintptr(unsafe.Pointer(set)), uintptr(unsafe.Pointer(old)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// tcpProxy forwards loopback connections to a target; down closes the
// listener and every open connection, so clients see their connections cut
// and new ones refused, and up listens on the same address again.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{addr: freeAddr(t), target: target, conns: map[net.Conn]struct{}{}}
	p.up(t)
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, upstream) {
		return
	}
	go func() { _, _ = io.Copy(upstream, c); upstream.Close() }()
	_, _ = io.Copy(c, upstream)
	c.Close()
}

// track remembers a pair of connections, or closes them if the proxy went
// down meanwhile.
func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}
