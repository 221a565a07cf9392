package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/smile/simulate"
)

// BenchmarkSoak runs a server child process under mixed load for a while and
// samples its memory, goroutines and open files, to show whether they stay
// flat. The load: signed webhooks for users picked at random (a few repeated,
// as Smile's retries are), widget callbacks on several connect links, admin
// page views, and live streams held open, one reconnected every few seconds.
// Run it once, for its figures, not in a loop:
//
//	go test ./cmd/smiledash -run '^$' -bench BenchmarkSoak -benchtime 1x -timeout 0 -v
//
// Settings (environment): SMILEDASH_SOAK_DURATION (default 10m),
// SMILEDASH_SOAK_RATE (webhooks per second, default 200),
// SMILEDASH_SOAK_DATABASE_URL (default a SQLite file in a temporary
// directory; a postgres:// URL soaks PostgreSQL).
//
// It fails if requests fail, if the idle server has more goroutines after
// the run than before it or more open files than early in the run (a leak),
// or if the live heap (after a forced GC) grows by more than half between
// the middle and the end of the run. The resident set is reported, not
// judged: SQLite's page caches (about 260 MB at most) fill as the database
// grows.
func BenchmarkSoak(b *testing.B) {
	cfg := soakSettings(b)
	dir := b.TempDir()
	debugAddr := freeAddr(b)
	vars := childVars(dir, cfg.dsn)
	vars["SMILEDASH_DEBUG_ADDR"] = debugAddr
	srv := startServer(b, freeAddr(b), vars)
	store := openChildStore(b, dir, cfg.dsn)

	admin := newBrowser(b)
	if code := admin.signIn(b, srv.URL, childEmail, childPassword); code != http.StatusSeeOther {
		b.Fatalf("sign-in: got %d, want 303", code)
	}
	var load soakCounters
	idleBefore := sample(b, srv.Pid(), debugAddr, 0, &load)

	b.ResetTimer()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { soakWebhooks(ctx, srv.URL, cfg.rate, &load) })
	wg.Go(func() { soakCallbacks(ctx, b, store, srv.URL, &load) })
	wg.Go(func() { soakPages(ctx, admin, srv.URL, &load) })
	wg.Go(func() { soakStreams(ctx, admin, srv.URL, &load) })
	var loaded []soakSample
	start := time.Now()
	tick := time.NewTicker(cfg.every)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			loaded = append(loaded, sample(b, srv.Pid(), debugAddr, time.Since(start), &load))
		}
	}
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	// Idle again: every client has closed its connections. The server
	// notices a stream's client has gone at its next write (a heartbeat,
	// every 20 s) and keeps idle fasthttp workers for 10 s, so give it 40 s
	// to settle; a leak never does.
	admin.client.CloseIdleConnections()
	var idleAfter soakSample
	for settle := time.Now().Add(40 * time.Second); ; {
		time.Sleep(2 * time.Second)
		idleAfter = sample(b, srv.Pid(), debugAddr, time.Since(start), &load)
		settled := idleAfter.goroutines <= idleBefore.goroutines+5 && idleAfter.fds <= idleBefore.fds+5
		if settled || time.Now().After(settle) {
			break
		}
	}
	srv.stop(b)
	reportSoak(b, idleBefore, loaded, idleAfter, &load, took)
}

type soakConfig struct {
	duration, every time.Duration
	rate            int
	dsn             string
}

func soakSettings(b *testing.B) soakConfig {
	cfg := soakConfig{duration: 10 * time.Minute, rate: 200, dsn: os.Getenv("SMILEDASH_SOAK_DATABASE_URL")}
	if v := os.Getenv("SMILEDASH_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SMILEDASH_SOAK_DURATION: %v", err)
		}
		cfg.duration = d
	}
	if v := os.Getenv("SMILEDASH_SOAK_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SMILEDASH_SOAK_RATE %q: want a positive number", v)
		}
		cfg.rate = n
	}
	cfg.every = max(cfg.duration/20, time.Second)
	return cfg
}

// soakCounters counts what the load did.
type soakCounters struct {
	webhooks, webhookFailures, duplicates atomic.Int64
	callbacks, callbacksThrottled         atomic.Int64
	callbackFailures                      atomic.Int64
	pages, pageFailures                   atomic.Int64
	streamed, streamsOpened               atomic.Int64
}

// soakWebhooks sends rate signed webhooks a second from 16 connections:
// the next event of a user picked at random from 256 in progress (a user
// whose history is done is replaced by a new one), and every 50th event a
// second time, as a retry.
func soakWebhooks(ctx context.Context, base string, rate int, c *soakCounters) {
	g := simulate.NewGenerator(42, "soak", time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC))
	r := rand.New(rand.NewPCG(42, 1))
	active := make([][]simulate.Event, 256)
	for i := range active {
		active[i] = g.User()
	}
	queue := make(chan simulate.Event, 256)
	load := newSignedLoad(base)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for ev := range queue {
				code, err := simulate.Deliver(ctx, load.client, load.url, childSecret, ev)
				switch {
				case err == nil && code == http.StatusOK:
					c.webhooks.Add(1)
				case ctx.Err() == nil:
					c.webhookFailures.Add(1)
				}
			}
		})
	}
	const slot = 10 * time.Millisecond
	tick := time.NewTicker(slot)
	defer tick.Stop()
	var sent, due float64
	var last simulate.Event
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			due += float64(rate) * slot.Seconds()
			for ; sent < due; sent++ {
				ev := last
				if int(sent)%50 != 49 || last.ID == "" {
					i := r.IntN(len(active))
					if len(active[i]) == 0 {
						active[i] = g.User()
					}
					ev, active[i] = active[i][0], active[i][1:]
				} else {
					c.duplicates.Add(1)
				}
				last = ev
				select {
				case queue <- ev:
				case <-ctx.Done():
				}
			}
		}
	}
	close(queue)
	wg.Wait()
	load.client.CloseIdleConnections()
}

// soakCallbacks posts 10 widget callbacks a second, spread over 8 connect
// links with a widget session each (within their limits).
func soakCallbacks(ctx context.Context, b *testing.B, store *models.Store, base string, c *soakCounters) {
	type target struct{ code, body string }
	var targets []target
	now := time.Now()
	for i := range 8 {
		l, err := store.CreateLink(context.Background(), models.NewLink{ExternalRef: fmt.Sprintf("soak-%d", i), Label: "Soak", CreatedBy: "test", Now: now})
		if err == nil {
			l, err = store.AttachSmileUser(context.Background(), l.ID, fmt.Sprintf("u-soak-%d", i))
		}
		var session string
		if err == nil {
			session, _, err = store.CreateWidgetSession(context.Background(), l, now, 24*time.Hour)
		}
		if err != nil {
			b.Error(err)
			return
		}
		targets = append(targets, target{l.Code, fmt.Sprintf(`{"callback":"onClose","args":{"reason":"soak"},"session":%q}`, session)})
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := targets[i%len(targets)]
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/connect/"+t.code+"/events", strings.NewReader(t.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				c.callbackFailures.Add(1)
			}
			continue
		}
		drainBody(resp)
		switch resp.StatusCode {
		case http.StatusNoContent:
			c.callbacks.Add(1)
		case http.StatusTooManyRequests:
			c.callbacksThrottled.Add(1)
		default:
			c.callbackFailures.Add(1)
		}
	}
}

// soakPages views admin pages, 5 a second, as a signed-in admin.
func soakPages(ctx context.Context, admin *browser, base string, c *soakCounters) {
	paths := []string{"/admin", "/admin/events", "/admin/users", "/admin/deliveries", "/admin/links", "/metrics", "/readyz"}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+paths[i%len(paths)], nil)
		resp, err := admin.client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				c.pageFailures.Add(1)
			}
			continue
		}
		drainBody(resp)
		if resp.StatusCode == http.StatusOK {
			c.pages.Add(1)
		} else {
			c.pageFailures.Add(1)
		}
	}
}

// soakStreams keeps 4 live streams open and replaces one every 5 seconds, so
// that streams that end are seen to release what they held.
func soakStreams(ctx context.Context, admin *browser, base string, c *soakCounters) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var cancels []context.CancelFunc
	open := func() {
		sctx, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/admin/stream", nil)
			resp, err := admin.client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			c.streamsOpened.Add(1)
			lines := bufio.NewScanner(resp.Body)
			for lines.Scan() {
				if strings.HasPrefix(lines.Text(), "event: change") {
					c.streamed.Add(1)
				}
			}
		})
	}
	for range 4 {
		open()
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			cancels[0]()
			cancels = cancels[1:]
			open()
		}
	}
}
