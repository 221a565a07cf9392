package handlers_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkExportEvents streams every one of the page benchmark's 1,000,000
// events as CSV and as NDJSON over a real loopback connection, reading the
// response as a client would, and reports the peak Go heap in use and the peak
// resident memory of the process while it runs (sampled every 10 ms), against
// the figures just before. Run with:
//
//	go test ./handlers -run '^$' -bench BenchmarkExportEvents -benchtime 1x
func BenchmarkExportEvents(b *testing.B) {
	store := benchStore(b)
	app := appOn(b, store).app
	cookie := benchSignIn(b, app, store)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })

	for _, format := range []string{"csv", "ndjson"} {
		b.Run(format, func(b *testing.B) {
			var lines, size int64
			var peakHeap, baseHeap, peakRSS, baseRSS uint64
			for b.Loop() {
				runtime.GC()
				baseHeap, baseRSS = heapInuse(), residentBytes()
				peakHeap, peakRSS = baseHeap, baseRSS
				stop, done := make(chan struct{}), sync.WaitGroup{}
				done.Add(1)
				go func() {
					defer done.Done()
					tick := time.NewTicker(10 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							peakHeap, peakRSS = max(peakHeap, heapInuse()), max(peakRSS, residentBytes())
						}
					}
				}()
				req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/admin/export/events?format="+format, nil)
				req.AddCookie(cookie)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				counter := &lineCounter{}
				size, err = io.Copy(counter, resp.Body)
				resp.Body.Close()
				close(stop)
				done.Wait()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("got %d after %d bytes: %v", resp.StatusCode, size, err)
				}
				lines = counter.n
			}
			if want := int64(benchEvents); lines < want {
				b.Fatalf("got %d lines, want at least %d", lines, want)
			}
			mb := func(v uint64) float64 { return float64(v) / (1 << 20) }
			b.ReportMetric(float64(lines), "lines")
			b.ReportMetric(float64(size)/(1<<20), "body-MB")
			b.ReportMetric(mb(baseHeap), "heap-before-MB")
			b.ReportMetric(mb(peakHeap), "heap-peak-MB")
			b.ReportMetric(mb(baseRSS), "rss-before-MB")
			b.ReportMetric(mb(peakRSS), "rss-peak-MB")
		})
	}
}

func heapInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// residentBytes is the process's resident set (Linux), which also counts
// SQLite's C allocations; 0 where /proc is missing.
func residentBytes() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

type lineCounter struct{ n int64 }

func (l *lineCounter) Write(p []byte) (int, error) {
	l.n += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
