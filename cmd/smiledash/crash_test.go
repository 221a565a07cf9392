package main

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// TestCrash_KillMidLoadLosesNothing runs the server as a child process, sends
// it the shuffled histories of 200 users from 16 connections, and
// kills it with SIGKILL mid-load: in the middle of commits (and of whatever
// projects them). Restarted on the same data, every event that was answered
// 200 must be stored; sending everything again must answer 200 for each and
// store each event exactly once; killed again right after that (when a
// projector following the log would be mid-batch) and restarted, the
// projections must equal a rebuild from the log (smiledash reproject on a
// copy), once the server has caught up.
// What it checks is observable from outside (answers, rows, projections), so
// it holds for any ingest design.
func TestCrash_KillMidLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child servers")
	}
	t.Run("sqlite", func(t *testing.T) { crashMidLoad(t, "") })
	t.Run("postgres", func(t *testing.T) { crashMidLoad(t, storetest.PostgresDSN(t)) })
}

func crashMidLoad(t *testing.T, dsn string) {
	dir, addr := t.TempDir(), freeAddr(t)
	vars := childVars(dir, dsn)
	events := shuffledEvents(11, 200)

	srv := startServer(t, addr, vars)
	loadStart := time.Now()
	load := newSignedLoad(srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sent := make(chan int, 1)
	go func() { sent <- load.send(ctx, events, 16) }()
	waitFor(t, func() bool { return load.ackedCount() >= len(events)/4 })
	srv.kill(t)
	cancel()
	if n := <-sent; n >= len(events) {
		t.Fatalf("all %d events were sent before the kill; the crash was not mid-load", n)
	}
	acked := append([]string(nil), load.acked...)
	t.Logf("killed after %s: %d of %d events acknowledged, statuses %v, %d transport errors",
		time.Since(loadStart).Round(time.Millisecond), len(acked), len(events), load.status, load.errors)

	began := time.Now()
	srv = startServer(t, addr, vars)
	t.Logf("restarted in %s", time.Since(began).Round(time.Millisecond))
	store := openChildStore(t, dir, dsn)
	if got := storedIDs(t, store, acked); got != len(acked) {
		t.Errorf("after the restart: %d of %d acknowledged events stored", got, len(acked))
	}

	began = time.Now()
	again := newSignedLoad(srv.URL)
	again.retries = 5
	again.send(context.Background(), events, 16)
	t.Logf("sent everything again in %s", time.Since(began).Round(time.Millisecond))
	if again.errors != 0 || again.status[http.StatusOK] != len(events) {
		t.Errorf("sending everything again: statuses %v, %d errors; want %d × 200", again.status, again.errors, len(events))
	}
	// Killed again the moment the last answer is in: a projector that
	// follows the log behind the acknowledgements is then mid-batch.
	srv.kill(t)
	srv = startServer(t, addr, vars)
	var total int64
	if err := store.DB().Model(&models.Event{}).Count(&total).Error; err != nil {
		t.Fatal(err)
	}
	if total != int64(len(events)) {
		t.Errorf("got %d stored events, want each of the %d exactly once", total, len(events))
	}
	assertProjectionsMatchRebuild(t, store, dir, dsn)
	began = time.Now()
	srv.stop(t)
	t.Logf("stopped in %s", time.Since(began).Round(time.Millisecond))
}

// assertProjectionsMatchRebuild copies the live store's event log into a
// fresh store, rebuilds the projections there from the log (Reproject, as
// `smiledash reproject` does) and waits up to a minute for the live
// projections to equal them: a projector that follows the log may still be
// catching up, but must end exactly where a rebuild does.
func assertProjectionsMatchRebuild(t *testing.T, live *models.Store, dir, dsn string) {
	t.Helper()
	ctx, began := context.Background(), time.Now()
	var rebuilt *models.Store
	if dsn == "" {
		path := filepath.Join(dir, "rebuilt.db")
		if err := live.DB().Exec("VACUUM INTO ?", path).Error; err != nil {
			t.Fatalf("copy the database: %v", err)
		}
		rebuilt = openChildStore(t, dir, path)
	} else {
		copyDSN := storetest.PostgresDSN(t)
		rebuilt = openChildStore(t, "", copyDSN)
		if _, err := rebuilt.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		from := searchPath(t, dsn)
		for _, table := range []string{"smile_users", "events"} {
			if err := rebuilt.DB().Exec("INSERT INTO " + table + " SELECT * FROM " + from + "." + table).Error; err != nil {
				t.Fatalf("copy %s: %v", table, err)
			}
		}
	}
	n, err := ingest.New(rebuilt).Reproject(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := storetest.Projections(t, rebuilt)
	var got string
	deadline := time.Now().Add(time.Minute)
	for {
		if got = storetest.Projections(t, live); got == want {
			t.Logf("projections equal a rebuild from %d events (rebuilt and compared in %s)", n, time.Since(began).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("the projections differ from a rebuild of %d events:\n%s", n, firstDifference(got, want))
}

// searchPath is the schema a test PostgreSQL URL selects.
func searchPath(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

// firstDifference shows the first line where two dumps differ.
func firstDifference(got, want string) string {
	g, w := splitLines(got), splitLines(want)
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "live:    " + a + "\nrebuilt: " + b
		}
	}
	return "(no line differs)"
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
