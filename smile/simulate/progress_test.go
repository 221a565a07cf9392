package simulate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestProgressLine_InFlightIsNotFailed checks a progress line keeps requests
// waiting for their answer apart from failed ones.
func TestProgressLine_InFlightIsNotFailed(t *testing.T) {
	got := progressLine{Elapsed: 2 * time.Second, Users: 40, Sent: 800, Acked: 790, Failed: 2, EventsPerSec: 395}.String()
	want := "    2.0s  users 40  sent 800  acknowledged 790  in flight 8  failed 2  395 events/s"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// lineWatcher is a progress writer that closes seen once a line contains want.
type lineWatcher struct {
	want string
	mu   sync.Mutex
	all  strings.Builder
	seen chan struct{}
	once sync.Once
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	if strings.Contains(string(p), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// TestRun_ProgressShowsInFlight holds every request at the receiver until a
// progress line has shown them in flight with none failed, then lets them
// through: the final report must agree that none failed.
func TestRun_ProgressShowsInFlight(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	watch := &lineWatcher{want: "acknowledged 0  in flight 2  failed 0", seen: make(chan struct{})}
	done := make(chan Report, 1)
	go func() {
		rep, err := Run(context.Background(), Config{URL: srv.URL, Secret: testSecret, Users: 2, Concurrency: 2,
			ProgressInterval: 5 * time.Millisecond}, watch)
		if err != nil {
			t.Errorf("run: %v", err)
		}
		done <- rep
	}()
	select {
	case <-watch.seen:
	case <-time.After(30 * time.Second):
		t.Fatal("no progress line showed the two held requests in flight")
	}
	close(release)
	rep := <-done
	if rep.Failed() != 0 || rep.Acknowledged != rep.Sent {
		t.Errorf("got %d failed of %d sent, want none failed", rep.Failed(), rep.Sent)
	}
	watch.mu.Lock()
	defer watch.mu.Unlock()
	if strings.Contains(watch.all.String(), "failed 1") || strings.Contains(watch.all.String(), "failed 2") {
		t.Errorf("got progress %q, want no request counted failed", watch.all.String())
	}
}
