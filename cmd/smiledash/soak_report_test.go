package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// soakSample is the server's state at one moment.
type soakSample struct {
	at                  time.Duration
	rssKiB, liveHeapKiB int64
	goroutines, fds     int64
	webhooks            int64
}

// sample reads the child's resident set and open files from /proc, and its
// goroutines and live heap (after a GC) from its pprof endpoint.
func sample(b *testing.B, pid int, debugAddr string, at time.Duration, c *soakCounters) soakSample {
	s := soakSample{at: at, webhooks: c.webhooks.Load()}
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for line := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				s.rssKiB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.fds = int64(len(fds))
	}
	s.goroutines = pprofNumber(b, debugAddr, "/debug/pprof/goroutine?debug=1", "goroutine profile: total ")
	s.liveHeapKiB = pprofNumber(b, debugAddr, "/debug/pprof/heap?gc=1&debug=1", "# HeapAlloc = ") >> 10
	return s
}

// pprofNumber reads the number after prefix in a text profile.
func pprofNumber(b *testing.B, addr, path, prefix string) int64 {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		b.Logf("pprof %s: %v", path, err)
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}

// reportSoak prints the samples and judges them: memory between the middle
// and the end of the loaded run, goroutines and open files between the idle
// server before and after it (in-flight requests hold both, so only idle
// moments compare fairly).
func reportSoak(b *testing.B, before soakSample, loaded []soakSample, after soakSample, c *soakCounters, took time.Duration) {
	if len(loaded) < 2 {
		b.Fatalf("only %d samples under load: run longer", len(loaded))
	}
	var t strings.Builder
	fmt.Fprintf(&t, "\n%-6s %8s %9s %10s %10s %6s %9s\n", "", "elapsed", "RSS MB", "live heap", "goroutines", "fds", "webhooks")
	row := func(label string, s soakSample) {
		fmt.Fprintf(&t, "%-6s %8s %9.1f %8.1fMB %10d %6d %9d\n", label, s.at.Round(time.Second), float64(s.rssKiB)/1024,
			float64(s.liveHeapKiB)/1024, s.goroutines, s.fds, s.webhooks)
	}
	row("idle", before)
	for _, s := range loaded {
		row("load", s)
	}
	row("idle", after)
	b.Log(t.String())
	b.Logf("load: %d webhooks acknowledged (%.0f/s, %d repeated), %d failed; %d callbacks stored, %d throttled, %d failed; "+
		"%d page views, %d failed; %d streams opened, %d live changes received",
		c.webhooks.Load(), float64(c.webhooks.Load())/took.Seconds(), c.duplicates.Load(), c.webhookFailures.Load(),
		c.callbacks.Load(), c.callbacksThrottled.Load(), c.callbackFailures.Load(), c.pages.Load(), c.pageFailures.Load(),
		c.streamsOpened.Load(), c.streamed.Load())
	if c.webhookFailures.Load() > 0 || c.callbackFailures.Load() > 0 || c.pageFailures.Load() > 0 {
		b.Errorf("requests failed under a load the server should carry")
	}
	mid, end := loaded[len(loaded)/2], loaded[len(loaded)-1]
	growth := func(from, to int64) float64 { return 100 * float64(to-from) / float64(max(from, 1)) }
	b.Logf("under load, middle → end: RSS %+.1f%%, live heap %+.1f%%; idle, before → after: goroutines %d → %d, open files %d → %d",
		growth(mid.rssKiB, end.rssKiB), growth(mid.liveHeapKiB, end.liveHeapKiB), before.goroutines, after.goroutines, before.fds, after.fds)
	if after.goroutines > before.goroutines+5 {
		b.Errorf("goroutines of the idle server grew from %d to %d", before.goroutines, after.goroutines)
	}
	// Database pools keep up to their idle limit of connections (and
	// SQLite's WAL files) open once they have been busy, so idle files are
	// judged against the first sample under load, when the pools have filled.
	if after.fds > loaded[0].fds {
		b.Errorf("open files of the idle server (%d) exceed those under load at the start (%d)", after.fds, loaded[0].fds)
	}
	if end.liveHeapKiB > mid.liveHeapKiB*3/2+4096 {
		b.Errorf("live heap grew from %d KiB to %d KiB in the second half", mid.liveHeapKiB, end.liveHeapKiB)
	}
	b.ReportMetric(float64(c.webhooks.Load())/took.Seconds(), "webhooks/s")
	b.ReportMetric(float64(end.rssKiB)/1024, "rss-end-MB")
	b.ReportMetric(float64(end.liveHeapKiB)/1024, "live-heap-end-MB")
	b.ReportMetric(float64(after.goroutines), "idle-goroutines-end")
	b.ReportMetric(float64(after.fds), "idle-fds-end")
}
