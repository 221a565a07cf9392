package simulate

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAppendUser measures generating one user's events into reused buffers,
// the work a load-generator worker does before timing a user.
func BenchmarkAppendUser(b *testing.B) {
	g := NewGenerator(1, "", testStart)
	var evs []Event
	var buf []byte
	events := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		evs, buf = g.appendUser(uint64(i), evs[:0], buf[:0])
		events += len(evs)
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}

// BenchmarkRun measures the sender against a receiver that only drains the body;
// allocations are per delivered event.
func BenchmarkRun(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	b.ReportAllocs()
	var sent int64
	for b.Loop() {
		rep, err := Run(context.Background(), Config{URL: srv.URL, Secret: testSecret, Users: 50, Concurrency: 4}, nil)
		if err != nil {
			b.Fatal(err)
		}
		sent += rep.Sent
	}
	b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "events/s")
}
