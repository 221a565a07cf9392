package simulate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/smiletest"
)

const testSecret = "whsec-demo-only-0001"

// receiver is a webhook endpoint that checks what a real one would and records
// every delivery.
type receiver struct {
	t      *testing.T
	url    string
	answer func(n int) int // status for the n-th delivery (from 0)

	mu         sync.Mutex
	deliveries int
	byID       map[string]int
	byStatus   map[string]int64
	firstOrder map[string][]string // per user, event ids in order of first arrival
	headers    http.Header         // of the last delivery
	bodies     [][]byte            // every delivery, in arrival order
	host       string
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	t.Helper()
	r := &receiver{t: t, answer: answer, byID: map[string]int{}, byStatus: map[string]int64{},
		firstOrder: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/webhooks/smile"
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read body: %v", err)
		return
	}
	if req.Method != http.MethodPost || req.URL.Path != "/webhooks/smile" ||
		req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("got %s %s with Content-Type %q, want POST /webhooks/smile application/json",
			req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	sig := req.Header.Get(smile.SignatureHeader)
	if _, err := smile.Verify([][]byte{[]byte(testSecret)}, body, sig); err != nil || sig != strings.ToLower(sig) {
		r.t.Errorf("signature %q: %v; want a valid lowercase signature", sig, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	env, err := smile.ParseEnvelope(body)
	if err != nil {
		r.t.Errorf("parse: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if arrived := time.Now(); env.CreatedAt.After(arrived) {
		r.t.Errorf("%s %s is dated %s, after the wall clock when it arrived (%s)", env.Type, env.ID, env.CreatedAt, arrived.UTC())
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	status := r.answer(r.deliveries)
	r.deliveries++
	if r.byID[env.ID] == 0 {
		user := env.Data.Subject()
		r.firstOrder[user] = append(r.firstOrder[user], env.ID)
	}
	r.byID[env.ID]++
	r.byStatus[strconv.Itoa(status)]++
	r.headers, r.host = req.Header.Clone(), req.Host
	r.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"status":"stored"}`)
}

func always(status int) func(int) int { return func(int) int { return status } }

// TestRun_DeliversSignedEvents sends 40 users with duplicates and checks that the
// receiver saw exactly the generator's events, each user's in order, and that the
// report's counts match what the receiver counted.
func TestRun_DeliversSignedEvents(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	cfg := Config{URL: rcv.url, Secret: testSecret, Tenant: "demotenant", Users: 40, Concurrency: 4,
		Seed: 7, End: testStart, Window: 48 * time.Hour, Duplicates: 0.2}
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	rcv.mu.Lock() // the handlers are done, but the race detector cannot know
	defer rcv.mu.Unlock()

	g := NewGenerator(7, "demotenant", time.Time{}).WithWindow(testStart, 48*time.Hour)
	wantEvents := 0
	for range 40 {
		user := g.User()
		wantEvents += len(user)
		var ids []string
		for _, ev := range user {
			ids = append(ids, ev.ID)
		}
		userID := parseEvent(t, user[0]).env.Data.UserID
		if got := rcv.firstOrder[userID]; !equalStrings(got, ids) {
			t.Errorf("user %s: got events %v, want %v in that order", userID, got, ids)
		}
	}
	if len(rcv.byID) != wantEvents {
		t.Errorf("receiver got %d distinct events, want %d", len(rcv.byID), wantEvents)
	}
	dups := int64(rcv.deliveries - len(rcv.byID))
	switch {
	case rep.Users != 40:
		t.Errorf("got %d users, want 40", rep.Users)
	case rep.Sent != int64(rcv.deliveries) || rep.Acknowledged != rep.Sent:
		t.Errorf("got sent %d acknowledged %d, want both %d", rep.Sent, rep.Acknowledged, rcv.deliveries)
	case rep.Duplicates != dups:
		t.Errorf("got %d duplicates, want %d", rep.Duplicates, dups)
	case math.Abs(float64(dups)/float64(wantEvents)-0.2) > 0.05:
		t.Errorf("got %d duplicates for %d events, want about 20%%", dups, wantEvents)
	case len(rep.ByStatus) != 1 || rep.ByStatus["200"] != rep.Sent:
		t.Errorf("got by status %v, want only 200: %d", rep.ByStatus, rep.Sent)
	case rep.Latency.Count != rep.Sent || rep.Latency.P50 <= 0 || rep.Latency.Max < rep.Latency.P99:
		t.Errorf("got latency %+v for %d requests", rep.Latency, rep.Sent)
	case rep.Throughput <= 0 || rep.Elapsed <= 0:
		t.Errorf("got throughput %v over %v, want positive", rep.Throughput, rep.Elapsed)
	}
	var byType int64
	for _, n := range rep.ByType {
		byType += n
	}
	if byType != int64(wantEvents) {
		t.Errorf("by type adds up to %d, want %d", byType, wantEvents)
	}
}

func equalStrings(a, b []string) bool {
	return len(a) == len(b) && strings.Join(a, ",") == strings.Join(b, ",")
}

// TestRun_StatusBreakdown checks that non-2xx answers and transport errors are
// counted by status and not acknowledged.
func TestRun_StatusBreakdown(t *testing.T) {
	tests := []struct {
		name   string
		answer func(int) int
	}{
		{"every fourth 503", func(n int) int {
			if n%4 == 3 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}},
		{"mixed 2xx and 4xx", func(n int) int {
			return []int{http.StatusOK, http.StatusAccepted, http.StatusNoContent, http.StatusUnauthorized, http.StatusFound}[n%5]
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.answer)
			cfg := Config{URL: rcv.url, Secret: testSecret, Users: 15, Concurrency: 3, Seed: 11, Duplicates: 0.1}
			rep, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			var acked int64
			for status, n := range rcv.byStatus {
				if rep.ByStatus[status] != n {
					t.Errorf("status %s: got %d, want %d", status, rep.ByStatus[status], n)
				}
				if status[0] == '2' {
					acked += n
				}
			}
			if len(rep.ByStatus) != len(rcv.byStatus) || rep.Acknowledged != acked || rep.Failed() != rep.Sent-acked {
				t.Errorf("got by status %v acknowledged %d, want %v and %d", rep.ByStatus, rep.Acknowledged, rcv.byStatus, acked)
			}
		})
	}
}

// TestRun_ConnectionRefused checks transport errors are reported by kind.
func TestRun_ConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rep, err := Run(context.Background(), Config{URL: url, Secret: testSecret, Users: 2}, nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rep.Sent == 0 || rep.ByStatus["error: connection refused"] != rep.Sent || rep.Acknowledged != 0 ||
		rep.ErrorSample == "" || rep.Latency.Count != 0 {
		t.Errorf("got %+v, want every request refused and reported", rep)
	}
}

// TestRun_Duration checks that a timed run keeps starting users until the time is
// up, finishes them, and reports progress.
func TestRun_Duration(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	var progress bytes.Buffer
	cfg := Config{URL: rcv.url, Secret: testSecret, Concurrency: 2, Duration: 300 * time.Millisecond,
		ProgressInterval: 50 * time.Millisecond}
	rep, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rep.Users < 2 || rep.Acknowledged != rep.Sent || rep.Elapsed < cfg.Duration {
		t.Errorf("got %d users, %d of %d acknowledged in %v; want at least 2 users, all acknowledged, at least %v",
			rep.Users, rep.Acknowledged, rep.Sent, rep.Elapsed, cfg.Duration)
	}
	if !strings.Contains(progress.String(), "events/s") {
		t.Errorf("got progress %q, want lines with a rate", progress.String())
	}
}

// TestRun_UsersBoundDuration checks Users caps a timed run.
func TestRun_UsersBoundDuration(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	rep, err := Run(context.Background(), Config{URL: rcv.url, Secret: testSecret, Users: 3, Concurrency: 2,
		Duration: time.Minute}, nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if rep.Users != 3 {
		t.Errorf("got %d users, want 3", rep.Users)
	}
}

// TestRun_ExtraHeaders checks Config.Header reaches the receiver, Host included.
func TestRun_ExtraHeaders(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	h := http.Header{}
	h.Set("X-Forwarded-For", "18.142.61.230")
	h.Set("Host", "hooks.example.com")
	if _, err := Run(context.Background(), Config{URL: rcv.url, Secret: testSecret, Users: 1, Header: h}, nil); err != nil {
		t.Fatalf("run: %v", err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if got := rcv.headers.Get("X-Forwarded-For"); got != "18.142.61.230" || rcv.host != "hooks.example.com" {
		t.Errorf("got X-Forwarded-For %q and host %q, want 18.142.61.230 and hooks.example.com", got, rcv.host)
	}
}

// TestRun_Canceled checks a canceled context stops the run with its error.
func TestRun_Canceled(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Run(ctx, Config{URL: rcv.url, Secret: testSecret, Users: 5}, nil)
	if !errors.Is(err, context.Canceled) || rep.Sent != 0 {
		t.Errorf("got error %v and %d sent, want context.Canceled and none", err, rep.Sent)
	}
}

func TestRun_InvalidConfig(t *testing.T) {
	ok := Config{URL: "http://localhost:8080/webhooks/smile", Secret: testSecret, Users: 1}
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{"no url", func(c *Config) { c.URL = "" }},
		{"relative url", func(c *Config) { c.URL = "/webhooks/smile" }},
		{"ftp url", func(c *Config) { c.URL = "ftp://example.com/x" }},
		{"no secret", func(c *Config) { c.Secret = "" }},
		{"no users nor duration", func(c *Config) { c.Users = 0 }},
		{"negative users", func(c *Config) { c.Users = -1 }},
		{"negative concurrency", func(c *Config) { c.Concurrency = -2 }},
		{"negative duration", func(c *Config) { c.Duration = -time.Second }},
		{"duplicates above one", func(c *Config) { c.Duplicates = 1.5 }},
		{"duplicates NaN", func(c *Config) { c.Duplicates = math.NaN() }},
		{"negative window", func(c *Config) { c.Window = -time.Hour }},
		{"events without random", func(c *Config) { c.Events = 5 }},
		{"random and realtime", func(c *Config) { c.Random, c.Realtime, c.Events = true, true, 5 }},
		{"random without a bound", func(c *Config) { c.Random = true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.change(&cfg)
			if _, err := Run(context.Background(), cfg, nil); !errors.Is(err, ErrBadConfig) {
				t.Errorf("got error %v, want ErrBadConfig", err)
			}
		})
	}
}

// TestDeliver checks the single-event sender the sandbox uses.
func TestDeliver(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusAccepted))
	ev := NewGenerator(1, "", testStart).UserCreated(flowUser, testStart)
	status, err := Deliver(context.Background(), http.DefaultClient, rcv.url, testSecret, ev)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("got status %d, error %v; want 202 and none", status, err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.byID[ev.ID] != 1 {
		t.Errorf("receiver got event %s %d times, want once", ev.ID, rcv.byID[ev.ID])
	}
	if _, err := Deliver(context.Background(), http.DefaultClient, "://bad", testSecret, ev); err == nil {
		t.Error("got no error for a malformed URL, want one")
	}
}

// TestRun_DatedBeforeNow: by default a run dates its users over the last days,
// and never after the wall clock (the receiver checks every event on arrival).
func TestRun_DatedBeforeNow(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	before := time.Now()
	rep, err := Run(context.Background(), Config{URL: rcv.url, Secret: testSecret, Users: 60, Concurrency: 4}, nil)
	if err != nil || rep.Failed() != 0 {
		t.Fatalf("run: %v, %d failed", err, rep.Failed())
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	oldest := before
	for _, b := range rcv.bodies {
		env, _ := smile.ParseEnvelope(b)
		if env.CreatedAt.Before(oldest) {
			oldest = env.CreatedAt
		}
	}
	if earliest := before.Add(-DefaultWindow - time.Second); oldest.Before(earliest) || before.Sub(oldest) < DefaultWindow/2 {
		t.Errorf("oldest event %s, want spread over the %s before %s", oldest, DefaultWindow, before.UTC())
	}
}

// TestGenerator_WithWindow: sign-ups fall inside the window, and what would
// come after its end (monthly syncs) is left out.
func TestGenerator_WithWindow(t *testing.T) {
	end := testStart
	g := NewGenerator(3, "demotenant", time.Time{}).WithWindow(end, 7*24*time.Hour)
	unbounded := NewGenerator(3, "demotenant", testStart)
	var syncs, unboundedSyncs int
	for range 100 {
		user := g.User()
		if user[0].Type != smile.UserCreated || user[0].CreatedAt.Before(end.Add(-7*24*time.Hour)) {
			t.Fatalf("first event %s at %s, want USER_CREATED in the week before %s", user[0].Type, user[0].CreatedAt, end)
		}
		for _, ev := range user {
			if ev.CreatedAt.After(end) {
				t.Fatalf("%s dated %s, after the window's end %s", ev.Type, ev.CreatedAt, end)
			}
			if ev.Type == smile.AccountSyncTaskFinished {
				syncs++
			}
		}
		for _, ev := range unbounded.User() {
			if ev.Type == smile.AccountSyncTaskFinished {
				unboundedSyncs++
			}
		}
	}
	if syncs != 0 || unboundedSyncs == 0 {
		t.Errorf("got %d monthly syncs in a week's window (%d without one), want none", syncs, unboundedSyncs)
	}
}

// TestRun_Realtime: events are sent when their time comes; a short run sends
// the first user's sign-up and none of what lies ahead of the wall clock.
func TestRun_Realtime(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	rep, err := Run(context.Background(), Config{URL: rcv.url, Secret: testSecret, Users: 3, Realtime: true,
		Duration: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bodies) == 0 || rep.Acknowledged != int64(len(rcv.bodies)) {
		t.Fatalf("got %d deliveries, report %+v; want the first user's sign-up", len(rcv.bodies), rep)
	}
	if env, _ := smile.ParseEnvelope(rcv.bodies[0]); env.Type != smile.UserCreated {
		t.Errorf("first event %s, want USER_CREATED", env.Type)
	}
	if n := len(NewGenerator(1, "", time.Time{}).User()); len(rcv.bodies) >= n+n {
		t.Errorf("got %d events in 300ms, want only those already due", len(rcv.bodies))
	}
}

// TestRun_Random: the load mode sends single events of four types for users
// drawn from a pool, each with a new id, each valid against Smile's spec.
func TestRun_Random(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	rep, err := Run(context.Background(), Config{URL: rcv.url, Secret: testSecret, Users: 7, Random: true,
		Events: 300, Concurrency: 4, Seed: 5}, nil)
	if err != nil || rep.Sent != 300 || rep.Acknowledged != 300 {
		t.Fatalf("run: %v, report %+v; want 300 acknowledged", err, rep)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	users, types := map[string]bool{}, map[smile.EventType]int{}
	size := 0
	for _, b := range rcv.bodies {
		if err := smiletest.ValidateEvent(b); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		env, _ := smile.ParseEnvelope(b)
		users[env.Data.UserID] = true
		types[env.Type]++
		size += len(b)
	}
	if len(rcv.byID) != 300 || len(users) != 7 || len(types) != 4 {
		t.Errorf("got %d ids, %d users, types %v; want 300 ids, the 7 users of the pool, 4 types", len(rcv.byID), len(users), types)
	}
	t.Logf("mean body %d bytes", size/len(rcv.bodies))
}
